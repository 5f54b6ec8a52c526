/**
 * End to end: a coding agent's working day in a real bottle (the real program, applied to the
 * local engine as in bottle.test.ts), with the test-agent image (Debian's git, Python with pip
 * and requests, Node with npm, Java 17) against servers no one here wrote, on the outside
 * network behind the test-forward-proxy: git's own `git http-backend`, an npm registry of
 * `npm pack` tarballs, a PEP 503 index and an SSE stream (test/e2e/workday/servers.js).
 * Every route keeps the default inspection settings.
 *
 *   agent (test-agent image) ─▶ egress-proxy ─▶ test-forward-proxy ─▶ servers (git., registry., pypi., events.e2e.test)
 *
 * The git route is `basic` with the agent's placeholder in GITHUB_TOKEN; the workspace is
 * cloned from the git server on the agent's first start (`agent.workspace.git`).
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { docker, inspect } from "./lib/docker-cli";
import { api } from "./lib/engine-api";
import { requireEngine } from "./lib/engine-probe";
import { FORWARD_PROXY_IMAGE, jsonLines, runFixture } from "./lib/fixtures";
import { applyProgram } from "./lib/run-program";
import { cleanupScenario, decisions, prepareScenario, PROXY_IMAGE, waitHealthy, type Scenario } from "./lib/scenario";
import { pollUntil } from "../helpers/deadline";
import {
  buildWorkdayServers, EVENTS_HOST, GIT_HOST, GIT_USER, NPM_HOST, PYPI_HOST, TEST_AGENT_IMAGE, WORKDAY_HOSTS, WORKDAY_SERVERS_IMAGE,
} from "./lib/workday";

const FORWARD_ALIAS = "test-forward-proxy";
const FORWARD_PORT = 3128;
const GIT_TOKEN_REF = "gitToken";
/** The variable the contract's `agent_env` gives the agent its placeholder in. */
const PLACEHOLDER_ENV = "GITHUB_TOKEN";
const TOKEN = FAKE_TOKENS.github;
/** What git's server must see: the Basic form of the token, whichever way the route builds it. */
const BASIC = `Basic ${Buffer.from(`${GIT_USER}:${TOKEN}`).toString("base64")}`;
const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");
const PUSH_BYTES = 5 * 1024 * 1024;

const WORKSPACE = "/workspace";
/** The repository the workspace is cloned from on the agent's first start. */
const REPO_URL = `https://${GIT_HOST}/project.git`;

describe("@e2e a coding agent's working day in a bottle (git, npm, pip, Java, Python, SSE)", function () {
  this.timeout(120_000);
  let s: Scenario | undefined;
  let agent = "";
  let proxy = "";
  let egressNet = "";
  let forwardProxy = "";
  let servers = "";
  let pushed = "";
  const sc = (): Scenario => {
    if (!s) throw new Error("scenario not prepared");
    return s;
  };
  /** A shell script run by the agent's user in the agent, as the agent would run it. */
  const inAgent = (script: string, timeoutMs = 60_000, args: string[] = []) =>
    docker(["exec", "-e", "GIT_TERMINAL_PROMPT=0", agent, "bash", "-c", `set -euo pipefail\n${script}`, "bash", ...args], { allowFailure: true, timeoutMs });
  const serverLines = async () => (await jsonLines(servers)).filter((l) => l.event === "request");
  const refusals = async () => (await decisions(proxy)).filter((l) => l.verdict !== "allow" || (l.dlp as { action?: string } | undefined)?.action === "blocked");

  async function apply(extraRoutes: Record<string, unknown>[] = []): Promise<void> {
    const git = { host: GIT_HOST, auth: { basic: { username: GIT_USER }, token_ref: GIT_TOKEN_REF, agent_env: PLACEHOLDER_ENV } };
    const routes = [git, ...[NPM_HOST, PYPI_HOST, EVENTS_HOST].map((host) => ({ host })), ...extraRoutes];
    const config = {
      proxyImageName: PROXY_IMAGE,
      proxyBaseImage: "bot-bottle/base:bookworm",
      bottles: [{
        name: sc().bottle,
        // the test's volume goes with the bottle; a user's is kept (retain_on_destroy defaults to true)
        agent: { image: TEST_AGENT_IMAGE, workspace: { path: WORKSPACE, retain_on_destroy: false, git: { url: REPO_URL } } },
        pipelock: { url: `http://${FORWARD_ALIAS}:${FORWARD_PORT}` }, egress_proxy: { routes, upstream_ca_pem: sc().tls.caCert },
      }],
    };
    const out = (await applyProgram(sc().mocks, config, { [GIT_TOKEN_REF]: TOKEN })) as {
      outputs: Record<string, { containers: Record<string, string>; networks: Record<string, string> }>;
    };
    const mine = out.outputs[sc().bottle];
    assert.ok(mine, "the stack outputs name the bottle");
    agent = mine.containers.agent ?? "";
    proxy = mine.containers["egress-proxy"] ?? "";
    egressNet = mine.networks.egress ?? "";
    assert.ok(agent && proxy && egressNet, "the bottle has an agent, a proxy and an egress network");
  }

  before(async function () {
    this.timeout(420_000);
    await requireEngine(this, "@e2e workday");
    if (!(await inspect("image", TEST_AGENT_IMAGE))) {
      const why = `image ${TEST_AGENT_IMAGE} is missing (run: bash scripts/setup.sh)`;
      if (process.env.CI === "true") throw new Error(`@e2e workday: CI=true and ${why}`);
      console.log(`    @e2e workday: SKIPPED, ${why}`);
      this.skip();
    }
    s = await prepareScenario("wd", WORKDAY_HOSTS);
    await buildWorkdayServers();
    forwardProxy = await runFixture(s.runId, {
      name: `${s.bottle}-forward-proxy`,
      image: FORWARD_PROXY_IMAGE,
      networks: [{ name: s.outsideNet, aliases: [] }],
      env: { FWD_ALLOW: WORKDAY_HOSTS.map((h) => `${h}:443`).join(","), FWD_PORT: String(FORWARD_PORT) },
    });
    servers = await runFixture(s.runId, {
      name: `${s.bottle}-servers`,
      image: WORKDAY_SERVERS_IMAGE,
      networks: [{ name: s.outsideNet, aliases: [...WORKDAY_HOSTS] }],
      // a digest, not the value: the server compares what it gets with it
      env: { GIT_AUTH_SHA256: sha256(BASIC) },
      files: [
        { file: "/srv/tls/cert.pem", content: s.tls.cert, permissions: "0444" },
        // a throwaway test key, readable by the server's non-root user
        { file: "/srv/tls/key.pem", content: s.tls.key, permissions: "0444" },
      ],
    });
    await pollUntil("the servers listening", async () => ((await jsonLines(servers)).some((l) => l.event === "started") ? true : undefined), 15_000);
    await apply();
    // the operator's side of `pipelock: { url }`: the upstream proxy joins the bottle's egress network
    await api("POST", `/networks/${encodeURIComponent(egressNet)}/connect`, { Container: forwardProxy, EndpointConfig: { Aliases: [FORWARD_ALIAS] } });
    await waitHealthy(proxy);
  });

  after(async function () {
    this.timeout(120_000);
    if (s) {
      await api("POST", `/networks/${encodeURIComponent(egressNet)}/disconnect`, { Container: forwardProxy, Force: true }, { accept: [404, 500] }).catch(() => undefined);
      await s.mocks.destroy().catch((e: Error) => console.error(`    e2e teardown: ${e.message}`));
    }
    await cleanupScenario(s);
  });

  it("clones the workspace from the repository on the agent's first start, through the proxy", async () => {
    // the agent's start runs the clone; poll for its result rather than guess its duration
    const head = await pollUntil("the first-start clone in the workspace", async () => {
      const r = await inAgent(`git -C ${WORKSPACE} log --format=%s -1 2>/dev/null || true`);
      return r.stdout.trim() || undefined;
    }, 60_000);
    assert.equal(head, "first commit");
    const owner = await inAgent(`stat -c %u ${WORKSPACE}`);
    assert.equal(owner.stdout.trim().split("\n")[0], "10001", "the workspace is the agent's");
    const seen = (await serverLines()).filter((l) => l.host === GIT_HOST && l.service === "git-upload-pack");
    assert.ok(seen.length > 0 && seen.every((l) => l.auth === "ok"), "the clone carried the injected credential");
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("clones a repository over git's smart HTTP, the Basic credential injected by the proxy", async () => {
    const before = (await serverLines()).length;
    const r = await inAgent(`git clone -q https://${GIT_HOST}/project.git project && git -C project log --format=%s -1`);
    assert.equal(r.code, 0, `git clone failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), "first commit");
    const seen = (await serverLines()).slice(before).filter((l) => l.host === GIT_HOST);
    assert.ok(seen.some((l) => l.service === "git-upload-pack" && l.status === 200), "the server answered git-upload-pack");
    assert.deepEqual([...new Set(seen.map((l) => l.auth))], ["ok"], "every git request carried the injected Basic credential");
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("pushes a 5 MB commit to the server", async function () {
    this.timeout(90_000);
    const before = (await serverLines()).length;
    const r = await inAgent([
      "cd project",
      "git config user.name agent && git config user.email agent@bottle.e2e.test",
      `head -c ${PUSH_BYTES} /dev/urandom > data.bin`,
      "git add data.bin && git commit -q -m 'five megabytes of work'",
      "git push -q origin HEAD:main",
      "git rev-parse HEAD",
    ].join("\n"), 80_000);
    assert.equal(r.code, 0, `git push failed: ${r.stderr}`);
    pushed = r.stdout.trim();
    const onServer = await docker(["exec", servers, "git", "-C", "/srv/git/project.git", "rev-parse", "main"], { timeoutMs: 10_000 });
    assert.equal(onServer.stdout.trim(), pushed, "the server's main is the pushed commit");
    const size = await docker(["exec", servers, "git", "-C", "/srv/git/project.git", "cat-file", "-s", `${pushed}:data.bin`], { timeoutMs: 10_000 });
    assert.equal(Number(size.stdout.trim()), PUSH_BYTES);
    // git probes with a 4-byte POST before a pack larger than its post buffer, then streams the pack
    const posts = (await serverLines()).slice(before).filter((l) => l.service === "git-receive-pack" && l.method === "POST");
    const pack = posts.filter((l) => Number(l.body_bytes) > PUSH_BYTES);
    assert.equal(pack.length, 1, `one receive-pack POST carried the 5 MB (POST sizes: ${posts.map((l) => String(l.body_bytes)).join(", ")})`);
    assert.equal(pack[0]?.status, 200);
    assert.deepEqual([...new Set(posts.map((l) => l.authorization_sha256))], [sha256(BASIC)], "the server saw the Basic form of the token on every POST");
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("installs an npm package and its dependency from the local registry", async function () {
    this.timeout(90_000);
    const before = (await serverLines()).length;
    const r = await inAgent([
      "mkdir -p npm-app && cd npm-app && npm init -y >/dev/null",
      `npm install --registry https://${NPM_HOST}/ --no-audit --no-fund --fetch-retries 0 once`,
      "node -e 'const once = require(\"once\"); let n = 0; const f = once(() => ++n); f(); f(); console.log(n, require(\"wrappy/package.json\").version)'",
    ].join("\n"), 80_000);
    assert.equal(r.code, 0, `npm install failed: ${r.stderr}`);
    assert.equal(r.stdout.trim().split("\n").pop(), "1 1.0.2");
    const seen = (await serverLines()).slice(before).filter((l) => l.host === NPM_HOST);
    for (const name of ["once", "wrappy"]) {
      const doc = seen.find((l) => l.path === `/${name}`);
      assert.equal(doc?.kind, "packument-abbreviated", `npm asked for ${name}'s abbreviated packument`);
      assert.equal(doc?.npm_command, "install", "npm's npm-command header arrived");
      assert.ok(seen.some((l) => l.kind === "tarball" && String(l.path).startsWith(`/${name}/-/`) && l.status === 200), `${name}'s tarball was fetched`);
    }
    assert.match(String(seen[0]?.user_agent), /^npm\/9\./);
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("installs a wheel with pip from a PEP 503 index", async function () {
    this.timeout(90_000);
    const before = (await serverLines()).length;
    const r = await inAgent([
      "python3 -m venv venv",
      `venv/bin/pip install --quiet --retries 0 --timeout 20 --index-url https://${PYPI_HOST}/simple/ workday-greeting`,
      "venv/bin/python -c 'import workday_greeting; print(workday_greeting.greet(\"agent\"))'",
    ].join("\n"), 80_000);
    assert.equal(r.code, 0, `pip install failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), "hello agent from workday-greeting");
    const seen = (await serverLines()).slice(before).filter((l) => l.host === PYPI_HOST);
    assert.ok(seen.some((l) => l.path === "/simple/workday-greeting/" && l.kind === "project"), "pip read the project page");
    assert.ok(seen.some((l) => l.kind === "wheel" && l.status === 200), "pip fetched the wheel");
    assert.match(String(seen[0]?.user_agent), /^pip\//);
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("answers Python requests", async () => {
    const r = await inAgent(`python3 -c 'import requests; r = requests.get("https://${EVENTS_HOST}/hello", timeout=10); print(r.status_code, r.json()["ok"])'`);
    assert.equal(r.code, 0, `requests failed: ${r.stderr}`);
    assert.equal(r.stdout.trim(), "200 True");
    const last = (await serverLines()).filter((l) => l.host === EVENTS_HOST).pop();
    assert.match(String(last?.user_agent), /^python-requests\//);
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("streams server-sent events to curl as they are sent, not at the end", async () => {
    // each line stamped when it arrives: a buffered stream would arrive all at once
    const r = await inAgent(`curl -sS -N --max-time 20 https://${EVENTS_HOST}/stream | while IFS= read -r l; do if [ -n "$l" ]; then echo "$(date +%s%3N) $l"; fi; done`, 30_000);
    assert.equal(r.code, 0, `curl failed: ${r.stderr}`);
    const data = r.stdout.trim().split("\n").filter((l) => / data: /.test(l));
    assert.deepEqual(data.map((l) => l.split(" ").slice(1).join(" ")), [1, 2, 3, 4, 5].map((n) => `data: {"n":${n}}`));
    const spread = Number(data[4]?.split(" ")[0]) - Number(data[0]?.split(" ")[0]);
    assert.ok(spread >= 1_200, `the five events arrived within ${spread} ms of each other; the server spaces them by 400 ms`);
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("answers a Java HttpClient, from the JAVA_TOOL_OPTIONS the bottle sets", async function () {
    this.timeout(90_000);
    const source = [
      "import java.net.URI;",
      "import java.net.http.*;",
      "public class Main {",
      "  public static void main(String[] args) throws Exception {",
      "    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(args[0])).build(), HttpResponse.BodyHandlers.ofString());",
      "    System.out.println(r.statusCode() + \" \" + r.body().trim());",
      "  }",
      "}",
    ].join("\n");
    const r = await inAgent(`printf '%s\\n' "$1" > /tmp/Main.java && java /tmp/Main.java https://${EVENTS_HOST}/java`, 80_000, [source]);
    assert.equal(r.code, 0, `java failed: ${r.stderr}`);
    assert.match(r.stdout.trim().split("\n").pop() ?? "", /^200 \{"ok":true,"path":"\/java"/);
    const last = (await serverLines()).filter((l) => l.host === EVENTS_HOST).pop();
    assert.match(String(last?.user_agent), /^Java-http-client\//);
    assert.deepEqual(await refusals(), [], "the proxy refused nothing");
  });

  it("pushes with the credential injected while the agent's environment holds only the placeholder", async function () {
    this.timeout(60_000);
    const env = await inAgent(`printf '%s' "\${${PLACEHOLDER_ENV}:-}"`);
    const placeholder = env.stdout;
    assert.ok(placeholder.length >= 20, `the agent has a placeholder in ${PLACEHOLDER_ENV}`);
    const envAll = await inAgent("env");
    for (const form of [TOKEN, Buffer.from(`${GIT_USER}:${TOKEN}`).toString("base64")]) assert.ok(!envAll.stdout.includes(form), "the agent's environment holds a form of the token");
    const before = (await serverLines()).length;
    // as CI checkouts do: the placeholder as git's own Basic header, which the proxy replaces
    const r = await inAgent([
      "cd project && date > today.txt && git add today.txt && git commit -q -m 'placeholder push'",
      `git -c http.extraHeader="Authorization: Basic $(printf '${GIT_USER}:%s' "$${PLACEHOLDER_ENV}" | base64 -w0)" push -q origin HEAD:main`,
    ].join("\n"));
    assert.equal(r.code, 0, `git push failed: ${r.stderr}`);
    const pack = (await serverLines()).slice(before).filter((l) => l.host === GIT_HOST);
    assert.ok(pack.some((l) => l.service === "git-receive-pack" && l.method === "POST"), "the push reached the server");
    assert.deepEqual([...new Set(pack.map((l) => l.authorization_sha256))], [sha256(BASIC)], "the server saw only the real credential, never the placeholder");
  });

  it("refuses the placeholder sent to another route, before it leaves", async function () {
    const before = (await serverLines()).length;
    const r = await inAgent(`curl -sS -o /dev/null -w '%{http_code}' "https://${NPM_HOST}/-/ping?t=$${PLACEHOLDER_ENV}"`);
    assert.equal(r.stdout.trim(), "403", r.stderr);
    assert.equal((await serverLines()).slice(before).length, 0, "the registry saw nothing");
    const line = (await decisions(proxy)).filter((l) => l.host === NPM_HOST).pop();
    assert.equal(line?.verdict, "deny");
    assert.equal(line?.reason, "credential placeholder outside its route");
  });

  it("keeps the clone across a second apply that replaces the proxy, and the agent works on", async function () {
    this.timeout(180_000);
    const idOf = async (c: string) => (await inspect("container", c))?.Id;
    const proxyBefore = await idOf(proxy);
    await apply([{ host: "extra.e2e.test" }]);
    await waitHealthy(proxy);
    assert.notEqual(await idOf(proxy), proxyBefore, "the route change replaced the proxy");
    const r = await inAgent("git -C project fetch -q origin && git -C project rev-parse origin/main");
    assert.equal(r.code, 0, `git fetch after the second apply failed: ${r.stderr}`);
    assert.ok(pushed, "the push test ran");
    const tree = await inAgent(`git -C project cat-file -e ${pushed} && echo present`);
    assert.equal(tree.stdout.trim(), "present", "the pushed commit is still in the agent's clone");
  });

  it("keeps the clone in the workspace volume, the agent's working directory", async function () {
    const r = await inAgent(`printf '%s %s' "$PWD" "\${BOT_BOTTLE_WORKSPACE:-}"`);
    const [cwd, workspace] = r.stdout.split(" ");
    assert.ok(workspace, "the agent has BOT_BOTTLE_WORKSPACE");
    assert.equal(cwd, workspace, "the agent starts in its workspace");
    const info = (await inspect("container", agent)) as { Mounts?: { Destination: string; Type: string }[] } | undefined;
    assert.ok(info?.Mounts?.some((m) => m.Destination === workspace && (m.Type === "volume" || m.Type === "bind")), "the workspace is a mount, not the container's own layer");
    const clone = await inAgent(`git -C "${workspace}/project" cat-file -e ${pushed} && echo present`);
    assert.equal(clone.stdout.trim(), "present", "the clone with the pushed commit is in the workspace");
  });
});
