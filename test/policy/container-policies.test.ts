/**
 * The policies on every container, driven by the containers the Bottle component declares for the
 * demo stack (Pulumi.demo.yaml) under Pulumi mocks: they pass as declared, and each mutation a
 * component change or a transformation could bring is refused, naming the bottle and the fix.
 */
import * as assert from "node:assert/strict";
import { CONTAINER, UNKNOWN, adding, inputsOf, mutate, of, record, runPack, type Res, type Violation } from "./harness";
import { demoBottle, demoStack, stackOf } from "./stacks";

const AGENT = "demo-agent";
const PROXY = "demo-egress-proxy";
const PIPELOCK = "demo-pipelock";
const WORKSPACE_INIT = "demo-workspace-init";

/** The one violation of `policy` in `all`, asserting there is exactly one and no other policy complained. */
function only(all: readonly Violation[], policy: string): Violation {
  assert.deepEqual([...new Set(all.map((v) => v.policy))], [policy], JSON.stringify(all, null, 2));
  const mine = of(all, policy);
  assert.equal(mine.length, 1, JSON.stringify(mine, null, 2));
  return mine[0] as Violation;
}

function set(inputs: Record<string, unknown>, key: string, value: unknown): void {
  inputs[key] = value;
}

describe("policy pack: container policies", function () {
  this.timeout(30_000);
  let demo: Res[];
  before(async () => {
    demo = await record(demoStack());
  });

  it("passes the demo stack as the component declares it, with no violation at all", async () => {
    assert.deepEqual(await runPack(demo), []);
  });

  describe("bottle-not-privileged", () => {
    it("refuses a privileged agent, naming the bottle", async () => {
      const v = only(await runPack(mutate(demo, AGENT, (i) => set(i, "privileged", true))), "bottle-not-privileged");
      assert.equal(v.level, "mandatory");
      assert.equal(v.resource, AGENT);
      assert.match(v.message, /^bottle "demo", agent container bb-demo-agent runs privileged/);
      assert.match(v.message, /Fix: no stack setting declares this/);
    });

    it("refuses unconfined seccomp and device cgroup rules on any container", async () => {
      const all = await runPack(mutate(mutate(demo, PROXY, (i) => set(i, "securityOpts", ["no-new-privileges:true", "seccomp=unconfined"])), PIPELOCK, (i) => set(i, "deviceCgroupRules", ["c *:* rwm"])));
      const mine = of(all, "bottle-not-privileged");
      assert.equal(mine.length, 2, JSON.stringify(all));
      assert.match(mine.find((v) => v.resource === PROXY)?.message ?? "", /egress-proxy container bb-demo-egress-proxy turns a confinement off \(securityOpts: "seccomp=unconfined"\)/);
      assert.match(mine.find((v) => v.resource === PIPELOCK)?.message ?? "", /may use host devices/);
    });

    it("fails closed on a field it cannot read", async () => {
      const v = only(await runPack(mutate(demo, AGENT, (i) => set(i, "privileged", "yes"))), "bottle-not-privileged");
      assert.match(v.message, /cannot read `privileged`/);
      assert.match(v.message, /fails closed/);
    });
  });

  describe("bottle-non-root-user", () => {
    it("refuses a root agent configured in the stack, naming agent.user", async () => {
      const rootAgent = await record(stackOf(demoBottle((b) => ({ ...b, agent: { ...b.agent, user: "0" } }))));
      assert.equal(inputsOf(rootAgent, AGENT).user, "0", "the component passes agent.user through");
      const v = only(await runPack(rootAgent), "bottle-non-root-user");
      assert.equal(v.level, "mandatory");
      assert.match(v.message, /^bottle "demo", agent container bb-demo-agent runs as root \(user "0"\)/);
      assert.match(v.message, /set bot-bottle:bottles, the bottle named "demo": agent\.user to a non-root uid such as 10001/);
      assert.match(v.message, /allowRootAgentIn of bottle-non-root-user/);
    });

    it("refuses root by name and an unset user", async () => {
      assert.match(only(await runPack(mutate(demo, AGENT, (i) => set(i, "user", "root:root"))), "bottle-non-root-user").message, /runs as root \(user "root:root"\)/);
      assert.match(only(await runPack(mutate(demo, AGENT, (i) => delete i.user)), "bottle-non-root-user").message, /sets no user, so the image's USER applies/);
    });

    it("allows a root agent only in the bottles the pack config names", async () => {
      const rootAgent = mutate(demo, AGENT, (i) => set(i, "user", "0"));
      assert.deepEqual(await runPack(rootAgent, { "bottle-non-root-user": { allowRootAgentIn: ["demo"] } }), []);
      assert.deepEqual(await runPack(rootAgent, { "bottle-non-root-user": { allowRootAgentIn: ["*"] } }), []);
      assert.equal(of(await runPack(rootAgent, { "bottle-non-root-user": { allowRootAgentIn: ["other"] } }), "bottle-non-root-user").length, 1);
    });

    it("never allows a root proxy or pipelock, whatever the config", async () => {
      const v = only(await runPack(mutate(demo, PROXY, (i) => set(i, "user", "0")), { "bottle-non-root-user": { allowRootAgentIn: ["*"] } }), "bottle-non-root-user");
      assert.match(v.message, /egress-proxy container bb-demo-egress-proxy runs as root .*fixed non-root uid/);
    });

    it("refuses a config it does not know, instead of ignoring a typo", async () => {
      await assert.rejects(runPack(demo, { "bottle-non-root-user": { allowRootAgentsIn: ["demo"] } }), /policy pack config of bottle-non-root-user is invalid/);
    });
  });

  describe("bottle-no-published-ports", () => {
    it("refuses published ports and publishAllPorts", async () => {
      const v = only(await runPack(mutate(demo, AGENT, (i) => set(i, "ports", [{ internal: 22, external: 2222, ip: "0.0.0.0" }]))), "bottle-no-published-ports");
      assert.match(v.message, /^bottle "demo", agent container bb-demo-agent publishes ports on the host \(ports: 0\.0\.0\.0:2222->22\)/);
      assert.match(only(await runPack(mutate(demo, PROXY, (i) => set(i, "publishAllPorts", true))), "bottle-no-published-ports").message, /publishAllPorts: true/);
    });
  });

  describe("bottle-no-host-namespaces", () => {
    it("refuses the host network, another container's network and host PID", async () => {
      assert.match(only(await runPack(mutate(demo, PIPELOCK, (i) => set(i, "networkMode", "host"))), "bottle-no-host-namespaces").message, /pipelock container bb-demo-pipelock shares a namespace \(networkMode: "host"\)/);
      assert.match(only(await runPack(mutate(demo, PROXY, (i) => set(i, "pidMode", "host"))), "bottle-no-host-namespaces").message, /pidMode: "host"/);
      const agentInPipelock = await runPack(mutate(demo, AGENT, (i) => set(i, "networkMode", "container:bb-demo-pipelock")));
      assert.match(of(agentInPipelock, "bottle-no-host-namespaces")[0]?.message ?? "", /networkMode: "container:bb-demo-pipelock"/);
      assert.equal(of(agentInPipelock, "bottle-agent-internal-network-only").length, 1, "and the agent leaves its internal network");
    });
  });

  describe("bottle-no-host-mounts", () => {
    it("refuses the Docker socket, host paths, bind mounts, devices and another container's volumes", async () => {
      const socket = only(await runPack(mutate(demo, AGENT, (i) => set(i, "volumes", [{ hostPath: "/var/run/docker.sock", containerPath: "/var/run/docker.sock" }]))), "bottle-no-host-mounts");
      assert.match(socket.message, /^bottle "demo", agent container bb-demo-agent mounts the Docker socket \(root on the host\)/);
      const all = of(await runPack(mutate(demo, AGENT, (i) => {
        set(i, "volumes", [{ hostPath: "/home/dev", containerPath: "/work" }, { fromContainer: "bb-demo-egress-proxy" }]);
        set(i, "mounts", [{ type: "bind", source: "/etc", target: "/host-etc" }]);
        set(i, "devices", [{ hostPath: "/dev/kvm" }]);
      })), "bottle-no-host-mounts").map((v) => v.message);
      assert.equal(all.length, 4, all.join("\n"));
      assert.ok(all.some((m) => /mounts a host path \(volumes\[\]\.hostPath: \/home\/dev\)/.test(m)));
      assert.ok(all.some((m) => /mounts the volumes of container bb-demo-egress-proxy/.test(m)));
      assert.ok(all.some((m) => /mounts a host path \(mounts\[\] of type bind: \/etc\)/.test(m)));
      assert.ok(all.some((m) => /maps a host device \(devices\[\]\.hostPath: \/dev\/kvm\)/.test(m)));
    });

    it("allows named volumes and tmpfs", async () => {
      assert.deepEqual(await runPack(mutate(demo, AGENT, (i) => {
        set(i, "volumes", [{ volumeName: "bb-demo-work", containerPath: "/work" }]);
        set(i, "mounts", [{ type: "tmpfs", target: "/tmp" }, { type: "volume", source: "bb-demo-cache", target: "/cache" }]);
      })), []);
    });
  });

  describe("bottle-agent-internal-network-only", () => {
    it("refuses an agent on a second network", async () => {
      const all = await runPack(mutate(demo, AGENT, (i) => set(i, "networksAdvanced", [{ name: "bb-demo-internal", aliases: [] }, { name: "bb-demo-outbound", aliases: [] }])));
      assert.match(of(all, "bottle-agent-internal-network-only")[0]?.message ?? "", /joins the networks \["bb-demo-internal","bb-demo-outbound"\] instead of bb-demo-internal alone/);
      assert.ok(of(all, "bottle-isolation-topology").length > 0, "the stack policy sees the same");
    });

    it("refuses an agent on no network (Docker's default bridge) and a network mode naming another network", async () => {
      assert.match(of(await runPack(mutate(demo, AGENT, (i) => delete i.networksAdvanced)), "bottle-agent-internal-network-only")[0]?.message ?? "", /joins no declared network/);
      assert.match(only(await runPack(mutate(demo, AGENT, (i) => set(i, "networkMode", "bb-demo-egress"))), "bottle-agent-internal-network-only").message, /sets networkMode "bb-demo-egress"/);
    });

    it("accepts the provider's default network mode, which it disconnects once networksAdvanced attaches", async () => {
      assert.deepEqual(await runPack(mutate(demo, AGENT, (i) => set(i, "networkMode", "bridge"))), []);
    });
  });

  describe("bottle-drop-all-capabilities", () => {
    it("refuses a container that keeps or adds capabilities", async () => {
      assert.match(only(await runPack(mutate(demo, PROXY, (i) => set(i, "capabilities", { drops: ["NET_RAW"] }))), "bottle-drop-all-capabilities").message, /does not drop all capabilities \(capabilities\.drops: \["NET_RAW"\]; expected \["ALL"\]\)/);
      assert.match(only(await runPack(mutate(demo, AGENT, (i) => set(i, "capabilities", { drops: ["ALL"], adds: ["NET_ADMIN"] }))), "bottle-drop-all-capabilities").message, /adds capabilities back/);
      assert.equal(of(await runPack(mutate(demo, PIPELOCK, (i) => delete i.capabilities)), "bottle-drop-all-capabilities").length, 1);
    });
  });

  describe("bottle-no-new-privileges", () => {
    it("refuses a container without no-new-privileges:true, or with it turned off again", async () => {
      assert.match(only(await runPack(mutate(demo, AGENT, (i) => set(i, "securityOpts", []))), "bottle-no-new-privileges").message, /^bottle "demo", agent container bb-demo-agent does not set no-new-privileges/);
      assert.equal(of(await runPack(mutate(demo, AGENT, (i) => set(i, "securityOpts", ["no-new-privileges:false"]))), "bottle-no-new-privileges").length, 1);
      assert.equal(of(await runPack(mutate(demo, AGENT, (i) => set(i, "securityOpts", ["no-new-privileges:true", "no-new-privileges=false"]))), "bottle-no-new-privileges").length, 1);
      assert.deepEqual(await runPack(mutate(demo, AGENT, (i) => set(i, "securityOpts", ["no-new-privileges"]))), []);
    });
  });

  describe("bottle-images-pinned", () => {
    it("accepts the component's images: tags, and the proxy by the id of the image the stack builds", async () => {
      assert.equal(inputsOf(demo, PROXY).image, "sha256:fake-egress-proxy-image", "the proxy runs the built image's id (a tag here, under mocks)");
      const hexId = `sha256:${"a".repeat(64)}`;
      assert.deepEqual(await runPack(mutate(demo, PROXY, (i) => set(i, "image", hexId)), { "bottle-images-pinned": { requireDigest: false } }), []);
    });

    it("refuses an unpinned agent image from the stack config, naming agent.image", async () => {
      const unpinned = await record(stackOf(demoBottle((b) => ({ ...b, agent: { ...b.agent, image: "bot-bottle/base" } }))));
      const both = of(await runPack(unpinned), "bottle-images-pinned");
      assert.deepEqual(both.map((x) => x.resource).sort(), [AGENT, WORKSPACE_INIT], "the workspace init step runs the agent's image");
      assert.match(both.find((x) => x.resource === WORKSPACE_INIT)?.message ?? "", /agent\.image to a pinned image \(the workspace init step runs the agent's image\)/);
      const v = both.find((x) => x.resource === AGENT) ?? assert.fail("no violation on the agent");
      assert.match(v.message, /^bottle "demo", agent container bb-demo-agent runs an unpinned image \("bot-bottle\/base"\)/);
      assert.match(v.message, /set bot-bottle:bottles, the bottle named "demo": agent\.image to a pinned image/);
      assert.match(only(await runPack(mutate(demo, PIPELOCK, (i) => set(i, "image", "ghcr.io/luckypipewrench/pipelock:latest"))), "bottle-images-pinned").message, /pipelock\.image/);
    });

    it("with requireDigest, refuses tags and accepts digests and image ids", async () => {
      const digest = `bot-bottle/base@sha256:${"b".repeat(64)}`;
      const config = { "bottle-images-pinned": { requireDigest: true } };
      const pinned = mutate(mutate(mutate(mutate(demo, AGENT, (i) => set(i, "image", digest)), WORKSPACE_INIT, (i) => set(i, "image", digest)), PIPELOCK, (i) => set(i, "image", digest)), PROXY, (i) => set(i, "image", `sha256:${"c".repeat(64)}`));
      assert.deepEqual(await runPack(pinned, config), []);
      const tagged = of(await runPack(demo, config), "bottle-images-pinned");
      assert.deepEqual(tagged.map((v) => v.resource).sort(), [AGENT, PROXY, PIPELOCK, WORKSPACE_INIT].sort());
      assert.match(tagged.find((v) => v.resource === AGENT)?.message ?? "", /pinned by tag only \("bot-bottle\/base:bookworm"\)/);
    });

    it("says it cannot check the proxy's image during a first preview, when the build has not run yet", async () => {
      const v = only(await runPack(mutate(demo, PROXY, (i) => set(i, "image", UNKNOWN))), "bottle-images-pinned");
      assert.equal(v.level, "advisory");
      assert.match(v.message, /can't run policy 'bottle-images-pinned' .* during preview: string value at \.image can't be known during preview/);
    });
  });

  describe("every container of the stack, not only the bottle's", () => {
    it("names an unlabelled container by its Pulumi and Docker names", async () => {
      const stranger = adding(demo, { type: CONTAINER, name: "sidecar", inputs: { name: "sidecar", image: "busybox:1.36", user: "1000", capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"], privileged: true } });
      const v = only(await runPack(stranger), "bottle-not-privileged");
      assert.match(v.message, /^container sidecar \(Pulumi name sidecar; not labelled as part of a bottle\) runs privileged/);
    });
  });
});
