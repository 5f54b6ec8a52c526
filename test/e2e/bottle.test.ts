/**
 * End to end: the resources the Bottle component declares (the real program, `defineBottles`)
 * applied to the local Docker engine by mocks that act like the Docker and tls providers, then
 * probed from inside the agent.
 *
 * The bottle's pipelock link uses `pipelock: { url }` pointing at test-forward-proxy, a small
 * CONNECT proxy this test runs on the bottle's egress network, so that this suite needs no
 * pipelock (the project builds none; pipelock-image.test.ts runs a real one when given). It allows CONNECT to api.e2e.test only and logs each decision, which is
 * how the test proves that traffic passes through the upstream-proxy hop.
 *
 *   agent ─▶ egress-proxy ─▶ test-forward-proxy ─▶ upstream (api.e2e.test, private CA)
 *   [internal]     [egress]          [outside]          canary: a network of its own
 */
import assert from "node:assert/strict";
import { pollUntil } from "../helpers/deadline";
import { FAKE_TOKENS, FAKE_WORKSPACE_SECRETS } from "../helpers/fake-tokens";
import { agentCurl } from "./lib/agent";
import { docker, idsByLabel, inspect } from "./lib/docker-cli";
import { api } from "./lib/engine-api";
import { requireEngine } from "./lib/engine-probe";
import { EngineMocks, TYPES, type JournalEntry } from "./lib/engine-mocks";
import {
  addressOn, BASE_IMAGE, createRunNetwork, FORWARD_PROXY_IMAGE, gatewayOf, ipamGateways, jsonLines, listenOnHost, runFixture, UPSTREAM_IMAGE, type HostListener,
} from "./lib/fixtures";
import { applyProgram } from "./lib/run-program";
import {
  API_HOST, bottleConfig, cleanupScenario, decisions, prepareScenario, REFUSED_BY_HOP_HOST, TOKEN_REF, upstreamRequests,
  waitHealthy, type RouteSpec, type Scenario,
} from "./lib/scenario";
import { exportContains } from "./lib/secret-scan";
import { engineForwardsToHostLoopback, probeNames, startCanary, withHostResolver } from "./lib/dns-leak";
import { createHash } from "node:crypto";

const FORWARD_ALIAS = "test-forward-proxy";
const FORWARD_PORT = 3128;
/** Stands in for a host resolver on loopback (systemd-resolved's 127.0.0.53) in the DNS test. */
const DNS_CANARY_ADDRESS = "127.53.0.1";
const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");
/** Generous: a request through two proxies on loopback-speed networks takes tens of ms. */
const MAX_REQUEST_SECONDS = 3;

function routes(apiPaths: string[]): RouteSpec[] {
  return [
    { host: API_HOST, path_allowlist: apiPaths, methods: ["GET", "POST"], auth: { scheme: "Bearer", token_ref: TOKEN_REF } },
    { host: REFUSED_BY_HOP_HOST },
  ];
}

/** `action name [fields]`: journal entries as an assertion message may show them (names only). */
function entries(list: readonly JournalEntry[]): string[] {
  return list.map((j) => `${j.action} ${j.name}${j.fields ? ` [${j.fields.join(", ")}]` : ""}`);
}

/** A middle line of a PEM body: enough to recognise it, never the whole secret in a message. */
function pemLine(pem: string): string {
  const lines = pem.trim().split("\n").filter((l) => !l.startsWith("-----"));
  const line = lines[Math.floor(lines.length / 2)];
  if (!line || line.length < 40) throw new Error("PEM too short to fingerprint");
  return line;
}

describe("@e2e bottle on a local Docker engine (upstream-proxy hop: test-forward-proxy)", function () {
  this.timeout(120_000);
  let s: Scenario | undefined;
  let agent = "";
  let proxy = "";
  let forwardProxy = "";
  let canary = "";
  let egressNet = "";
  let internalNet = "";
  let destroyed = false;
  /** What the second apply of the same program did (a real `pulumi up` run twice). */
  let secondApply: JournalEntry[] = [];
  const hostListeners: HostListener[] = [];

  const sc = (): Scenario => {
    if (!s) throw new Error("scenario not prepared");
    return s;
  };
  const hopLines = async () => (await jsonLines(forwardProxy)).filter((l) => l.event === "connect" || l.event === "request");

  /** The workspace marker the agent writes, read back after each replacement. */
  const MARKER = "survives-replacements.txt";
  const workspaceVolume = () => `bb-${sc().bottle}-workspace`;

  async function apply(apiPaths: string[], agentLimits?: Record<string, number>): Promise<void> {
    const config = bottleConfig(sc(), { url: `http://${FORWARD_ALIAS}:${FORWARD_PORT}` }, routes(apiPaths));
    if (agentLimits) {
      const [first] = config.bottles as Array<{ agent: Record<string, unknown> }>;
      if (first) first.agent = { ...first.agent, limits: agentLimits };
    }
    const out = (await applyProgram(sc().mocks, config, { [TOKEN_REF]: FAKE_TOKENS.github })) as {
      outputs: Record<string, { containers: Record<string, string>; networks: Record<string, string> }>;
    };
    const mine = out.outputs[sc().bottle];
    assert.ok(mine, "the stack outputs name the bottle");
    agent = mine.containers.agent ?? "";
    proxy = mine.containers["egress-proxy"] ?? "";
    egressNet = mine.networks.egress ?? "";
    internalNet = mine.networks.internal ?? "";
    assert.ok(agent && proxy && egressNet && internalNet, "the bottle has an agent, a proxy, an internal and an egress network");
    assert.equal(mine.containers.pipelock, undefined, "pipelock by URL runs no pipelock container");
  }

  before(async function () {
    this.timeout(360_000);
    await requireEngine(this, "@e2e bottle");
    s = await prepareScenario("e2e");
    forwardProxy = await runFixture(s.runId, {
      name: `${s.bottle}-forward-proxy`,
      image: FORWARD_PROXY_IMAGE,
      networks: [{ name: s.outsideNet, aliases: [] }],
      env: { FWD_ALLOW: `${API_HOST}:443`, FWD_PORT: String(FORWARD_PORT) },
    });
    const canaryNet = `${s.bottle}-canary`;
    await createRunNetwork(s.runId, canaryNet, false);
    canary = await runFixture(s.runId, { name: `${s.bottle}-canary`, image: UPSTREAM_IMAGE, networks: [{ name: canaryNet, aliases: ["canary"] }] });

    await apply(["/allowed/**"]);
    const mark = s.mocks.journal.length;
    await apply(["/allowed/**"]);
    secondApply = s.mocks.journal.slice(mark);
    // the operator's side of `pipelock: { url }`: put the upstream proxy on the bottle's egress network
    await api("POST", `/networks/${encodeURIComponent(egressNet)}/connect`, { Container: forwardProxy, EndpointConfig: { Aliases: [FORWARD_ALIAS] } });
    await waitHealthy(proxy);

    // servers on the host's address on each bridge (never a public address); a bridge whose
    // gateway the host does not hold has nothing to listen on, and nothing to reach
    for (const net of ["bridge", internalNet, egressNet, s.outsideNet, canaryNet]) {
      const gw = await gatewayOf(net);
      const l = gw ? await listenOnHost(gw) : undefined;
      if (l) hostListeners.push(l);
      else if (net === "bridge") throw new Error("cannot listen on the docker0 gateway address; the host-bridge check needs it");
    }
  });

  after(async function () {
    this.timeout(120_000);
    for (const l of hostListeners) await l.close();
    if (s && !destroyed) {
      await api("POST", `/networks/${encodeURIComponent(egressNet)}/disconnect`, { Container: forwardProxy, Force: true }, { accept: [404, 500] }).catch(() => undefined);
      await s.mocks.destroy().catch((e: Error) => console.error(`    e2e teardown: ${e.message}`));
    }
    // the workspace is kept on destroy by default: this run's is removed here
    if (s) await api("DELETE", `/volumes/${encodeURIComponent(workspaceVolume())}`, undefined, { accept: [404] }).catch((e: Error) => console.error(`    e2e teardown: ${e.message}`));
    await cleanupScenario(s);
  });

  it("changes nothing when the same program is applied a second time", () => {
    assert.ok(secondApply.length > 0, "the second apply declared resources");
    const changed = secondApply.filter((j) => j.action !== "same");
    assert.deepEqual(entries(changed), [], "a second apply of the same program planned changes (fields differ from what the provider reads back)");
  });

  it("serves an allowed HTTPS route with the bottle CA and injects the credential exactly once", async () => {
    const before = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${API_HOST}/allowed/hello?n=1`, { headers: ["Authorization: Bearer agent-supplied-junk"] });
    assert.equal(r.exit, 0, `curl from the agent failed: ${r.stderr}`);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.body), { ok: true, method: "GET", path: "/allowed/hello?n=1" });
    const seen = (await upstreamRequests(sc())).slice(before);
    assert.equal(seen.length, 1, "upstream saw exactly one request");
    assert.equal(seen[0]?.path, "/allowed/hello?n=1");
    assert.equal(seen[0]?.sni, API_HOST);
    assert.deepEqual(seen[0]?.authorization_sha256, [sha256(`Bearer ${FAKE_TOKENS.github}`)], "one Authorization header, the injected one, not the agent's");
  });

  it(`answers an allowed request within ${MAX_REQUEST_SECONDS} s`, async () => {
    const r = await agentCurl(agent, `https://${API_HOST}/allowed/timed`);
    assert.equal(r.status, 200, r.stderr);
    assert.ok(r.seconds < MAX_REQUEST_SECONDS, `the request took ${r.seconds} s`);
  });

  it("passes that traffic through the upstream-proxy hop, and logs an allow decision", async () => {
    const hop = await hopLines();
    assert.ok(hop.some((l) => l.target === `${API_HOST}:443` && l.verdict === "allowed"), "test-forward-proxy logged an allowed CONNECT to the upstream");
    const d = await decisions(proxy);
    assert.ok(d.some((l) => l.host === API_HOST && l.verdict === "allow" && l.status === 200), "the proxy logged the allowed request");
  });

  it("answers 502 for a routed host that the upstream-proxy hop refuses", async () => {
    const hopBefore = (await hopLines()).length;
    const upBefore = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${REFUSED_BY_HOP_HOST}/anything`);
    assert.equal(r.exit, 0, `curl failed: ${r.stderr}`);
    const last = (await decisions(proxy)).filter((l) => l.host === REFUSED_BY_HOP_HOST).pop();
    assert.equal(r.status, 502, `the proxy answered ${JSON.stringify(r.body.trim())}; its decision line: ${JSON.stringify(last)}`);
    const hop = (await hopLines()).slice(hopBefore);
    assert.ok(hop.some((l) => l.target === `${REFUSED_BY_HOP_HOST}:443` && l.verdict === "refused"), "the hop refused the CONNECT");
    assert.equal((await upstreamRequests(sc())).length, upBefore, "upstream saw nothing");
  });

  it("refuses a secret the agent sends, before the request leaves the bottle, and says which rule", async () => {
    const upBefore = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${API_HOST}/allowed/x?key=${FAKE_WORKSPACE_SECRETS["aws-access-key-id"]}`);
    assert.equal(r.exit, 0, `curl failed: ${r.stderr}`);
    assert.equal(r.status, 403);
    assert.equal((JSON.parse(r.body) as { reason?: string }).reason, "secret in request: aws-access-key-id in query");
    assert.equal((await upstreamRequests(sc())).length, upBefore, "upstream saw the request");
    const line = (await decisions(proxy)).filter((l) => l.host === API_HOST).pop();
    assert.deepEqual(line?.dlp, { action: "blocked", rule: "aws-access-key-id", where: "query" });
  });

  it("shows the agent an upstream's echo of the credential redacted, never the token", async () => {
    const r = await agentCurl(agent, `https://${API_HOST}/allowed/echo-headers`);
    assert.equal(r.status, 200, r.stderr);
    const echoed = (JSON.parse(r.body) as { headers: Record<string, string> }).headers.authorization;
    assert.equal(echoed, `Bearer ${"REDACTED".repeat(8).slice(0, FAKE_TOKENS.github.length)}`);
    assert.ok(!r.body.includes(FAKE_TOKENS.github));
    const line = (await decisions(proxy)).filter((l) => l.path === "/allowed/echo-headers").pop();
    assert.equal((line?.echo as { action?: string } | undefined)?.action, "redacted");
  });

  it("denies a host, a path and a method with 403 before any upstream connection", async () => {
    const hopBefore = (await hopLines()).length;
    const upBefore = (await upstreamRequests(sc())).length;
    const cases = [
      { what: "host", url: "https://denied.e2e.test/allowed/x", method: "GET" },
      { what: "path", url: `https://${API_HOST}/secret/x`, method: "GET" },
      { what: "method", url: `https://${API_HOST}/allowed/x`, method: "DELETE" },
    ];
    for (const c of cases) {
      const r = await agentCurl(agent, c.url, { method: c.method });
      assert.equal(r.exit, 0, `${c.what}: curl failed: ${r.stderr}`);
      assert.equal(r.status, 403, `${c.what}: status`);
      const body = JSON.parse(r.body) as { error?: string; reason?: string };
      assert.ok(body.error && body.reason, `${c.what}: a JSON denial with a reason`);
    }
    assert.deepEqual((await hopLines()).slice(hopBefore), [], "no CONNECT reached the upstream-proxy hop");
    assert.equal((await upstreamRequests(sc())).length, upBefore, "upstream saw nothing");
    const denied = (await decisions(proxy)).filter((l) => l.verdict === "deny" && l.status === 403);
    for (const c of cases) {
      const u = new URL(c.url);
      assert.ok(denied.some((l) => l.host === u.hostname && l.method === c.method && l.path === u.pathname), `${c.what}: a deny decision line`);
    }
  });

  it("reaches nothing with the proxy variables unset", async function () {
    this.timeout(60_000);
    const upstreamIp = await addressOn(sc().upstream, sc().outsideNet);
    const hopIp = await addressOn(forwardProxy, egressNet);
    const canaryIp = await addressOn(canary, `${sc().bottle}-canary`);
    const targets = [
      `https://${API_HOST}/allowed/x`,
      `https://${upstreamIp}/allowed/x`,
      `http://${upstreamIp}/`,
      `http://${FORWARD_ALIAS}:${FORWARD_PORT}/`,
      `http://${hopIp}:${FORWARD_PORT}/`,
      `http://${canaryIp}/`,
      ...hostListeners.map((l) => `http://${l.address}:${l.port}/`),
    ];
    const upBefore = (await jsonLines(sc().upstream)).length;
    // New connections only: tunnels the proxy opened for earlier tests may close meanwhile.
    const hopConnections = async () => (await jsonLines(forwardProxy)).filter((l) => l.event !== "tunnel_close").length;
    const hopBefore = await hopConnections();
    const results = await Promise.all(targets.map((url) => agentCurl(agent, url, { direct: true, maxTimeS: 5 }).then((r) => ({ url, ...r }))));
    const reached = results.filter((r) => r.exit === 0 || r.status !== 0).map((r) => `${r.url} → HTTP ${r.status}`);
    assert.deepEqual(reached, [], "the agent reached these directly");
    assert.equal((await jsonLines(sc().upstream)).length, upBefore, "upstream saw no connection");
    assert.equal(await hopConnections(), hopBefore, "the upstream-proxy hop saw no connection");
    assert.deepEqual((await jsonLines(canary)).filter((l) => l.event !== "started"), [], "the canary saw no connection");
    const hostHits = hostListeners.filter((l) => l.connections.length > 0).map((l) => `${l.address}:${l.port}`);
    assert.deepEqual(hostHits, [], "servers on the host's bridge addresses were reached");
  });

  it("lets no other container on the egress network use the proxy: closed before a byte, logged", async () => {
    // a neighbour on the network the proxy shares with its upstream-proxy hop, as with pipelock by URL
    const neighbour = await runFixture(sc().runId, {
      name: `${sc().bottle}-neighbour`, image: BASE_IMAGE, networks: [{ name: egressNet, aliases: [] }], command: ["sleep", "infinity"],
    });
    const proxyOnEgress = await addressOn(proxy, egressNet);
    const upBefore = (await upstreamRequests(sc())).length;
    // removed here, not at teardown: the bottle's egress network cannot go while it is attached
    const r = await agentCurl(neighbour, `https://${API_HOST}/allowed/borrowed`, { maxTimeS: 5, proxy: `http://${proxyOnEgress}:8080` })
      .finally(() => docker(["rm", "-f", neighbour], { allowFailure: true }));
    assert.notEqual(r.exit, 0, `the neighbour got an answer through the proxy: HTTP ${r.status}`);
    assert.equal(r.status, 0);
    const refused = await pollUntil("connection_refused line", async () => (await jsonLines(proxy)).find((l) => l.event === "connection_refused"));
    assert.deepEqual([refused.reason, refused.local], ["not on the agent network", proxyOnEgress]);
    assert.equal((await upstreamRequests(sc())).length, upBefore, "the upstream saw the neighbour's request");
    // the agent, on the internal network, is still served
    assert.equal((await agentCurl(agent, `https://${API_HOST}/allowed/after-neighbour`)).status, 200);
  });

  it("runs the containers as declared: hardened, no ports, only their networks, secret-free files", async () => {
    type Info = { Config: { User: string }; HostConfig: { CapDrop: string[] | null; SecurityOpt: string[] | null; Privileged: boolean; PortBindings: unknown }; NetworkSettings: { Networks: Record<string, unknown>; Ports: Record<string, unknown> | null } };
    const a = (await inspect("container", agent)) as unknown as Info;
    const p = (await inspect("container", proxy)) as unknown as Info;
    for (const [who, c] of [["agent", a], ["proxy", p]] as const) {
      assert.deepEqual(c.HostConfig.CapDrop, ["ALL"], `${who}: capabilities`);
      assert.deepEqual(c.HostConfig.SecurityOpt, ["no-new-privileges:true"], `${who}: security options`);
      assert.equal(c.HostConfig.Privileged, false, `${who}: privileged`);
      assert.deepEqual(Object.keys(c.HostConfig.PortBindings ?? {}), [], `${who}: published ports`);
    }
    assert.equal(a.Config.User, "10001", "the agent runs as uid 10001");
    assert.deepEqual(Object.keys(a.NetworkSettings.Networks), [internalNet], "the agent is on the internal network only");
    assert.deepEqual(Object.keys(p.NetworkSettings.Networks).sort(), [egressNet, internalNet].sort(), "the proxy is on the internal and egress networks");
    assert.equal(p.Config.User, "10002:10002", "the proxy runs as uid 10002");
    assert.equal((await docker(["exec", proxy, "id", "-u"])).stdout.trim(), "10002");
    // root-owned and readable: they hold no secret; the CA key is no file at all
    const modes = await docker(["exec", "-u", "0", proxy, "stat", "-c", "%a %u:%g %n", "/etc/egress-proxy/routes.yaml", "/etc/egress-proxy/ca.pem"]);
    assert.deepEqual(modes.stdout.trim().split("\n"), ["444 0:0 /etc/egress-proxy/routes.yaml", "444 0:0 /etc/egress-proxy/ca.pem"]);
    const files = await docker(["exec", "-u", "0", proxy, "ls", "-A", "/etc/egress-proxy"]);
    assert.deepEqual(files.stdout.trim().split("\n").sort(), ["ca.pem", "routes.yaml", "upstream-ca.pem"]);
    const routesFile = await docker(["exec", "-u", "0", proxy, "cat", "/etc/egress-proxy/routes.yaml"]);
    assert.ok(!routesFile.stdout.includes(FAKE_TOKENS.github) && !routesFile.stdout.includes(TOKEN_REF), "routes.yaml names a token slot, never the token or its ref");
  });

  it("gives the agent its workspace: a volume of the bottle, owned by the agent's user, writable, its working directory", async () => {
    const vol = await inspect("volume", workspaceVolume());
    assert.ok(vol, `volume ${workspaceVolume()} exists`);
    assert.equal((vol.Labels as Record<string, string>)["bot-bottle.bottle"], sc().bottle);
    const owner = await docker(["exec", agent, "stat", "-c", "%u %a", "/workspace"]);
    assert.equal(owner.stdout.trim().split(" ")[0], "10001", "the workspace's root belongs to the agent's uid");
    assert.equal((await docker(["exec", agent, "pwd"])).stdout.trim(), "/workspace", "the agent starts in its workspace");
    assert.equal((await docker(["exec", agent, "sh", "-c", 'printf %s "$BOT_BOTTLE_WORKSPACE"'])).stdout, "/workspace");
    await docker(["exec", agent, "sh", "-c", `echo kept > ${MARKER} && mkdir -p src && echo x > src/a.txt`]);
    assert.equal((await docker(["exec", agent, "stat", "-c", "%u", `/workspace/${MARKER}`])).stdout.trim(), "10001");
    // the init step ran once to its end, with no network and CAP_CHOWN alone
    const init = (await inspect("container", `bb-${sc().bottle}-workspace-init`)) as { State: { Running: boolean; ExitCode: number }; HostConfig: { NetworkMode: string; CapAdd: string[]; CapDrop: string[] } } | undefined;
    assert.ok(init, "the init step's container is kept, stopped");
    assert.deepEqual([init.State.Running, init.State.ExitCode, init.HostConfig.NetworkMode], [false, 0, "none"]);
    assert.deepEqual([init.HostConfig.CapAdd, init.HostConfig.CapDrop], [["CHOWN"], ["ALL"]]);
  });

  it("keeps the fake token and the CA key out of the agent and out of the logs", async function () {
    this.timeout(120_000);
    const env = await docker(["exec", agent, "env"]);
    assert.ok(!env.stdout.includes(FAKE_TOKENS.github), "token in the agent's env");
    assert.ok(!/EGRESS_PROXY_TOKEN/.test(env.stdout), "a token slot in the agent's env");
    assert.ok(!JSON.stringify(await inspect("container", agent)).includes(FAKE_TOKENS.github), "token in docker inspect of the agent");

    const key = sc().mocks.get(TYPES.privateKey, `${sc().bottle}-ca-key`)?.state as { privateKeyPem: string; privateKeyPemPkcs8: string } | undefined;
    const cert = sc().mocks.get(TYPES.selfSignedCert, `${sc().bottle}-ca-cert`)?.state as { certPem: string } | undefined;
    assert.ok(key && cert, "the bottle CA was applied");
    const found = await exportContains(agent, {
      token: FAKE_TOKENS.github,
      "CA key (SEC1)": pemLine(key.privateKeyPem),
      "CA key (PKCS#8)": pemLine(key.privateKeyPemPkcs8),
      "CA certificate (expected)": pemLine(cert.certPem),
    });
    // the certificate must be found, or the scan proves nothing
    assert.deepEqual(found, ["CA certificate (expected)"], "what the agent's filesystem holds");

    for (const [who, id] of [["egress proxy", proxy], ["upstream-proxy hop", forwardProxy], ["upstream", sc().upstream]] as const) {
      const logs = await docker(["logs", id]);
      assert.ok(!(logs.stdout + logs.stderr).includes(FAKE_TOKENS.github), `token in the ${who}'s logs`);
    }
  });

  it("lets no name the agent or the proxy looks up reach a resolver, with the host's resolver on loopback", async function () {
    this.timeout(120_000);
    const version = (await docker(["version", "--format", "{{.Server.Version}}"])).stdout.trim();
    const canaryResolver = await startCanary(DNS_CANARY_ADDRESS);
    const label = `leak${sc().runId}`;
    try {
      const controlNet = `${sc().bottle}-dns-control`;
      await createRunNetwork(sc().runId, controlNet, true);
      let control = "";
      // the engine reads the host's resolver when a container's sandbox starts: restart the
      // bottle's two containers, and start one with the engine's defaults, while it is the canary
      await withHostResolver(DNS_CANARY_ADDRESS, async () => {
        await docker(["restart", "-t", "0", agent, proxy]);
        control = await runFixture(sc().runId, { name: `${sc().bottle}-dns-control`, image: BASE_IMAGE, networks: [{ name: controlNet, aliases: [] }], command: ["sleep", "infinity"] });
      });
      await waitHealthy(proxy);
      const exec = (c: string) => (argv: readonly string[], input: string) => docker(["exec", "-i", c, ...argv], { input, allowFailure: true, timeoutMs: 30_000 });
      const servers = async (...nets: string[]) => ["127.0.0.11", DNS_CANARY_ADDRESS, ...(await Promise.all(nets.map(ipamGateways))).flat()];
      const [agentSaw, proxySaw] = await Promise.all([
        probeNames(exec(agent), `${label}-agent`, "egress-proxy", await servers(internalNet)),
        probeNames(exec(proxy), `${label}-proxy`, FORWARD_ALIAS, await servers(internalNet, egressNet)),
        probeNames(exec(control), `${label}-control`, "localhost", ["127.0.0.11"]),
      ]);

      if (engineForwardsToHostLoopback(version)) {
        // the canary is wired: on this engine a container with its defaults leaks
        await pollUntil("the control container's query at the canary", () => (canaryResolver.queries().some((q) => q.name.startsWith(`${label}-control.`)) ? true : undefined), 10_000);
      }
      const leaked = canaryResolver.queries().filter((q) => q.name.startsWith(`${label}-agent.`) || q.name.startsWith(`${label}-proxy.`));
      assert.deepEqual(leaked, [], `names that reached the host's resolver (engine ${version})`);
      for (const [who, saw] of [["agent", agentSaw], ["proxy", proxySaw]] as const) {
        for (const how of ["getaddrinfo", "gethostbyname", "resolver"]) assert.match(saw[how] ?? "", /^(error|timeout)/, `${who}: ${how} resolved an outside name`);
        assert.match(saw.expected ?? "", /^answer \d+\.\d+\.\d+\.\d+\s/, `${who} resolves the bottle's own name: ${saw.expected ?? ""}`);
      }
      assert.equal((await agentCurl(agent, `https://${API_HOST}/allowed/after-dns`)).status, 200, "an allowed route still works");
    } finally {
      await canaryResolver.stop();
    }
  });

  it("updates the bottle when a route changes and the program is applied again", async function () {
    this.timeout(300_000);
    const denied = await agentCurl(agent, `https://${API_HOST}/v2/items`);
    assert.equal(denied.status, 403, "before the change /v2 is denied");
    const mark = sc().mocks.journal.length;
    const agentId = (await inspect("container", agent))?.Id;
    const hopId = (await inspect("container", forwardProxy))?.Id;

    await apply(["/allowed/**", "/v2/**"]);
    await waitHealthy(proxy);

    const b = sc().bottle;
    const journal = sc().mocks.journal.slice(mark);
    const changed = journal.filter((j) => j.action !== "same");
    assert.deepEqual(changed.map((j) => `${j.action} ${j.name}`).sort(), [`delete ${b}-egress-proxy`, `replace ${b}-egress-proxy`].sort(), `only the proxy is replaced; changed: ${entries(changed).join("; ")}`);
    assert.deepEqual(changed.find((j) => j.action === "replace")?.fields, ["uploads"], "the proxy is replaced for its routes file alone");
    const same = journal.filter((j) => j.action === "same").map((j) => j.name);
    for (const name of [`${b}-internal`, `${b}-egress`, `${b}-agent`, `${b}-ca-key`, `${b}-ca-cert`, "egress-proxy-image", `${b}-workspace`, `${b}-workspace-init`]) {
      assert.ok(same.includes(name), `${name} is untouched`);
    }
    assert.equal((await inspect("container", agent))?.Id, agentId, "the agent container is kept");
    assert.equal((await inspect("container", forwardProxy))?.Id, hopId, "the upstream-proxy hop is kept");

    const upBefore = (await upstreamRequests(sc())).length;
    const r = await agentCurl(agent, `https://${API_HOST}/v2/items`);
    assert.equal(r.status, 200, `after the change /v2 is allowed: ${r.stderr}`);
    const seen = (await upstreamRequests(sc())).slice(upBefore);
    assert.deepEqual(seen.map((l) => [l.path, l.authorization_sha256]), [["/v2/items", [sha256(`Bearer ${FAKE_TOKENS.github}`)]]]);
    assert.equal((await docker(["exec", agent, "cat", `/workspace/${MARKER}`])).stdout.trim(), "kept", "the workspace outlives the proxy's replacement");
  });

  it("keeps the workspace, its files and their owner when the agent is replaced", async function () {
    this.timeout(300_000);
    const mark = sc().mocks.journal.length;
    const agentId = (await inspect("container", agent))?.Id;
    // a new CPU limit forces a new agent container (cpus is ForceNew in the provider)
    await apply(["/allowed/**", "/v2/**"], { cpus: 1 });
    const b = sc().bottle;
    const changed = sc().mocks.journal.slice(mark).filter((j) => j.action !== "same");
    assert.deepEqual(changed.map((j) => `${j.action} ${j.name}`).sort(), [`delete ${b}-agent`, `replace ${b}-agent`].sort(), `only the agent is replaced; changed: ${entries(changed).join("; ")}`);
    assert.notEqual((await inspect("container", agent))?.Id, agentId, "a new agent container");
    assert.equal((await docker(["exec", agent, "cat", `/workspace/${MARKER}`])).stdout.trim(), "kept");
    assert.equal((await docker(["exec", agent, "stat", "-c", "%u", "/workspace", "/workspace/src/a.txt"])).stdout.trim(), "10001\n10001");
    await docker(["exec", agent, "sh", "-c", "echo again >> src/a.txt"]);
  });

  it("removes the workspace on destroy with retain_on_destroy: false", async function () {
    this.timeout(180_000);
    const other = `${sc().bottle}-x`;
    const config = bottleConfig(sc(), { url: `http://${FORWARD_ALIAS}:${FORWARD_PORT}` }, routes(["/allowed/**"]));
    const [first] = config.bottles as Array<Record<string, unknown> & { agent: Record<string, unknown> }>;
    assert.ok(first);
    config.bottles = [{ ...first, name: other, agent: { ...first.agent, workspace: { retain_on_destroy: false, path: "/home/agent/work" } } }];
    const mocks = new EngineMocks();
    try {
      await applyProgram(mocks, config, { [TOKEN_REF]: FAKE_TOKENS.github });
      assert.ok(await inspect("volume", `bb-${other}-workspace`), "the volume exists while the bottle does");
      assert.equal((await docker(["exec", `bb-${other}-agent`, "sh", "-c", "touch f && stat -c %u f && pwd"])).stdout.trim(), "10001\n/home/agent/work");
    } finally {
      await mocks.destroy();
    }
    assert.equal(await inspect("volume", `bb-${other}-workspace`), undefined, "destroy removed the volume");
    assert.equal(mocks.journal.some((j) => j.retained), false, "nothing was retained");
  });

  it("tears down every container and network of the bottle, and keeps its workspace", async function () {
    this.timeout(120_000);
    // the operator's pipelock leaves the bottle's egress network first, or Docker refuses to remove it
    await api("POST", `/networks/${encodeURIComponent(egressNet)}/disconnect`, { Container: forwardProxy, Force: true });
    await sc().mocks.destroy();
    destroyed = true;
    const label = `bot-bottle.bottle=${sc().bottle}`;
    for (const kind of ["container", "network"] as const) {
      assert.deepEqual(await idsByLabel(kind, label), [], `${kind}s left with ${label}`);
    }
    // retain_on_destroy defaults to true: the user's work is left, and nothing else
    assert.deepEqual(await idsByLabel("volume", label), [workspaceVolume()], "only the workspace volume is kept");
    assert.deepEqual(sc().mocks.journal.filter((j) => j.retained).map((j) => j.name), [`${sc().bottle}-workspace`]);
    await api("DELETE", `/volumes/${encodeURIComponent(workspaceVolume())}`);
    assert.deepEqual(await idsByLabel("volume", label), [], "the test removed what destroy kept");
    await pollUntil("the agent to be gone", async () => ((await inspect("container", agent)) ? undefined : true), 10_000);
  });
});
