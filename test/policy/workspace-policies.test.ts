/**
 * The workspace policies on resources as the Bottle component declares them: a host directory
 * only where the pack's config allows it, and the root init step confined to `chown`.
 */
import * as assert from "node:assert/strict";
import { mutate, of, record, runPack, type Res } from "./harness";
import { demoBottle, stackOf } from "./stacks";

const AGENT = "demo-agent";
const INIT = "demo-workspace-init";

/** The demo bottle with its workspace on a host directory. */
function hostPathStack(readOnly?: boolean) {
  return stackOf(demoBottle((b) => ({ ...b, agent: { ...b.agent, workspace: { host_path: "/srv/bot-bottle/demo", ...(readOnly === undefined ? {} : { read_only: readOnly }) } } })));
}

describe("policy pack: workspace policies", function () {
  this.timeout(30_000);
  let demo: Res[];
  before(async () => {
    demo = await record(stackOf(demoBottle()));
  });

  describe("bottle-workspace-host-path", () => {
    it("passes the default workspace, a volume of the bottle's own", async () => {
      assert.deepEqual(of(await runPack(demo), "bottle-workspace-host-path"), []);
      assert.deepEqual(of(await runPack(demo), "bottle-no-host-mounts"), []);
    });

    it("refuses a host_path workspace by default, naming the field and the pack setting that allows it", async () => {
      const all = await runPack(await record(hostPathStack()));
      assert.deepEqual([...new Set(all.map((v) => v.policy))], ["bottle-workspace-host-path"], "judged by this policy alone, not also as a host mount");
      const [v] = all;
      assert.equal(v?.level, "mandatory");
      assert.equal(v?.resource, AGENT);
      assert.match(v?.message ?? "", /mounts the host directory \/srv\/bot-bottle\/demo as its workspace/);
      assert.match(v?.message ?? "", /drop bot-bottle:bottles, the bottle named "demo": agent\.workspace\.host_path/);
      assert.match(v?.message ?? "", /"demo" in allowHostPathIn of bottle-workspace-host-path/);
    });

    it("allows it for the bottles the pack config lists, and with requireReadOnly only read-only", async () => {
      const writable = await record(hostPathStack());
      assert.deepEqual(await runPack(writable, { "bottle-workspace-host-path": { allowHostPathIn: ["demo"] } }), []);
      assert.deepEqual(await runPack(writable, { "bottle-workspace-host-path": { allowHostPathIn: ["*"] } }), []);
      assert.equal(of(await runPack(writable, { "bottle-workspace-host-path": { allowHostPathIn: ["other"] } }), "bottle-workspace-host-path").length, 1);
      const strict = { "bottle-workspace-host-path": { allowHostPathIn: ["demo"], requireReadOnly: true } };
      assert.match(of(await runPack(writable, strict), "bottle-workspace-host-path")[0]?.message ?? "", /writable.*agent\.workspace\.read_only to true/);
      assert.deepEqual(await runPack(await record(hostPathStack(true)), strict), []);
    });

    it("never allows the Docker socket or a system directory, whatever the config", async () => {
      const socket = mutate(await record(hostPathStack()), AGENT, (i) => {
        i.mounts = [{ type: "bind", source: "/var/run/docker.sock", target: "/workspace", readOnly: false }];
      });
      const v = of(await runPack(socket, { "bottle-workspace-host-path": { allowHostPathIn: ["*"] } }), "bottle-workspace-host-path");
      assert.equal(v.length, 1);
      assert.match(v[0]?.message ?? "", /a system directory no bottle may have/);
    });

    it("still refuses any other bind mount of the agent as a host mount", async () => {
      const extra = mutate(demo, AGENT, (i) => {
        i.mounts = [...(i.mounts as unknown[]), { type: "bind", source: "/home/dev/.ssh", target: "/root/.ssh" }];
      });
      assert.match(of(await runPack(extra), "bottle-no-host-mounts")[0]?.message ?? "", /mounts a host path \(mounts\[\] of type bind: \/home\/dev\/\.ssh\)/);
    });

    it("refuses a config it does not know", async () => {
      await assert.rejects(runPack(demo, { "bottle-workspace-host-path": { allowHostPathsIn: ["demo"] } }), /policy pack config of bottle-workspace-host-path is invalid/);
    });
  });

  describe("bottle-workspace-init-confined", () => {
    it("passes the init step the component declares: root, CAP_CHOWN alone, no network", async () => {
      assert.deepEqual(await runPack(demo), []);
    });

    it("refuses an init step that does more than chown its volume, and then also its root and capabilities", async () => {
      const cases: Array<[string, (i: Record<string, unknown>) => void, RegExp]> = [
        ["a network", (i) => { i.networkMode = "bridge"; }, /networkMode: must be "none"/],
        ["another capability", (i) => { i.capabilities = { drops: ["ALL"], adds: ["CHOWN", "DAC_OVERRIDE"] }; }, /capabilities\.adds: may hold "CHOWN" alone/],
        ["a recursive chown", (i) => { i.command = ["chown", "-R", "10001", "/workspace"]; }, /command: must be `chown -- <user> <path>`/],
        ["another command", (i) => { i.command = ["sh", "-c", "id"]; }, /command: must be/],
        ["another volume", (i) => { i.mounts = [{ type: "volume", source: "bb-other-workspace", target: "/workspace" }]; }, /mounts: must be the volume bb-demo-workspace alone/],
        ["a host mount", (i) => { i.mounts = [{ type: "bind", source: "/", target: "/workspace" }]; }, /mounts: must be the volume/],
      ];
      for (const [what, change, message] of cases) {
        const all = await runPack(mutate(demo, INIT, change));
        const v = of(all, "bottle-workspace-init-confined");
        assert.equal(v.length, 1, what);
        assert.match(v[0]?.message ?? "", message, what);
        // no longer the confined step: its root user is refused as any other's
        assert.equal(of(all, "bottle-non-root-user").length, 1, what);
      }
    });
  });
});
