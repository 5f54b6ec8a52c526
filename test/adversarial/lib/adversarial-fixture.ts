/**
 * The loopback bottle of the adversarial suite: `startFixture` (real proxy process, CONNECT
 * forward proxy standing in for pipelock, fake tokens) with every host name of the corpus mapped
 * to one recording upstream, so that a test can tell exactly what reached the far side.
 */
import { readdirSync, readFileSync } from "node:fs";
import net from "node:net";
import * as mockttp from "mockttp";
import { startIpTlsFront } from "../../helpers/ip-tls-front";
import { startFixture, type Fixture } from "../../helpers/proxy-fixture";
import { loadRouteSets } from "./corpus";

/** Host names (`name:port`) the forward proxy resolves to the recording upstream. */
export const CORPUS_HOSTS = [
  ...["api.github.test", "api.anthropic.test", "open.test", "plain.test", "ws.test", "reload.test", "evil.test", "a.wild.test", "b.a.wild.test", "wild.test"].flatMap((h) => [`${h}:443`, `${h}:80`]),
  "127.0.0.1:8088", "open.test:8443", "OPEN.TEST:443",
];

/** What the upstream saw of one request: enough to check path, method, Host and credentials. */
export interface SeenRequest {
  method: string;
  path: string;
  rawHeaders: [string, string][];
  /** Chunked-body trailers, which a credential could also ride in. */
  rawTrailers: [string, string][];
  body: string;
  /** The `x-corpus-case` probe the runner puts on every request, when present. */
  probe: string | undefined;
}

export interface AdversarialFixture extends Fixture {
  /** The forward proxy's host table (to restart it on the same port in fault tests). */
  forwardHosts: Record<string, number>;
  seen: SeenRequest[];
  /** WebSocket upgrades that reached the upstream. */
  /** WebSocket upgrades the upstream accepted, with their headers (credentials checked like requests). */
  seenWebSockets: SeenRequest[];
}

/**
 * Start the fixture with `routes` in force. The recording upstream answers 200 with a fixed
 * body; `/echo-headers` returns the request headers as JSON (an upstream that reflects
 * credentials, which the docs warn about); `/redirect` answers 302 to another host.
 */
export async function startAdversarialFixture(routes: unknown, env: Record<string, string> = {}): Promise<AdversarialFixture> {
  const seen: SeenRequest[] = [];
  const seenWebSockets: SeenRequest[] = [];
  let recorder: mockttp.Mockttp | undefined;
  let ipFront: { port: number; close(): Promise<void> } | undefined;
  let forwardHosts: Record<string, number> = {};
  const f = await startFixture({
    routes,
    env,
    extraHosts: async (upstreamCa) => {
      recorder = mockttp.getLocal({ https: { cert: upstreamCa.cert, key: upstreamCa.key }, http2: false, recordTraffic: false });
      await recorder.start();
      await recorder.forAnyRequest().always().thenCallback(async (req) => {
        // An agent that stalls or drops its upload aborts the body; record what is known.
        const body = (await req.body.getText().catch(() => "(aborted)")) ?? "";
        const probe = req.rawHeaders.find(([k]) => k.toLowerCase() === "x-corpus-case")?.[1];
        seen.push({ method: req.method, path: req.path, rawHeaders: req.rawHeaders, rawTrailers: req.rawTrailers ?? [], body, probe });
        // Explicit lengths: a close-delimited reply would end the agent's kept-alive connection.
        if (req.path === "/echo-headers") {
          const json = JSON.stringify(req.rawHeaders);
          return { statusCode: 200, headers: { "content-type": "application/json", "content-length": String(Buffer.byteLength(json)) }, body: json };
        }
        if (req.path === "/redirect") return { statusCode: 302, headers: { location: "https://evil.test/collect", "content-length": "0" }, body: "" };
        return { statusCode: 200, headers: { "x-recording-upstream": "1", "content-length": "16" }, body: "upstream reached" };
      });
      await recorder.forAnyWebSocket().always().thenPassivelyListen();
      recorder.on("websocket-request", (req) => {
        const probe = req.rawHeaders.find(([k]) => k.toLowerCase() === "x-corpus-case")?.[1];
        seenWebSockets.push({ method: req.method, path: req.path, rawHeaders: req.rawHeaders, rawTrailers: [], body: "", probe });
      });
      const recorderPort = recorder.port;
      forwardHosts = Object.fromEntries(CORPUS_HOSTS.map((h) => [h, recorderPort]));
      // The route's IP literal is verified against the certificate's IP addresses upstream.
      ipFront = await startIpTlsFront(upstreamCa, "127.0.0.1", recorder.port);
      forwardHosts["127.0.0.1:8088"] = ipFront.port;
      return forwardHosts;
    },
  });
  return {
    ...f,
    forwardHosts,
    seen,
    seenWebSockets,
    close: async () => {
      await f.close();
      await recorder?.stop();
      await ipFront?.close();
    },
  };
}

/** A port that was free a moment ago (random, outside mockttp's 8000+ range that parallel runs share). */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Count of `/proc/<pid>/fd` entries (Linux); undefined elsewhere. */
export function openFds(pid: number): number | undefined {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return undefined;
  }
}

/** Current and peak resident memory of a process in MB, from `/proc/<pid>/status`. */
export function rssMb(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? "0");
  return { rss: kb("VmRSS") / 1024, peak: kb("VmHWM") / 1024 };
}

/** The fixture with the corpus routes for a whole suite: started before its tests, closed after. */
export function useCorpusFixture(use: (fixture: AdversarialFixture) => void): void {
  let fixture: AdversarialFixture | undefined;
  before(async () => {
    fixture = await startAdversarialFixture(loadRouteSets().corpus);
    use(fixture);
  });
  after(async () => {
    await fixture?.close();
  });
}
