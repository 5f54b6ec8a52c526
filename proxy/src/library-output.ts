/**
 * What libraries print, as JSON lines of the audit stream: the proxy's stdout carries nothing
 * else, so that every line of it parses. mockttp prints with `console` (a failed handshake it
 * cannot classify, for one: several lines of an error dump); each call becomes one
 * `library_message` line with the first line of its text, bounded.
 */
import { format } from "node:util";
import { eventLine, type AuditSink } from "./audit/audit-log";

/** mockttp's text for what the proxy reports itself (a `tls_failed` line, mockttp/egress-proxy.ts): not repeated. */
const REPORTED_ELSEWHERE = ["Unknown TLS error:"];

const MAX_TEXT = 300;

const LEVELS = ["log", "info", "warn", "error", "debug", "trace"] as const;

type ConsoleLike = Record<(typeof LEVELS)[number], (...args: unknown[]) => void>;

/** Replace the console's printing methods (of `target`, the process's console by default) with lines to `sink`. */
export function routeConsole(sink: AuditSink, bottle: string, target: ConsoleLike = console): void {
  for (const level of LEVELS) {
    target[level] = (...args: unknown[]) => {
      const first = args[0];
      if (typeof first === "string" && REPORTED_ELSEWHERE.some((p) => first.startsWith(p))) return;
      const text = (format(...args).split("\n")[0] ?? "").slice(0, MAX_TEXT);
      sink(eventLine("library_message", { bottle, level, text }));
    };
  }
}
