/**
 * The agent's body on its way upstream, searched as it streams: for the routes' placeholders
 * (route/placeholder-canary.ts, whenever the bottle has any, whatever the route's request
 * inspection says) and for secrets (inspect/dlp-scan.ts, when the route inspects). Each check
 * holds back only what it must (a placeholder's length; a window of request inspection), so a
 * finding stops the body before its first byte leaves. Without either, the body is piped as is.
 */
import type { ClientRequest, IncomingMessage } from "node:http";
import type { DlpFinding, DlpScanner } from "../inspect/dlp-scan";
import { DlpStream } from "../inspect/dlp-stream";
import { CanaryStream, type Canaries, type PlaceholderAudit } from "../route/placeholder-canary";

export interface BodyInspection {
  scanner: DlpScanner;
  /** Record a finding (once); the body stops when the scanner's mode is `block`. */
  found(finding: DlpFinding): void;
}

export interface BodyCanary {
  canaries: Canaries;
  /** Record the placeholder found; the body stops there, always. */
  found(placeholder: PlaceholderAudit): void;
}

/** What stopped a body: a placeholder, or a secret under `block`. */
export type BodyStop = { placeholder: PlaceholderAudit } | { secret: DlpFinding };

/** The first finding in a body read whole (a form admission read, a compressed body): nothing has left yet. */
export function checkWholeBody(body: Buffer, canary: BodyCanary | undefined, dlp: BodyInspection | undefined): BodyStop | undefined {
  const placeholder = canary?.canaries.inBytes(body, "body");
  if (placeholder) {
    canary?.found(placeholder);
    return { placeholder };
  }
  const secret = dlp && dlp.scanner.mode !== "off" ? DlpStream.scanAll(dlp.scanner, body) : undefined;
  if (!secret || !dlp) return undefined;
  dlp.found(secret);
  return dlp.scanner.mode === "block" ? { secret } : undefined;
}

/** Send the agent's body on `attempt`; `stop` is called (once) when a finding refuses the rest. */
export function sendBody(req: IncomingMessage, attempt: ClientRequest, canary: BodyCanary | undefined, dlp: BodyInspection | undefined, stop: (why: BodyStop) => void): void {
  const inspecting = dlp && dlp.scanner.mode !== "off" ? dlp : undefined;
  if (!canary && !inspecting) return void req.pipe(attempt);
  const canaryStream = canary && new CanaryStream(canary.canaries, "body");
  // request inspection ends at its first finding under `log`: the rest goes on unsearched by it
  let dlpStream = inspecting && new DlpStream(inspecting.scanner);
  // the head goes at once: an upstream may answer before the body, and it holds no body byte
  attempt.flushHeaders();
  const write = (bytes: Buffer) => {
    if (bytes.length && !attempt.write(bytes)) {
      req.pause();
      attempt.once("drain", () => req.resume());
    }
  };
  const halt = (why: BodyStop) => {
    req.off("data", onData);
    req.off("end", onEnd);
    stop(why);
  };
  /** Through request inspection: what may go now, or undefined when a secret stops the body. */
  const inspected = (bytes: Buffer, last: boolean): Buffer | undefined => {
    if (!dlpStream || !inspecting) return bytes;
    const pushed = bytes.length ? dlpStream.push(bytes) : { release: Buffer.alloc(0) };
    const ended = !pushed.finding && last ? dlpStream.end() : undefined;
    const finding = pushed.finding ?? ended?.finding;
    if (!finding) return ended ? Buffer.concat([pushed.release, ended.release]) : pushed.release;
    inspecting.found(finding);
    if (inspecting.scanner.mode === "block") return void halt({ secret: finding });
    // `log`: what was gathered (this chunk included) goes, and the rest as it comes
    const rest = pushed.finding ? Buffer.concat([pushed.release, dlpStream.drop()]) : ended?.release ?? Buffer.alloc(0);
    dlpStream = undefined;
    return rest;
  };
  const onData = (chunk: Buffer) => {
    let bytes = chunk;
    if (canaryStream && canary) {
      const r = canaryStream.push(chunk);
      if (r.found) {
        canary.found(r.found);
        return halt({ placeholder: r.found });
      }
      bytes = r.out;
    }
    const out = inspected(bytes, false);
    if (out) write(out);
  };
  const onEnd = () => {
    const out = inspected(canaryStream ? canaryStream.end() : Buffer.alloc(0), true);
    if (out) attempt.end(out);
  };
  req.on("data", onData);
  req.once("end", onEnd);
}
