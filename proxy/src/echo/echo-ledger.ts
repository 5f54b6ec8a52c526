/**
 * What one exchange's audit line says about echoed tokens: the action taken, and where each
 * token was found and in which encoding, by slot and route. Never a value: places whose name
 * came from the upstream (a header name) are given as redacted.
 */
import type { EchoFinding } from "./echo-scan";

export interface EchoAudit {
  action: "redacted" | "blocked";
  /** The first findings (at most MAX_LISTED), in the order found. */
  found: { route: number | null; token_env: string; where: string; encoding: string }[];
  count: number;
  /** Why a response was refused without a token found in it: it could not be searched. */
  reason?: string;
}

const MAX_LISTED = 8;

export class EchoLedger {
  #found: EchoAudit["found"] = [];
  #count = 0;
  #blocked = false;
  #reason: string | undefined;

  constructor(private readonly routeOf: ReadonlyMap<string, number>) {}

  /** `where`: `status`, `header:<name>`, `trailer:<name>`, `body` or `ws`; an offset is added for streams. */
  add(where: string, findings: readonly EchoFinding[], withOffset: boolean): void {
    for (const f of findings) {
      this.#count++;
      if (this.#found.length >= MAX_LISTED) continue;
      this.#found.push({ route: this.routeOf.get(f.tokenEnv) ?? null, token_env: f.tokenEnv, where: withOffset ? `${where}@${f.at}` : where, encoding: f.encoding });
    }
  }

  /** The response was cut or refused rather than relayed redacted; `unsearchable` says why when no token was found. */
  blocked(unsearchable?: string): void {
    this.#blocked = true;
    this.#reason ??= unsearchable;
  }

  audit(): EchoAudit | undefined {
    if (this.#count === 0 && this.#reason === undefined) return undefined;
    const audit: EchoAudit = { action: this.#blocked ? "blocked" : "redacted", found: this.#found, count: this.#count };
    return this.#reason === undefined ? audit : { ...audit, reason: this.#reason };
  }
}
