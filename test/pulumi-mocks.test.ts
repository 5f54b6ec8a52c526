/**
 * The resource graph of the bot-bottle program under Pulumi mocks: which resources exist, what
 * each container joins, and that tokens and the CA key stay inside secrets.
 * Mocks first, then the program: a resource created before setMocks never resolves.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  FAKE_CA_KEY, FAKE_CA_KEY_PKCS8, FAKE_IMAGE_ID, anyOccurrences, containsSecret, installMocks, isSecret, plainOccurrences, recorded,
  unwrapSecrets, valueOf, runProgram, NO_CHOWN_IMAGE_MARK, type Recorded,
} from "./components/mock-harness";
import { bottle, stack } from "./components/fixtures";
import { FAKE_TOKENS, FAKE_TOKENS_BY_REF, LEAK_MARKER } from "./helpers/fake-tokens";

type Components = typeof import("../components");
let c: Components;

/** `x`, asserting that it is there. */
function present<T>(x: T | undefined, what: string): T {
  assert.ok(x !== undefined, `no ${what}`);
  return x;
}

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";

/** Run the program for `config` and wait until every resource it declared is registered. */
function run(config: unknown): ReturnType<typeof runProgram> {
  return runProgram(c, config, FAKE_TOKENS_BY_REF);
}

const named = (resources: Recorded[], type: string, name: string): Recorded => {
  const r = resources.find((x) => x.type === type && x.name === name);
  assert.ok(r, `no ${type} ${name}`);
  return r;
};
const networksOf = (r: Recorded) => (r.inputs.networksAdvanced as { name: string; aliases?: string[] }[]).map((n) => [n.name, n.aliases ?? []]);

describe("bot-bottle program under Pulumi mocks", function () {
  this.timeout(20_000);

  before(async () => {
    await installMocks();
    c = await import("../components");
  });

  describe("one bottle", () => {
    let resources: Recorded[];
    let defined: Awaited<ReturnType<typeof run>>["defined"];
    before(async () => ({ defined, resources } = await run(stack(bottle("solo")))));

    it("declares the component, the CA, three networks, three containers, the workspace and one image", () => {
      const count = (t: string) => resources.filter((r) => r.type === t).length;
      assert.equal(count("bot-bottle:index:Bottle"), 1);
      assert.equal(count("tls:index/privateKey:PrivateKey"), 1);
      assert.equal(count("tls:index/selfSignedCert:SelfSignedCert"), 1);
      assert.equal(count(NETWORK), 3);
      // the bottle's three, and the one-shot step that gives the workspace to the agent
      assert.equal(count(CONTAINER), 4);
      assert.equal(count("docker:index/volume:Volume"), 1);
      assert.equal(count("docker:index/image:Image"), 1);
    });

    it("parents every child to the Bottle component", async () => {
      const b = present(defined.bottles.solo, "bottle solo");
      const urns = await valueOf(pulumi.all(b.resources.map((r) => r.urn)));
      assert.equal(urns.length, 2 + 3 + 2 + 3, "the CA's two resources, three networks, the workspace and its init step, three containers");
      for (const urn of urns) assert.match(urn, /::bot-bottle:index:Bottle\$/, urn);
    });

    it("marks the internal and egress networks internal, the outbound one not", () => {
      // registration order under mocks follows input resolution, so compare by name
      const nets = resources.filter((r) => r.type === NETWORK);
      const byName = (name: string) => nets.find((r) => r.inputs.name === name)?.inputs;
      assert.equal(nets.length, 3);
      assert.equal(byName("bb-solo-internal")?.internal, true);
      assert.equal(byName("bb-solo-egress")?.internal, true);
      assert.equal(byName("bb-solo-outbound")?.internal, false);
      // and the internal bridges get no host address, so their gateway leads nowhere
      const inhibit = (name: string) => (byName(name)?.options as Record<string, string> | undefined)?.["com.docker.network.bridge.inhibit_ipv4"];
      assert.deepEqual(["bb-solo-internal", "bb-solo-egress", "bb-solo-outbound"].map(inhibit), ["true", "true", undefined]);
    });

    it("attaches each container to its networks with the right aliases", () => {
      assert.deepEqual(networksOf(named(resources, CONTAINER, "solo-agent")), [["bb-solo-internal", []]]);
      assert.deepEqual(networksOf(named(resources, CONTAINER, "solo-egress-proxy")), [["bb-solo-internal", ["egress-proxy"]], ["bb-solo-egress", []]]);
      assert.deepEqual(networksOf(named(resources, CONTAINER, "solo-pipelock")), [["bb-solo-egress", ["pipelock"]], ["bb-solo-outbound", []]]);
    });

    it("publishes no port and runs no container privileged", () => {
      for (const r of resources.filter((x) => x.type === CONTAINER)) {
        assert.equal(r.inputs.ports, undefined, r.name);
        assert.notEqual(r.inputs.publishAllPorts, true, r.name);
        assert.notEqual(r.inputs.privileged, true, r.name);
        // the workspace's init step alone keeps CAP_CHOWN (plan-workspace.ts)
        assert.deepEqual(r.inputs.capabilities, r.name === "solo-workspace-init" ? { drops: ["ALL"], adds: ["CHOWN"] } : { drops: ["ALL"] }, r.name);
        assert.deepEqual(r.inputs.securityOpts, ["no-new-privileges:true"], r.name);
      }
    });

    it("gives the agent and the proxy no resolver but their own loopback, and pipelock the engine's", () => {
      // the engine's resolver still answers the bottle's aliases and forwards nothing out (constants.ts)
      assert.deepEqual(named(resources, CONTAINER, "solo-agent").inputs.dns, ["127.0.0.1"]);
      assert.deepEqual(named(resources, CONTAINER, "solo-egress-proxy").inputs.dns, ["127.0.0.1"]);
      assert.equal(named(resources, CONTAINER, "solo-pipelock").inputs.dns, undefined);
    });

    it("labels every network and container", () => {
      for (const r of resources.filter((x) => x.type === CONTAINER || x.type === NETWORK)) {
        const labels = Object.fromEntries((r.inputs.labels as { label: string; value: string }[]).map((l) => [l.label, l.value]));
        assert.equal(labels["bot-bottle.bottle"], "solo", r.name);
        assert.equal(labels["bot-bottle.managed"], "true", r.name);
      }
    });

    it("keeps every token and the CA key inside secrets, in every input", () => {
      for (const needle of [FAKE_TOKENS.github, FAKE_TOKENS.anthropic, "FAKE-CA-KEY"]) {
        const leaks = resources.flatMap((r) => plainOccurrences(r.inputs, needle).map((p) => `${r.type} ${r.name}: ${p}`));
        assert.deepEqual(leaks, [], `${needle} outside a secret`);
      }
      const proxy = named(resources, CONTAINER, "solo-egress-proxy");
      assert.ok(anyOccurrences(proxy.inputs.envs, FAKE_TOKENS.github), "the proxy did get the token");
    });

    it("puts the tokens in the proxy's env slots, shared secrets sharing one", () => {
      const envs = unwrapSecrets(named(resources, CONTAINER, "solo-egress-proxy").inputs.envs) as string[];
      assert.deepEqual(envs.filter((e) => e.startsWith("EGRESS_PROXY_TOKEN_")), [
        `EGRESS_PROXY_TOKEN_1=${FAKE_TOKENS.github}`,
        `EGRESS_PROXY_TOKEN_2=${FAKE_TOKENS.anthropic}`,
      ]);
    });

    it("gives the agent and pipelock no token and no CA key, even as secrets", () => {
      for (const name of ["solo-agent", "solo-pipelock"]) {
        const inputs = named(resources, CONTAINER, name).inputs;
        for (const needle of [FAKE_TOKENS.github, FAKE_TOKENS.anthropic, LEAK_MARKER, FAKE_CA_KEY_PKCS8, FAKE_CA_KEY]) {
          assert.ok(!anyOccurrences(inputs, needle), `${name} holds ${needle}`);
        }
      }
    });

    it("uploads routes.yaml and the CA cert to the proxy as plain inputs, and gives it the CA key in its secret env", async () => {
      const proxy = named(resources, CONTAINER, "solo-egress-proxy");
      // plain: a route change reads in clear in `pulumi preview --diff`
      assert.equal(containsSecret(proxy.inputs.uploads), false, "uploads hold a secret, so the whole list would be secret");
      const uploads = proxy.inputs.uploads as { file: string; content: string; permissions: string }[];
      assert.deepEqual(uploads.map((u) => [u.file, u.permissions]), [["/etc/egress-proxy/routes.yaml", "0444"], ["/etc/egress-proxy/ca.pem", "0444"]]);
      assert.deepEqual(JSON.parse(present(uploads[0], "upload").content), JSON.parse(present(defined.bottles.solo, "bottle solo").plan.routes.content));
      assert.equal(containsSecret(proxy.inputs.envs), true);
      const envs = unwrapSecrets(proxy.inputs.envs) as string[];
      assert.ok(envs.includes(`EGRESS_PROXY_CA_KEY_PEM=${FAKE_CA_KEY_PKCS8}`), "the CA key is not in the proxy's env");
      assert.equal(proxy.inputs.user, "10002:10002");
    });

    it("uploads the bottle CA to the agent as PEM and as a Java trust store (contentBase64), both plain", () => {
      const agent = named(resources, CONTAINER, "solo-agent");
      assert.equal(containsSecret(agent.inputs.uploads), false);
      const uploads = agent.inputs.uploads as { file: string; content?: string; contentBase64?: string; permissions: string }[];
      assert.deepEqual(uploads.map((u) => [u.file, u.permissions, u.content !== undefined, u.contentBase64 !== undefined]), [
        ["/etc/bot-bottle/ca.pem", "0444", true, false],
        ["/etc/bot-bottle/ca.p12", "0444", false, true],
      ]);
      assert.ok(Buffer.from(uploads[1]?.contentBase64 ?? "", "base64").includes(Buffer.from("FAKE-CA-CERT")));
    });

    it("declares limits in the form the Docker provider reads back: cpus as it prints them, no swap", () => {
      for (const name of ["solo-agent", "solo-egress-proxy", "solo-pipelock"]) {
        const { cpus, memory, memorySwap } = named(resources, CONTAINER, name).inputs as { cpus: string; memory: number; memorySwap: number };
        assert.match(cpus, /^\d+\.\d*$/, name);
        assert.equal(memorySwap, memory, name);
      }
    });

    it("outputs the effective egress policy in clear, naming token_ref and never a token", async () => {
      const policy = present(defined.outputs.solo, "outputs of solo").egressPolicy;
      assert.equal(await isSecret(policy), false);
      const value = await valueOf(policy);
      assert.deepEqual(value.routes[0], {
        host: "api.github.com", ports: [443], paths: ["/repos/acme/widget/**"], methods: ["GET", "POST"],
        websocket: false, plain_http: false, auth: { header: "authorization", scheme: "Bearer", token_ref: "githubToken" },
        dlp: { mode: "block", extra_rules: 0, allow: [] }, response_scan: "off", allow_double_encoding: false,
      });
      assert.equal(value.via, "pipelock container bb-solo-pipelock");
      assert.equal(value.on_echo, "redact");
      const text = JSON.stringify(value);
      for (const needle of [FAKE_TOKENS.github, FAKE_TOKENS.anthropic, FAKE_CA_KEY_PKCS8]) assert.ok(!text.includes(needle));
    });

    it("runs the proxy from the built image, which is never pushed", () => {
      const image = named(resources, "docker:index/image:Image", "egress-proxy-image");
      assert.equal(image.inputs.skipPush, true);
      assert.equal(image.inputs.imageName, "bot-bottle/egress-proxy:local");
      assert.equal(named(resources, CONTAINER, "solo-egress-proxy").inputs.image, FAKE_IMAGE_ID);
    });

    it("outputs how to enter the bottle and read its audit log", async () => {
      const o = present(defined.outputs.solo, "outputs of solo");
      assert.ok("containers" in o, "a Docker bottle's outputs");
      assert.equal(await valueOf(o.backend), "docker");
      assert.equal(await valueOf(o.enter), "docker exec -it bb-solo-agent sh");
      assert.equal(await valueOf(o.auditLog), "docker logs -f bb-solo-egress-proxy");
      assert.deepEqual(await valueOf(o.containers), { agent: "bb-solo-agent", "egress-proxy": "bb-solo-egress-proxy", pipelock: "bb-solo-pipelock" });
      assert.equal(await isSecret(o.enter), false);
    });
  });

  describe("several bottles", () => {
    let resources: Recorded[];
    before(async () => ({ resources } = await run({ ...stack(bottle("red"), bottle("blue")), proxyBaseImage: "bot-bottle/base:bookworm" })));

    it("gives each bottle its own networks and containers, and builds the proxy image once", () => {
      assert.equal(resources.filter((r) => r.type === "docker:index/image:Image").length, 1);
      assert.deepEqual(networksOf(named(resources, CONTAINER, "red-agent")), [["bb-red-internal", []]]);
      assert.deepEqual(networksOf(named(resources, CONTAINER, "blue-agent")), [["bb-blue-internal", []]]);
      assert.deepEqual(networksOf(named(resources, CONTAINER, "blue-egress-proxy")), [["bb-blue-internal", ["egress-proxy"]], ["bb-blue-egress", []]]);
      const names = resources.filter((r) => r.type === CONTAINER || r.type === NETWORK).map((r) => r.inputs.name as string);
      assert.equal(new Set(names).size, names.length, "Docker names collide");
      assert.equal(resources.filter((r) => r.type === "tls:index/privateKey:PrivateKey").length, 2, "one CA per bottle");
    });

    it("passes the configured base image to the proxy build", () => {
      const build = named(resources, "docker:index/image:Image", "egress-proxy-image").inputs.build as { args?: Record<string, string> };
      assert.deepEqual(build.args, { BASE_IMAGE: "bot-bottle/base:bookworm" });
    });
  });

  describe("pipelock by URL", () => {
    it("declares no pipelock container and no outbound network", async () => {
      const { resources } = await run(stack(bottle("byurl", { pipelock: { url: "http://pipelock.example:8888" } })));
      assert.deepEqual(resources.filter((r) => r.type === CONTAINER).map((r) => r.name).sort(), ["byurl-agent", "byurl-egress-proxy", "byurl-workspace-init"]);
      assert.deepEqual(resources.filter((r) => r.type === NETWORK).map((r) => r.name), ["byurl-internal", "byurl-egress"]);
      const envs = unwrapSecrets(named(resources, CONTAINER, "byurl-egress-proxy").inputs.envs) as string[];
      assert.ok(envs.includes("HTTPS_PROXY=http://pipelock.example:8888"));
    });
  });

  describe("workspace", () => {
    const VOLUME = "docker:index/volume:Volume";
    const withWorkspace = (name: string, workspace: unknown, agent: Record<string, unknown> = {}) => {
      const b = bottle(name);
      return stack({ ...b, agent: { ...b.agent, ...agent, workspace: workspace as never } });
    };

    it("declares the named volume, the init step that hands it over, and the agent's mount and working directory", async () => {
      const { resources } = await run(withWorkspace("ws", { path: "/home/agent/work" }));
      const volume = named(resources, VOLUME, "ws-workspace").inputs;
      assert.deepEqual([volume.name, volume.driver], ["bb-ws-workspace", "local"]);
      assert.deepEqual(volume.labels, [{ label: "bot-bottle.bottle", value: "ws" }, { label: "bot-bottle.role", value: "workspace" }, { label: "bot-bottle.managed", value: "true" }]);
      const mount = { type: "volume", source: "bb-ws-workspace", target: "/home/agent/work", readOnly: false };
      const init = named(resources, CONTAINER, "ws-workspace-init");
      assert.deepEqual(init.inputs.command, ["chown", "--", "10001", "/home/agent/work"]);
      assert.equal(init.inputs.user, "0:0");
      assert.equal(init.inputs.networkMode, "none");
      assert.equal(init.inputs.networksAdvanced, undefined);
      assert.deepEqual(init.inputs.capabilities, { drops: ["ALL"], adds: ["CHOWN"] });
      assert.deepEqual([init.inputs.mustRun, init.inputs.attach, init.inputs.restart], [false, true, "no"]);
      assert.deepEqual(init.inputs.mounts, [mount]);
      // a marker in the new volume: while empty, the engine would copy the root-owned mount point's owner onto it at each start
      const uploads = init.inputs.uploads as { file: string; permissions: string }[];
      assert.deepEqual(uploads.map((u) => [u.file, u.permissions]), [["/home/agent/work/.bot-bottle-workspace", "0444"]]);
      const agent = named(resources, CONTAINER, "ws-agent");
      assert.deepEqual(agent.inputs.mounts, [mount], "no volumeOptions: the provider refuses them before engine API 1.45");
      assert.equal(agent.inputs.workingDir, "/home/agent/work");
      assert.ok((agent.inputs.envs as string[]).includes("BOT_BOTTLE_WORKSPACE=/home/agent/work"));
      // the agent is created only once the init step has run to its end
      assert.ok(agent.askedAt > (init.answeredAt ?? Infinity), "the agent waited for the init step");
      for (const role of ["egress-proxy", "pipelock"]) assert.equal(named(resources, CONTAINER, `ws-${role}`).inputs.mounts, undefined, role);
    });

    it("keeps the volume on destroy unless retain_on_destroy is false", async () => {
      const { workspaceVolumeOptions } = await import("../components/bottle-workspace");
      const { defined } = await run(withWorkspace("keep", {}));
      const plan = present(defined.bottles.keep, "bottle keep").plan.workspace;
      assert.deepEqual(workspaceVolumeOptions(present(plan, "workspace plan")), { retainOnDelete: true });
      const { defined: gone } = await run(withWorkspace("drop", { retain_on_destroy: false }));
      assert.deepEqual(workspaceVolumeOptions(present(present(gone.bottles.drop, "bottle drop").plan.workspace, "plan")), { retainOnDelete: false });
    });

    it("mounts a host directory instead, read-only when asked, with no volume and no init step", async () => {
      const { resources } = await run(withWorkspace("hostdir", { host_path: "/srv/work/hostdir", read_only: true }));
      assert.equal(resources.some((r) => r.type === VOLUME), false);
      assert.equal(resources.some((r) => r.name === "hostdir-workspace-init"), false);
      assert.deepEqual(named(resources, CONTAINER, "hostdir-agent").inputs.mounts, [{ type: "bind", source: "/srv/work/hostdir", target: "/workspace", readOnly: true }]);
    });

    it("declares nothing of it with workspace: false", async () => {
      const { resources } = await run(withWorkspace("bare", false));
      assert.equal(resources.some((r) => r.type === VOLUME || r.name === "bare-workspace-init"), false);
      const agent = named(resources, CONTAINER, "bare-agent").inputs;
      assert.deepEqual([agent.mounts, agent.workingDir], [undefined, undefined]);
    });

    it("fails the apply, naming the step and the fix, when the init step exits non-zero", async () => {
      // the agent's working directory waits for the step's exit code; the agent's registration fails with it
      const defined = c.defineBottles(withWorkspace("nochown", {}, { image: `example/${NO_CHOWN_IMAGE_MARK}:1` }), c.tokensFromRecord(FAKE_TOKENS_BY_REF), { proxyContext: "/nonexistent/proxy" });
      const b = present(defined.bottles.nochown, "bottle nochown") as { workspace?: { workingDir: pulumi.Input<string> } };
      const workingDir = pulumi.output(present(b.workspace, "workspace").workingDir);
      const outcome = await valueOf(workingDir).then(() => "applied", (e: unknown) => String(e));
      assert.match(outcome, /the workspace init step bb-nochown-workspace-init exited with code 1, so the workspace at \/workspace is still root's; see `docker logs bb-nochown-workspace-init`/);
    });
  });

  describe("bad config", () => {
    it("throws every problem at once and declares nothing", () => {
      const before = recorded.length;
      assert.throws(
        () => c.defineBottles(stack(bottle("ok"), bottle("Bad!")), c.tokensFromRecord({ githubToken: "" })),
        (err: Error) => {
          assert.ok(err instanceof c.BottleConfigError);
          assert.match(err.message, /bot-bottle:bottles\[1\]\.name: must be a DNS label/);
          assert.match(err.message, /the secret bot-bottle:githubToken is empty; run `pulumi config set --secret githubToken`/);
          assert.match(err.message, /the secret bot-bottle:anthropicKey is not set/);
          return true;
        },
      );
      assert.equal(recorded.length, before);
    });
  });

  describe("stack config wiring (index.ts)", () => {
    it("reads bottles and secrets from Pulumi config and exports the bottle outputs", async () => {
      pulumi.runtime.setAllConfig(
        {
          "bot-bottle:bottles": JSON.stringify([bottle("fromcfg")]),
          "bot-bottle:githubToken": FAKE_TOKENS.github,
          "bot-bottle:anthropicKey": FAKE_TOKENS.anthropic,
        },
        ["bot-bottle:githubToken", "bot-bottle:anthropicKey"],
      );
      const config = new pulumi.Config();
      const tokens = c.tokensFromConfig(config);
      assert.equal(tokens.status("githubToken"), "set");
      assert.equal(tokens.status("nope"), "unset");
      assert.equal(await isSecret(tokens.secret("githubToken")), true);
      const program = (await import("../index")) as { bottles: Record<string, { enter: pulumi.Output<string> }> };
      assert.equal(await valueOf(present(program.bottles.fromcfg, "bottle fromcfg").enter), "docker exec -it bb-fromcfg-agent sh");
    });
  });
});
