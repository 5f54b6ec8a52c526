/**
 * A client that refuses the bottle's certificate, or shares no TLS version or application
 * protocol with the proxy, leaves one `tls_failed` line naming the reason, the client's alert
 * when it sent one, and the host it asked for; and the proxy's stdout holds JSON lines only.
 * Real clients on loopback: curl without the bottle CA, Node's TLS with settings the proxy refuses.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import tls from "node:tls";
import { pollUntil } from "../helpers/deadline";
import { startFixture, type Fixture } from "../helpers/proxy-fixture";
import { connectTunnel } from "../helpers/raw-http";

type Line = Record<string, unknown>;

/** Run curl (bounded); resolves with its exit code. */
function curl(args: string[]): Promise<number> {
  return new Promise((resolve) => {
    // -q: no ~/.curlrc; no proxy variables but the -x given
    execFile("curl", ["-q", "-sS", "--max-time", "10", ...args], { timeout: 15_000, env: { PATH: process.env.PATH ?? "/usr/bin:/bin" } }, (err) => resolve(err ? Number((err as { code?: unknown }).code ?? 1) : 0));
  });
}

/** A TLS handshake through a tunnel with `options`; resolves with the client's error, if any. */
async function handshake(f: Fixture, host: string, options: tls.ConnectionOptions): Promise<Error | undefined> {
  const socket = await connectTunnel(f.proxy.port, `${host}:443`);
  return new Promise((resolve) => {
    const t = tls.connect({ socket, servername: host, ca: f.bottleCa.cert, ...options });
    const timer = setTimeout(() => {
      t.destroy();
      resolve(new Error("handshake timed out"));
    }, 10_000);
    t.once("error", (e) => {
      clearTimeout(timer);
      resolve(e);
    });
    t.once("secureConnect", () => {
      clearTimeout(timer);
      t.destroy();
      resolve(undefined);
    });
  });
}

describe("egress proxy: failed TLS handshakes", function () {
  this.timeout(60_000);
  let f: Fixture;
  before(async () => {
    f = await startFixture();
  });
  after(async () => {
    await f?.close();
  });
  const failedFor = (connect: string, since: number) =>
    pollUntil(`a tls_failed line for ${connect}`, () => f.proxy.events("tls_failed").slice(since).find((l: Line) => l.connect === connect));

  it("logs a client that does not trust the bottle CA, with its alert (curl: unknown_ca)", async () => {
    const since = f.proxy.events("tls_failed").length;
    // no --cacert: curl verifies against the system store, which does not hold the bottle CA
    const code = await curl(["-x", `http://127.0.0.1:${f.proxy.port}`, "https://open.test/"]);
    assert.equal(code, 60, "curl did not fail on the certificate");
    const line = await failedFor("open.test:443", since);
    assert.deepEqual(
      { reason: line.reason, alert: line.alert, sni: line.sni, bottle: line.bottle },
      { reason: "client rejected the certificate", alert: "unknown_ca", sni: "open.test", bottle: "test" },
    );
  });

  it("logs a client whose newest TLS version is older than the proxy's oldest", async () => {
    const since = f.proxy.events("tls_failed").length;
    const err = await handshake(f, "api.github.test", { minVersion: "TLSv1", maxVersion: "TLSv1.1" });
    assert.match(String(err?.message), /protocol version/);
    const line = await failedFor("api.github.test:443", since);
    assert.equal(line.reason, "no TLS version in common");
    assert.equal(line.error, "ERR_SSL_UNSUPPORTED_PROTOCOL");
  });

  it("logs a client that offers only HTTP/2", async () => {
    const since = f.proxy.events("tls_failed").length;
    const err = await handshake(f, "api.anthropic.test", { ALPNProtocols: ["h2"] });
    assert.match(String(err?.message), /no application protocol/);
    const line = await failedFor("api.anthropic.test:443", since);
    assert.equal(line.reason, "no application protocol in common");
  });

  it("still serves a client that trusts the CA, and writes nothing but JSON lines to stdout", async () => {
    assert.equal(await handshake(f, "open.test", {}), undefined);
    await pollUntil("three tls_failed lines", () => (f.proxy.events("tls_failed").length >= 3 ? true : undefined));
    assert.ok(f.proxy.stdout.length > 0);
    for (const line of f.proxy.stdout) {
      assert.doesNotThrow(() => JSON.parse(line), `not a JSON line on stdout: ${line.slice(0, 120)}`);
      assert.equal(typeof (JSON.parse(line) as Line).event, "string");
    }
  });
});
