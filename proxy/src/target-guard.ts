/**
 * mockttp's connect app routes every request through `url.parse(req.url)`, which throws on
 * targets such as `http://[::1/`; thrown there, the error escapes every handler and ends the
 * process (every bottle would lose egress). And a path that does not start with `/` (`OPTIONS *`,
 * `http://plain%2etest/`) makes connect skip every handler and answer its own 404 page, which
 * echoes method and path. The guard runs first, parses the target the same way, and replaces
 * such a target with a harmless `/`, marking the request so that admission refuses it as a
 * malformed destination.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import url from "node:url";
import type { Mockttp } from "mockttp";

type Listener = ((req: IncomingMessage, res: ServerResponse, next?: () => void) => void) & { stack?: unknown };

/** Would connect parse this target and hand it to its handlers? */
function routable(target: string): boolean {
  try {
    // eslint-disable-next-line n/no-deprecated-api -- the parser connect uses, so the same inputs fail
    const pathname = url.parse(target).pathname;
    return pathname === null || pathname.startsWith("/");
  } catch {
    return false;
  }
}

/** Install the guard around mockttp's request listener (before `start()`). */
export function guardUnparseableTargets(server: Mockttp, unparseable: WeakSet<object>): void {
  const holder = server as unknown as { app?: Listener };
  const app = holder.app;
  if (typeof app !== "function") throw new Error("mockttp internals changed: no request listener to guard; pin mockttp to the tested version");
  const guarded: Listener = (req, res, next) => {
    if (!routable(req.url ?? "/")) {
      unparseable.add(req);
      req.url = "/";
    }
    return app(req, res, next);
  };
  guarded.stack = app.stack;
  holder.app = guarded;
}
