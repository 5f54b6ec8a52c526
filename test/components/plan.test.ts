import * as assert from "node:assert/strict";
import type { BottlePlan, ContainerPlan } from "../../components";
import { bottle, planOf, stack } from "./fixtures";

function container(plan: BottlePlan, role: ContainerPlan["role"]): ContainerPlan {
  const c = plan.containers.find((x) => x.role === role);
  assert.ok(c, `no ${role} container`);
  return c;
}

const envMap = (c: ContainerPlan) => Object.fromEntries(c.env.map((e) => [e.name, e.value]));
const attached = (c: ContainerPlan) => c.networks.map((a) => [a.network.kind === "bottle" ? a.network.role : `existing:${a.network.name}`, [...a.aliases]]);

describe("bottle plan", () => {
  const plan = planOf(stack(bottle("dev")));

  it("has three networks; only pipelock's outbound one leads out", () => {
    assert.deepEqual(plan.networks.map((n) => [n.role, n.name, n.internal]), [
      ["internal", "bb-dev-internal", true],
      ["egress", "bb-dev-egress", true],
      ["outbound", "bb-dev-outbound", false],
    ]);
  });

  it("attaches each container to its networks with the right aliases only", () => {
    assert.deepEqual(attached(container(plan, "agent")), [["internal", []]]);
    assert.deepEqual(attached(container(plan, "egress-proxy")), [["internal", ["egress-proxy"]], ["egress", []]]);
    assert.deepEqual(attached(container(plan, "pipelock")), [["egress", ["pipelock"]], ["outbound", []]]);
  });

  it("lets only pipelock resolve outside names; the agent and the proxy resolve the bottle's own", () => {
    assert.deepEqual(plan.containers.map((c) => [c.role, c.names]), [["agent", "bottle"], ["egress-proxy", "bottle"], ["pipelock", "outside"]]);
    const byUrl = planOf(stack(bottle("dev", { pipelock: { url: "http://10.0.0.5:8888" } })));
    assert.deepEqual(byUrl.containers.map((c) => [c.role, c.names]), [["agent", "bottle"], ["egress-proxy", "bottle"]]);
  });

  it("labels every network and container with bottle, role and managed", () => {
    for (const x of [...plan.networks, ...plan.containers]) {
      assert.deepEqual(x.labels, { "bot-bottle.bottle": "dev", "bot-bottle.role": x.role, "bot-bottle.managed": "true" });
    }
  });

  it("names resources stably from the bottle name", () => {
    assert.deepEqual(plan.containers.map((c) => [c.resourceName, c.name]), [
      ["dev-agent", "bb-dev-agent"], ["dev-egress-proxy", "bb-dev-egress-proxy"], ["dev-pipelock", "bb-dev-pipelock"],
    ]);
    assert.deepEqual([plan.ca.keyResourceName, plan.ca.certResourceName], ["dev-ca-key", "dev-ca-cert"]);
  });

  it("hardens every container", () => {
    for (const c of plan.containers) {
      assert.deepEqual(c.capDrop, ["ALL"], c.role);
      assert.deepEqual(c.securityOpts, ["no-new-privileges:true"], c.role);
      assert.equal(c.restart, "unless-stopped");
      assert.ok(c.memoryMb > 0 && Number(c.cpus) > 0, c.role);
      // in the form the provider reads back: no swap, and `cpus` as it prints nano-CPUs
      assert.equal(c.memorySwapMb, c.memoryMb, c.role);
    }
    assert.deepEqual(plan.containers.map((c) => [c.role, c.cpus, c.user]), [
      ["agent", "2.0", "10001"], ["egress-proxy", "1.0", "10002:10002"], ["pipelock", "1.0", "65534:65534"],
    ]);
  });

  it("gives the agent proxy settings, the CA everywhere runtimes look, and no token", () => {
    const agent = container(plan, "agent");
    const env = envMap(agent);
    for (const n of ["HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"]) assert.deepEqual(env[n], { kind: "text", text: "http://egress-proxy:8080" });
    for (const n of ["NO_PROXY", "no_proxy"]) assert.deepEqual(env[n], { kind: "text", text: "localhost,127.0.0.1" });
    for (const n of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO", "npm_config_cafile", "CARGO_HTTP_CAINFO", "AWS_CA_BUNDLE"]) {
      assert.deepEqual(env[n], { kind: "text", text: "/etc/bot-bottle/ca.pem" });
    }
    assert.deepEqual(env.NODE_USE_ENV_PROXY, { kind: "text", text: "1" });
    assert.match((env.JAVA_TOOL_OPTIONS as { text: string }).text, /^-Djavax\.net\.ssl\.trustStore=\/etc\/bot-bottle\/ca\.p12 -Djavax\.net\.ssl\.trustStoreType=PKCS12 -Dhttps\.proxyHost=egress-proxy -Dhttps\.proxyPort=8080 /);
    assert.deepEqual(agent.uploads, [
      { file: "/etc/bot-bottle/ca.pem", content: { kind: "ca-cert" }, permissions: "0444" },
      { file: "/etc/bot-bottle/ca.p12", content: { kind: "ca-truststore" }, permissions: "0444" },
    ]);
    assert.ok(agent.env.every((e) => e.value.kind === "text"), "a token reference in the agent's env");
    assert.ok(agent.env.every((e) => e.value.kind !== "ca-key"), "the CA key reaches the agent");
    assert.equal(agent.user, "10001");
    assert.deepEqual(agent.command, ["sleep", "infinity"]);
    assert.equal(agent.nproc, 512);
  });

  it("gives the proxy its contract env, the CA key and one slot per secret in the env, and secret-free files", () => {
    const proxy = container(plan, "egress-proxy");
    assert.deepEqual(envMap(proxy), {
      EGRESS_PROXY_ROUTES: { kind: "text", text: "/etc/egress-proxy/routes.yaml" },
      EGRESS_PROXY_CA_CERT: { kind: "text", text: "/etc/egress-proxy/ca.pem" },
      EGRESS_PROXY_CA_KEY_PEM: { kind: "ca-key" },
      EGRESS_PROXY_LISTEN: { kind: "text", text: "0.0.0.0:8080" },
      EGRESS_PROXY_HEALTH_LISTEN: { kind: "text", text: "127.0.0.1:9090" },
      EGRESS_PROXY_BOTTLE: { kind: "text", text: "dev" },
      EGRESS_PROXY_AGENT_ALIAS: { kind: "text", text: "egress-proxy" },
      // the same idle limit the bottle's pipelock gets (pipelock-config.test.ts)
      EGRESS_PROXY_IDLE_TIMEOUT_S: { kind: "text", text: "600" },
      HTTPS_PROXY: { kind: "text", text: "http://pipelock:8888" },
      HTTP_PROXY: { kind: "text", text: "http://pipelock:8888" },
      EGRESS_PROXY_TOKEN_1: { kind: "token", tokenRef: "githubToken" },
      EGRESS_PROXY_TOKEN_2: { kind: "token", tokenRef: "anthropicKey" },
    });
    assert.deepEqual(proxy.uploads.map((u) => [u.file, u.content.kind, u.permissions]), [
      ["/etc/egress-proxy/routes.yaml", "text", "0444"],
      ["/etc/egress-proxy/ca.pem", "ca-cert", "0444"],
    ]);
    assert.deepEqual(proxy.image, { kind: "proxy-image" });
    assert.deepEqual(proxy.healthcheck?.tests, ["CMD", "node", "/app/dist/healthcheck.js"]);
  });

  it("renders on_echo into routes.yaml and the egress policy; redact when unset", () => {
    const blocking = planOf(stack(bottle("dev", { egress_proxy: { routes: [{ host: "upstream.test" }], on_echo: "block" } })));
    assert.equal((JSON.parse(blocking.routes.content) as { on_echo?: string }).on_echo, "block");
    assert.equal(blocking.egressPolicy.on_echo, "block");
    assert.equal(plan.egressPolicy.on_echo, "redact");
    assert.equal((JSON.parse(plan.routes.content) as { on_echo?: string }).on_echo, undefined);
  });

  it("uploads an upstream CA to the proxy and points NODE_EXTRA_CA_CERTS at it", () => {
    const pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const p = planOf(stack(bottle("dev", { egress_proxy: { routes: [{ host: "upstream.test" }], upstream_ca_pem: pem } })));
    const proxy = container(p, "egress-proxy");
    assert.deepEqual(envMap(proxy).NODE_EXTRA_CA_CERTS, { kind: "text", text: "/etc/egress-proxy/upstream-ca.pem" });
    assert.deepEqual(proxy.uploads.at(-1), { file: "/etc/egress-proxy/upstream-ca.pem", content: { kind: "text", text: pem }, permissions: "0444" });
    assert.equal(envMap(container(p, "agent")).NODE_EXTRA_CA_CERTS?.kind, "text");
  });

  it("checks pipelock's health with its own subcommand over loopback, in durations Docker reads back", () => {
    const pipelock = container(plan, "pipelock");
    assert.deepEqual(pipelock.healthcheck, {
      tests: ["CMD", "/pipelock", "healthcheck", "--addr", "127.0.0.1:8888"],
      interval: "10s", timeout: "3s", retries: 3, startPeriod: "5s",
    });
    // /health stays on the main listener (reached over loopback); /metrics and /stats move to loopback
    assert.deepEqual(pipelock.command, ["run", "--config", "/etc/pipelock/pipelock.yaml", "--listen", "0.0.0.0:8888"]);
    assert.equal(plan.pipelockConfig?.metrics_listen, "127.0.0.1:9090");
    const healthcheck = pipelock.healthcheck;
    assert.ok(healthcheck, "no pipelock healthcheck");
    for (const d of [healthcheck.interval, healthcheck.timeout, healthcheck.startPeriod]) {
      assert.match(d, /^(?:[1-9][0-9]*m)?(?:[1-9][0-9]*s)$/, "a Go duration as Docker reports it back");
    }
  });

  it("uses pipelock by URL: no pipelock container, no outbound network", () => {
    const p = planOf(stack(bottle("dev", { pipelock: { url: "http://pipelock.example:8888" } })));
    assert.deepEqual(p.containers.map((c) => c.role), ["agent", "egress-proxy"]);
    assert.deepEqual(p.networks.map((n) => n.role), ["internal", "egress"]);
    assert.deepEqual(envMap(container(p, "egress-proxy")).HTTPS_PROXY, { kind: "text", text: "http://pipelock.example:8888" });
    assert.equal(p.commands.pipelockLog, undefined);
  });

  it("joins an existing network instead of creating egress when pipelock.network is given", () => {
    const p = planOf(stack(bottle("dev", { pipelock: { url: "http://pipelock:8888", network: "shared-pipelock" } })));
    assert.deepEqual(p.networks.map((n) => n.role), ["internal"]);
    assert.deepEqual(attached(container(p, "egress-proxy")), [["internal", ["egress-proxy"]], ["existing:shared-pipelock", []]]);
  });

  it("applies agent settings from config, and no process limit for a root agent", () => {
    const p = planOf(stack(bottle("dev", { agent: { image: "node:20", command: ["node", "agent.js"], user: "0:0", limits: { memory_mb: 512, cpus: 0.5 } } })));
    const agent = container(p, "agent");
    assert.deepEqual([agent.image, agent.command, agent.user, agent.memoryMb, agent.cpus, agent.nproc], [
      { kind: "ref", ref: "node:20" }, ["node", "agent.js"], "0:0", 512, "0.5", undefined,
    ]);
  });

  it("tells the user how to enter the bottle and read its audit log", () => {
    assert.deepEqual(plan.commands, {
      enter: "docker exec -it bb-dev-agent sh",
      auditLog: "docker logs -f bb-dev-egress-proxy",
      list: "docker ps -a --filter label=bot-bottle.bottle=dev",
      pipelockLog: "docker logs -f bb-dev-pipelock",
    });
  });
});
