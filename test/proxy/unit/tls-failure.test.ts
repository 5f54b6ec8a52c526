import assert from "node:assert/strict";
import { routeConsole } from "../../../proxy/src/library-output";
import { describeTlsFailure } from "../../../proxy/src/audit/tls-failure";

describe("failed TLS handshakes, described", () => {
  const cases: [string, string | undefined, string, ReturnType<typeof describeTlsFailure>][] = [
    ["curl without the CA", "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA", "error:0A000418:SSL routines:ssl3_read_bytes:tlsv1 alert unknown ca:...:SSL alert number 48",
      { reason: "client rejected the certificate", alert: "unknown_ca", error: "ERR_SSL_TLSV1_ALERT_UNKNOWN_CA" }],
    ["an alert Node has no code for", undefined, "error:0A000412:SSL routines:ssl3_read_bytes:sslv3 alert bad certificate:../ssl/record/rec_layer_s3.c:1605:",
      { reason: "client rejected the certificate", alert: "bad_certificate" }],
    ["a client too old", "ERR_SSL_UNSUPPORTED_PROTOCOL", "error:0A000102:SSL routines:tls_early_post_process_client_hello:unsupported protocol",
      { reason: "no TLS version in common", error: "ERR_SSL_UNSUPPORTED_PROTOCOL" }],
    ["HTTP/2 only", "ERR_SSL_NO_APPLICATION_PROTOCOL", "error:0A0000EB:SSL routines:tls_handle_alpn:no application protocol",
      { reason: "no application protocol in common", error: "ERR_SSL_NO_APPLICATION_PROTOCOL" }],
    ["another alert", "ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR", "tlsv1 alert decrypt error", { reason: "client sent an alert", alert: "decrypt_error", error: "ERR_SSL_TLSV1_ALERT_DECRYPT_ERROR" }],
    ["a reset", "ECONNRESET", "read ECONNRESET", { reason: "connection reset during the handshake", error: "ECONNRESET" }],
    ["a code that is not one", "weird code: with text", "something", { reason: "handshake failed" }],
  ];
  for (const [name, code, message, expected] of cases) {
    it(`describes ${name}`, () => assert.deepEqual(describeTlsFailure(code, message), expected));
  }
});

describe("library output", () => {
  it("turns each console call into one bounded JSON line, and drops mockttp's text for what tls_failed reports", () => {
    const lines: string[] = [];
    const none = (..._args: unknown[]) => {};
    const fake = { log: none, info: none, warn: none, error: none, debug: none, trace: none };
    routeConsole((l) => lines.push(l), "b1", fake);
    fake.log("Unknown TLS error:", new Error("unsupported protocol"));
    fake.warn("Failed to handle websocket:", new Error(`first line\n    at stack ${"x".repeat(1000)}`));
    fake.error("x".repeat(1000));
    assert.equal(lines.length, 2);
    const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual({ event: a?.event, bottle: a?.bottle, level: a?.level, text: a?.text }, { event: "library_message", bottle: "b1", level: "warn", text: "Failed to handle websocket: Error: first line" });
    assert.equal(String(b?.text).length, 300);
  });
});
