/**
 * The agent's environment as the bottle sets it (components/agent-runtime-env.ts), given to real
 * clients that no one here wrote: Java's HttpClient and HttpURLConnection, curl, Python's urllib.
 * Each reaches an allowed route through the real proxy process on loopback with nothing but that
 * environment (the proxy's address swapped for the loopback one), trusting the bottle CA, and the
 * route's credential is injected. A client without it fails, so the environment is what works.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { agentRuntimeEnv } from "../../components/agent-runtime-env";
import { AGENT_CA_FILE, AGENT_JAVA_TRUSTSTORE_FILE, JAVA_TRUSTSTORE_ALIAS, PROXY_URL } from "../../components/constants";
import { javaTrustStore } from "../../components/java-truststore";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { startFixture, type Fixture } from "../helpers/proxy-fixture";

const run = promisify(execFile);
const CLIENT_SECONDS = 60;

/** Whether a client is installed here (the suite skips a client that is not). */
async function have(tool: string): Promise<boolean> {
  const args: Record<string, string[]> = { java: ["-version"], go: ["version"] };
  return run(tool, args[tool] ?? ["--version"], { timeout: 20_000 }).then(() => true, () => false);
}

const JAVA_CLIENT = `
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
public class Main {
  public static void main(String[] args) throws Exception {
    // the default client: the default ProxySelector reads https.proxyHost/Port
    HttpResponse<String> a = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(args[0])).build(), HttpResponse.BodyHandlers.ofString());
    java.net.HttpURLConnection b = (java.net.HttpURLConnection) URI.create(args[0]).toURL().openConnection();
    System.out.println(a.statusCode() + " " + b.getResponseCode());
  }
}
`;

const GO_BUILD_SECONDS = 180;
const GO_CLIENT = `package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	// http.DefaultTransport: ProxyFromEnvironment, and crypto/x509 reads SSL_CERT_FILE
	res, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	body, _ := io.ReadAll(res.Body)
	fmt.Println(res.StatusCode, string(body))
}
`;

describe("the agent's runtime environment, with real clients through the real proxy", function () {
  this.timeout(CLIENT_SECONDS * 3 * 1000);
  let f: Fixture | undefined;
  let env: Record<string, string> = {};
  let dir = "";
  let seen: () => Promise<string[]> = async () => [];

  before(async () => {
    f = await startFixture();
    const endpoint = await f.upstream.forGet("/user").thenReply(200, "hello from upstream");
    seen = async () => (await endpoint.getSeenRequests()).map((r) => String(r.headers.authorization));
    dir = mkdtempSync(path.join(tmpdir(), "bot-bottle-runtimes-"));
    const caFile = path.join(dir, "ca.pem");
    const storeFile = path.join(dir, "ca.p12");
    writeFileSync(caFile, f.bottleCa.cert);
    writeFileSync(storeFile, javaTrustStore(f.bottleCa.cert, JAVA_TRUSTSTORE_ALIAS));
    const proxyUrl = `http://127.0.0.1:${f.proxy.port}`;
    // the bottle's values with its paths and the proxy's address made local: nothing else changes
    env = Object.fromEntries(agentRuntimeEnv().map(([name, value]) => [name, value
      .replaceAll(PROXY_URL, proxyUrl)
      .replaceAll("-Dhttps.proxyHost=egress-proxy", "-Dhttps.proxyHost=127.0.0.1")
      .replaceAll("-Dhttp.proxyHost=egress-proxy", "-Dhttp.proxyHost=127.0.0.1")
      .replaceAll("proxyPort=8080", `proxyPort=${f?.proxy.port}`)
      .replaceAll(AGENT_JAVA_TRUSTSTORE_FILE, storeFile)
      .replaceAll(AGENT_CA_FILE, caFile)]));
    // the test hosts are mapped by the proxy's upstream hop: keep them off NO_PROXY as in a bottle
    env.PATH = process.env.PATH ?? "/usr/bin:/bin";
    env.HOME = dir;
  });

  after(async () => {
    await f?.close();
  });

  /** Requests the proxy allowed to the credentialed route so far. */
  function injected(): number {
    return f?.proxy.events("decision").filter((d) => d.host === "api.github.test" && d.verdict === "allow").length ?? 0;
  }

  it("lets Java's HttpClient and HttpURLConnection through, trusting the bottle CA from JAVA_TOOL_OPTIONS", async function () {
    if (!(await have("java"))) return this.skip();
    const src = path.join(dir, "Main.java");
    writeFileSync(src, JAVA_CLIENT);
    const before = injected();
    const out = await run("java", [src, "https://api.github.test/user"], { env, timeout: CLIENT_SECONDS * 1000 });
    assert.equal(out.stdout.trim(), "200 200");
    assert.match(out.stderr, /Picked up JAVA_TOOL_OPTIONS/);
    assert.equal(injected() - before, 2, "both requests went through the proxy");
    assert.deepEqual((await seen()).slice(-2), [`Bearer ${FAKE_TOKENS.github}`, `Bearer ${FAKE_TOKENS.github}`]);
    // the trust store is what makes it work: the same options without it end in PKIX, at the proxy
    const options = (env.JAVA_TOOL_OPTIONS ?? "").split(" ").filter((o) => !o.startsWith("-Djavax.net.ssl.")).join(" ");
    const bare = await run("java", [src, "https://api.github.test/user"], { env: { ...env, JAVA_TOOL_OPTIONS: options }, timeout: CLIENT_SECONDS * 1000 }).then(() => "", (e: Error) => e.message);
    assert.match(bare, /PKIX path building failed/);
  });

  it("lets curl and Python's urllib through with the proxy and CA variables alone", async function () {
    if (!(await have("curl")) || !(await have("python3"))) return this.skip();
    const before = injected();
    const curl = await run("curl", ["-sS", "https://api.github.test/user"], { env, timeout: CLIENT_SECONDS * 1000 });
    assert.equal(curl.stdout, "hello from upstream");
    const py = await run("python3", ["-c", "import urllib.request; print(urllib.request.urlopen('https://api.github.test/user').read().decode())"], { env, timeout: CLIENT_SECONDS * 1000 });
    assert.equal(py.stdout.trim(), "hello from upstream");
    assert.equal(injected() - before, 2);
  });

  it("lets Go's net/http through with the proxy and CA variables alone", async function () {
    if (!(await have("go"))) return this.skip();
    this.timeout(GO_BUILD_SECONDS * 1000 + CLIENT_SECONDS * 1000);
    const src = path.join(dir, "main.go");
    writeFileSync(src, GO_CLIENT);
    // the machine's own build cache (a first build of net/http takes a while on 2 cores)
    const goEnv = { ...env, HOME: process.env.HOME ?? dir, GO111MODULE: "off", GOTOOLCHAIN: "local" };
    const out = await run("go", ["run", src, "https://api.github.test/user"], { env: goEnv, timeout: GO_BUILD_SECONDS * 1000, cwd: dir });
    assert.equal(out.stdout.trim(), "200 hello from upstream");
    assert.equal((await seen()).at(-1), `Bearer ${FAKE_TOKENS.github}`);
  });

  it("lets npm through even where the image's npmrc pins another CA file", async function () {
    if (!(await have("npm"))) return this.skip();
    const packument = { name: "bottle-probe", "dist-tags": { latest: "1.0.0" }, versions: { "1.0.0": { name: "bottle-probe", version: "1.0.0", dist: { tarball: "https://open.test/bottle-probe/-/bottle-probe-1.0.0.tgz", shasum: "0".repeat(40) } } } };
    await f?.upstream.forGet("/bottle-probe").thenJson(200, packument);
    // an image's own setting: a CA that is not the bottle's (SELF_SIGNED_CERT_IN_CHAIN without the variable)
    const npmrc = path.join(dir, "npmrc");
    writeFileSync(npmrc, `cafile=${f?.upstreamCa.certFile}\nfetch-retries=0\n`);
    const npmEnv: Record<string, string> = { ...env, npm_config_userconfig: npmrc, npm_config_cache: path.join(dir, "npm-cache"), npm_config_update_notifier: "false" };
    const out = await run("npm", ["view", "bottle-probe", "version", "--registry", "https://open.test/"], { env: npmEnv, timeout: CLIENT_SECONDS * 1000 });
    assert.equal(out.stdout.trim(), "1.0.0");
    // a cache of its own: the first answer would be served from the cache otherwise
    const { npm_config_cafile: _, ...rest } = npmEnv;
    const without = { ...rest, npm_config_cache: path.join(dir, "npm-cache-2") };
    const refused = await run("npm", ["view", "bottle-probe", "version", "--registry", "https://open.test/"], { env: without, timeout: CLIENT_SECONDS * 1000 }).then(() => "", (e: Error) => e.message);
    assert.match(refused, /SELF_SIGNED_CERT_IN_CHAIN|unable to get local issuer|UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
  });

  it("puts no credential in the environment it hands the agent", () => {
    const all = JSON.stringify(agentRuntimeEnv());
    for (const token of Object.values(FAKE_TOKENS)) assert.ok(!all.includes(token));
  });
});
