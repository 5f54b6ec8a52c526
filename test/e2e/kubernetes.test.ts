/**
 * End-to-end on a real single-node cluster (`scripts/kube/cluster.sh`): the program is applied
 * under mocks that `kubectl apply` what it declares (lib/kube-mocks.ts), then the bottle is
 * probed from inside the agent's Pod.
 *
 *   agent Pod ─▶ egress-proxy Pod ─▶ test-forward-proxy Pod ─▶ upstream Pod (api.e2e.test)
 *   (bb-<b>)     (bb-<b>)            (the run's own namespace, standing in for pipelock's hop)
 *
 * Isolation is shown against targets this run creates and controls: a Pod of its own, a
 * listener on the host's pod-bridge address, the cluster's API server, and the metadata
 * address held by a dummy interface of this machine. Each is first shown reachable from a
 * prober Pod without the bottle's policies, so a refusal is the policy's doing.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { curlIn, type CurlOptions, type CurlResult } from "./lib/agent";
import { buildFixtureImages, BASE_IMAGE, FORWARD_PROXY_IMAGE, listenOnHost, UPSTREAM_IMAGE, type HostListener } from "./lib/fixtures";
import { findCluster, getObject, importImages, kubectl } from "./lib/kube-cli";
import {
  addMetadataStandIn, createConfigMap, createLocalStorage, createNamespace, jsonLinesOf, METADATA_ADDRESS, podBridgeGateway, removeRunNamespaces, runPod, waitGone,
  type LocalStorage,
} from "./lib/kube-fixtures";
import { KubeMocks } from "./lib/kube-mocks";
import { applyProgram } from "./lib/run-program";
import { API_HOST, PROXY_IMAGE, TOKEN_REF } from "./lib/scenario";
import { makeUpstreamTls, type UpstreamTls } from "./lib/upstream-ca";
import { CANARY_SCRIPT, probeNames } from "./lib/dns-leak";
import { pollUntil } from "../helpers/deadline";
import { readFileSync } from "node:fs";

const FORWARD_PORT = 3128;
const sha256 = (v: string) => createHash("sha256").update(v).digest("hex");

interface KubeOutputs {
  namespace: string;
  deployments: Record<string, string>;
  services: Record<string, string>;
  enter: string;
}

describe("@e2e @kubernetes bottle on a local cluster (upstream-proxy hop: test-forward-proxy)", function () {
  this.timeout(120_000);
  const runId = randomBytes(3).toString("hex");
  const bottle = `k8s-${runId}`;
  const outside = `bbk-${runId}-outside`;
  const mocks = new KubeMocks();
  let tls: UpstreamTls;
  let out: KubeOutputs | undefined;
  let upstreamIp = "";
  let proberIp = "";
  /** A stand-in for a cluster resolver (none runs here): a DNS canary Pod. */
  let dnsCanaryIp = "";
  let clusterFound = false;
  let hostListener: HostListener | undefined;
  let metadataListener: HostListener | undefined;
  let removeMetadata: (() => Promise<void>) | undefined;
  let destroyed = false;
  let storage: LocalStorage | undefined;
  let forwardIpOfRun = "";
  const timings: Record<string, number> = {};
  const MARKER = "survives-replacements.txt";

  const ns = (): string => {
    if (!out) throw new Error("bottle not applied");
    return out.namespace;
  };
  const inDeployment = (deployment: string, namespace: string) => (argv: readonly string[], o: object) =>
    kubectl(["exec", "-n", namespace, `deploy/${deployment}`, "--", ...argv], o);
  const agentCurl = (url: string, opts: CurlOptions = {}): Promise<CurlResult> => curlIn(inDeployment(`bb-${bottle}-agent`, ns()), url, opts);
  const proberCurl = (url: string, opts: CurlOptions = {}): Promise<CurlResult> =>
    curlIn((argv, o) => kubectl(["exec", "-n", outside, "prober", "--", ...argv], o), url, opts);
  const upstreamRequests = async () => (await jsonLinesOf(outside, "pod/upstream")).filter((l) => l.event === "request");
  const decisions = async () => (await jsonLinesOf(ns(), `deploy/bb-${bottle}-egress-proxy`)).filter((l) => l.event === "decision");

  function config(forwardIp: string, change: { paths?: string[]; cpus?: number } = {}): Record<string, unknown> {
    return {
      backend: "kubernetes",
      proxyImageName: PROXY_IMAGE,
      proxyBaseImage: BASE_IMAGE,
      kubernetes: { image_pull_policy: "Never" },
      bottles: [{
        name: bottle,
        agent: {
          image: BASE_IMAGE,
          // the cluster has no provisioner: the run's local volume, in a class of its own
          workspace: { storage_class: storage?.storageClass, size_gb: 1 },
          ...(change.cpus !== undefined ? { limits: { cpus: change.cpus } } : {}),
        },
        pipelock: { url: `http://${forwardIp}:${FORWARD_PORT}` },
        egress_proxy: {
          upstream_ca_pem: tls.caCert,
          routes: [{ host: API_HOST, path_allowlist: change.paths ?? ["/allowed/**"], methods: ["GET"], auth: { scheme: "Bearer", token_ref: TOKEN_REF } }],
        },
      }],
    };
  }

  before(async function () {
    this.timeout(900_000);
    const cluster = await findCluster();
    if ("missing" in cluster) {
      if (process.env.CI === "true") throw new Error(`@e2e @kubernetes: CI=true and ${cluster.missing}; .ci/run starts the cluster`);
      console.log(`    @e2e @kubernetes: SKIPPED, ${cluster.missing}`);
      this.skip();
    }
    clusterFound = true;
    await buildFixtureImages();
    await importImages(BASE_IMAGE, UPSTREAM_IMAGE, FORWARD_PROXY_IMAGE);
    tls = await makeUpstreamTls([API_HOST]);
    await createNamespace(outside, runId);
    await createConfigMap(outside, "upstream-tls", runId, { "cert.pem": tls.cert, "key.pem": tls.key });
    upstreamIp = await runPod(outside, runId, { name: "upstream", image: UPSTREAM_IMAGE, files: { configMap: "upstream-tls", dir: "/srv/tls" } });
    const forwardIp = await runPod(outside, runId, {
      name: "forward-proxy",
      image: FORWARD_PROXY_IMAGE,
      env: { FWD_ALLOW: `${API_HOST}:443`, FWD_PORT: String(FORWARD_PORT) },
      hostAliases: [{ ip: upstreamIp, hostnames: [API_HOST] }],
    });
    proberIp = await runPod(outside, runId, { name: "prober", image: BASE_IMAGE, idle: true });
    storage = await createLocalStorage(runId, "bb-node");
    forwardIpOfRun = forwardIp;
    await createConfigMap(outside, "dns-canary", runId, { "dns-canary.js": readFileSync(CANARY_SCRIPT, "utf8") });
    dnsCanaryIp = await runPod(outside, runId, {
      name: "dns-canary", image: BASE_IMAGE, files: { configMap: "dns-canary", dir: "/srv/canary" },
      command: ["node", "/srv/canary/dns-canary.js", "--listen", "0.0.0.0", "--seconds", "3600"],
    });

    const started = Date.now();
    const outputs = (await applyProgram(mocks, config(forwardIp), { [TOKEN_REF]: FAKE_TOKENS.github })) as { outputs: Record<string, KubeOutputs> };
    timings.readySeconds = (Date.now() - started) / 1000;
    out = outputs.outputs[bottle];
    assert.ok(out, "the stack outputs name the bottle");
    const mark = mocks.journal.length;
    await applyProgram(mocks, config(forwardIp), { [TOKEN_REF]: FAKE_TOKENS.github });
    timings.secondApplyChanges = mocks.journal.slice(mark).filter((j) => j.action !== "same").length;

    hostListener = await listenOnHost(await podBridgeGateway(proberIp));
    removeMetadata = await addMetadataStandIn();
    metadataListener = await listenOnHost(METADATA_ADDRESS);
  });

  after(async function () {
    this.timeout(300_000);
    // skipped: there is no cluster to clean
    if (!clusterFound) return;
    await hostListener?.close();
    await metadataListener?.close();
    await removeMetadata?.();
    if (!destroyed) await mocks.destroy().catch((e: Error) => console.error(`    kubernetes e2e teardown: ${e.message}`));
    await removeRunNamespaces(runId);
    // the bottle's namespace is kept on destroy with its workspace claim: this run's goes here
    await kubectl(["delete", "namespace", `bb-${bottle}`, "--ignore-not-found", "--wait=true", "--timeout=120s"], { timeoutMs: 130_000, allowFailure: true });
    await storage?.remove();
    if (Object.keys(timings).length > 0) console.log(`    kubernetes e2e timings: ${JSON.stringify(timings)}`);
  });

  it("is Ready with every Deployment rolled out, and a second apply changes nothing", async () => {
    for (const role of ["agent", "egress-proxy"]) {
      const d = await getObject("deployment", `bb-${bottle}-${role}`, ns());
      const status = d?.status as { readyReplicas?: number } | undefined;
      assert.equal(status?.readyReplicas, 1, `${role} has a ready replica`);
    }
    assert.equal(timings.secondApplyChanges, 0);
  });

  it("serves the allowed route with the bottle CA and injects the credential exactly once", async () => {
    const before = (await upstreamRequests()).length;
    const r = await agentCurl(`https://${API_HOST}/allowed/hello?n=1`, { headers: ["Authorization: Bearer agent-supplied-junk"] });
    assert.equal(r.exit, 0, `curl from the agent failed: ${r.stderr}`);
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(JSON.parse(r.body), { ok: true, method: "GET", path: "/allowed/hello?n=1" });
    const seen = (await upstreamRequests()).slice(before);
    assert.equal(seen.length, 1, "upstream saw exactly one request");
    assert.equal(seen[0]?.sni, API_HOST);
    assert.deepEqual(seen[0]?.authorization_sha256, [sha256(`Bearer ${FAKE_TOKENS.github}`)], "one Authorization header, the injected one");
    const d = await decisions();
    assert.ok(d.some((l) => l.host === API_HOST && l.verdict === "allow" && l.status === 200), "the proxy logged the allowed request");
  });

  it("refuses a host, a path and a method outside the routes with 403, and the upstream sees none of them", async () => {
    const before = (await upstreamRequests()).length;
    const host = await agentCurl("https://other.e2e.test/allowed/x");
    const pathR = await agentCurl(`https://${API_HOST}/private/x`);
    const method = await agentCurl(`https://${API_HOST}/allowed/x`, { method: "POST" });
    assert.deepEqual([host.status, pathR.status, method.status], [403, 403, 403], [host, pathR, method].map((r) => r.stderr || r.body).join(" | "));
    assert.equal((await upstreamRequests()).length, before);
  });

  it("reaches nothing without the proxy: not another Pod, the API server, a host listener or the metadata address", async () => {
    const host = hostListener;
    const metadata = metadataListener;
    assert.ok(host && metadata, "listeners are up");
    const targets = {
      "another Pod": `https://${upstreamIp}/allowed/x`,
      "the API server": "https://10.96.0.1/version",
      "a host listener": `http://${host.address}:${host.port}/`,
      "the metadata address": `http://${METADATA_ADDRESS}:${metadata.port}/latest/meta-data/`,
    };
    // curl exits 7 (refused) or 28 (timed out) when no connection was made; any other failure
    // (a certificate curl does not trust, say) came after a connection
    const connected = (r: CurlResult) => r.exit !== 7 && r.exit !== 28;
    // the controls: a Pod without the bottle's policies reaches each target
    for (const [what, url] of Object.entries(targets)) {
      const r = await proberCurl(url, { direct: true, maxTimeS: 5 });
      assert.ok(connected(r), `control: the prober Pod cannot reach ${what} (curl exit ${r.exit}: ${r.stderr.trim()})`);
    }
    const hostBefore = host.connections.length;
    const metaBefore = metadata.connections.length;
    for (const [what, url] of Object.entries(targets)) {
      const r = await agentCurl(url, { direct: true, maxTimeS: 4 });
      assert.ok(!connected(r), `the agent reached ${what} (curl exit ${r.exit}, status ${r.status})`);
    }
    assert.equal(host.connections.length, hostBefore, "the host listener saw no connection from the agent");
    assert.equal(metadata.connections.length, metaBefore, "the metadata stand-in saw no connection from the agent");
  });

  it("lets no name the agent looks up reach a resolver: none answers, and a stand-in resolver gets no packet", async () => {
    const label = `leak${runId}`;
    const execIn = (...where: string[]) => (argv: readonly string[], input: string) =>
      kubectl(["exec", "-i", ...where, "--", ...argv], { input, allowFailure: true, timeoutMs: 30_000 });
    const names = async () => (await jsonLinesOf(outside, "pod/dns-canary")).filter((l) => l.event === "query").map((l) => String(l.name));
    // the control: a Pod without the bottle's policies reaches the stand-in
    await probeNames(execIn("-n", outside, "prober"), `${label}-control`, "localhost", [dnsCanaryIp]);
    await pollUntil("the prober's query at the DNS canary", async () => ((await names()).some((n) => n.startsWith(`${label}-control.`)) ? true : undefined), 15_000);
    const saw = await probeNames(execIn("-n", ns(), `deploy/bb-${bottle}-agent`), `${label}-agent`, "egress-proxy", [dnsCanaryIp]);
    for (const how of ["getaddrinfo", "gethostbyname", "resolver", `udp ${dnsCanaryIp}`, `tcp ${dnsCanaryIp}`]) {
      assert.match(saw[how] ?? "", /^(error|timeout)/, `the agent got an answer by ${how}: ${saw[how] ?? ""}`);
    }
    assert.match(saw.expected ?? "", /^answer \d+\.\d+\.\d+\.\d+\s+egress-proxy/, `the agent resolves its proxy by host alias: ${saw.expected ?? ""}`);
    assert.deepEqual((await names()).filter((n) => n.startsWith(`${label}-agent.`)), [], "names of the agent that reached the stand-in resolver");
    const resolvConf = await inDeployment(`bb-${bottle}-agent`, ns())(["cat", "/etc/resolv.conf"], {});
    assert.deepEqual([...resolvConf.stdout.matchAll(/^nameserver\s+(\S+)/gm)].map((m) => m[1]), ["127.0.0.1"], "the agent's only resolver is its own loopback");
  });

  it("lets no other Pod use the proxy, not even one in the bottle's namespace", async () => {
    const proxyIp = (await getObject("service", `bb-${bottle}-egress-proxy`, ns()))?.spec as { clusterIP?: string } | undefined;
    assert.ok(proxyIp?.clusterIP);
    await runPod(ns(), runId, { name: "neighbour", image: BASE_IMAGE, idle: true });
    const exec = (argv: readonly string[], o: object) => kubectl(["exec", "-n", ns(), "neighbour", "--", ...argv], o);
    const before = (await upstreamRequests()).length;
    const viaProxy = { proxy: `http://${proxyIp.clusterIP}:8080`, maxTimeS: 4 };
    const r = await curlIn(exec, `https://${API_HOST}/allowed/x`, viaProxy);
    assert.ok([7, 28].includes(r.exit), `a neighbour Pod connected to the bottle's proxy (curl exit ${r.exit}, status ${r.status})`);
    const fromOutside = await proberCurl(`https://${API_HOST}/allowed/x`, viaProxy);
    assert.ok([7, 28].includes(fromOutside.exit), `a Pod of another namespace connected to the bottle's proxy (curl exit ${fromOutside.exit})`);
    assert.equal((await upstreamRequests()).length, before);
    await kubectl(["delete", "pod", "neighbour", "-n", ns(), "--wait=true", "--timeout=60s"]);
  });

  it("keeps the token out of the agent's Pod and out of every object but the Secret", async () => {
    const objects = await kubectl(["get", "deployments,pods,services,configmaps,networkpolicies", "-n", ns(), "-o", "json"]);
    assert.ok(!objects.stdout.includes(FAKE_TOKENS.github), "a token in an object other than the Secret");
    const env = await inDeployment(`bb-${bottle}-agent`, ns())(["sh", "-c", "cat /proc/1/environ; env; cat /etc/bot-bottle/*"], { allowFailure: true });
    assert.ok(!env.stdout.includes(FAKE_TOKENS.github), "the token is in the agent's environment or files");
  });

  it("gives the agent its workspace: a claim in its namespace, its group's through fsGroup, writable, its working directory", async () => {
    const claim = await getObject("persistentvolumeclaim", `bb-${bottle}-workspace`, ns());
    assert.equal((claim?.status as { phase?: string } | undefined)?.phase, "Bound", "the claim is bound to the run's local volume");
    const agentExec = inDeployment(`bb-${bottle}-agent`, ns());
    const info = await agentExec(["sh", "-c", 'stat -c "%g %a" /workspace; pwd; printf "%s\\n" "$BOT_BOTTLE_WORKSPACE"; id -G'], {});
    const [ownerLine, pwd, env, groups] = info.stdout.trim().split("\n");
    assert.equal(ownerLine?.split(" ")[0], "10001", "the workspace's group is the agent's (fsGroup)");
    assert.equal(pwd, "/workspace");
    assert.equal(env, "/workspace");
    assert.ok(groups?.split(" ").includes("10001"), "the agent's processes carry the group");
    await agentExec(["sh", "-c", `echo kept > ${MARKER} && stat -c %g ${MARKER}`], {});
  });

  it("keeps the workspace across an apply that replaces the proxy's Pod (a route change) and the agent's", async function () {
    this.timeout(600_000);
    const pods = async () => (await kubectl(["get", "pods", "-n", ns(), "-o", "jsonpath={.items[*].metadata.name}"])).stdout.trim().split(" ").sort();
    const before = await pods();
    await applyProgram(mocks, config(forwardIpOfRun, { paths: ["/allowed/**", "/v2/**"], cpus: 1 }), { [TOKEN_REF]: FAKE_TOKENS.github });
    const after = await pods();
    for (const role of ["agent", "egress-proxy"]) {
      const was = before.find((p) => p.startsWith(`bb-${bottle}-${role}-`));
      assert.ok(was && !after.includes(was), `the ${role}'s Pod was replaced`);
    }
    const read = await inDeployment(`bb-${bottle}-agent`, ns())(["cat", `/workspace/${MARKER}`], {});
    assert.equal(read.stdout.trim(), "kept", "the workspace outlives both Pods");
  });

  it("leaves nothing behind when the bottle is deleted but its workspace, kept with its namespace", async function () {
    this.timeout(300_000);
    const started = Date.now();
    await mocks.destroy();
    destroyed = true;
    await waitGone("deployments,pods,services,configmaps,secrets,networkpolicies", `bot-bottle.bottle=${bottle}`);
    timings.teardownSeconds = (Date.now() - started) / 1000;
    const left = await kubectl(["get", "all,configmaps,secrets,networkpolicies,persistentvolumeclaims", "-A", "-l", `bot-bottle.bottle=${bottle}`, "-o", "name"]);
    // retain_on_destroy defaults to true: the claim stays, and so does the namespace that holds it
    assert.equal(left.stdout.trim(), `persistentvolumeclaim/bb-${bottle}-workspace`);
    assert.ok(await getObject("namespace", `bb-${bottle}`), "the namespace holding the workspace is kept");
    assert.deepEqual(mocks.journal.filter((j) => j.retained).map((j) => j.name).sort(), [`${bottle}-namespace`, `${bottle}-workspace`].sort());
    // this run removes what destroy kept
    await kubectl(["delete", "namespace", `bb-${bottle}`, "--wait=true", "--timeout=120s"], { timeoutMs: 130_000 });
    assert.equal(await getObject("namespace", `bb-${bottle}`), undefined);
  });
});
