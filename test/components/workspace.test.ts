/**
 * `agent.workspace`: its defaults, every key's errors (each naming the field and the fix), and
 * the plan it gives on each backend.
 */
import * as assert from "node:assert/strict";
import { loadStack } from "../../components";
import { gitCloneCommand } from "../../components/plan-workspace";
import { bottle, fakeTokenSource, planOf, stack } from "./fixtures";

type Workspace = Record<string, unknown> | boolean | string;

/** A stack of one bottle `dev` with this workspace, on a backend. */
function withWorkspace(workspace: Workspace | undefined, backend?: "kubernetes", extra: Record<string, unknown> = {}) {
  const b = bottle("dev", { ...(backend ? { backend } : {}) });
  return stack({ ...b, agent: { ...b.agent, ...(workspace === undefined ? {} : { workspace: workspace as never }), ...extra } });
}

function errorsOf(config: unknown): string[] {
  const result = loadStack(config, fakeTokenSource());
  assert.equal(result.ok, false, "config was accepted");
  return result.ok ? [] : result.errors;
}

const FIELD = "bot-bottle:bottles[0].agent.workspace";

describe("agent.workspace", () => {
  describe("defaults", () => {
    it("gives every Docker bottle a named volume at /workspace, kept on destroy, handed to the agent by an init step", () => {
      const plan = planOf(withWorkspace(undefined));
      assert.deepEqual(plan.workspace?.source, { kind: "volume", resourceName: "dev-workspace", name: "bb-dev-workspace", labels: { "bot-bottle.bottle": "dev", "bot-bottle.role": "workspace", "bot-bottle.managed": "true" } });
      assert.equal(plan.workspace?.path, "/workspace");
      assert.equal(plan.workspace?.retainOnDestroy, true);
      assert.equal(plan.workspace?.readOnly, false);
      assert.deepEqual(plan.workspace?.init?.command, ["chown", "--", "10001", "/workspace"]);
      assert.equal(plan.workspace?.init?.user, "0:0");
      assert.deepEqual([plan.workspace?.init?.capDrop, plan.workspace?.init?.capAdd], [["ALL"], ["CHOWN"]]);
      assert.equal(plan.workspace?.init?.image, "bot-bottle/base:bookworm", "the agent's own image, where its user's name resolves");
    });

    it("mounts it in the agent as its working directory and names it in BOT_BOTTLE_WORKSPACE", () => {
      const agent = planOf(withWorkspace({ path: "/home/agent/work" })).containers.find((c) => c.role === "agent");
      assert.deepEqual(agent?.workspace, { path: "/home/agent/work", readOnly: false });
      const env = agent?.env.find((e) => e.name === "BOT_BOTTLE_WORKSPACE");
      assert.deepEqual(env?.value, { kind: "text", text: "/home/agent/work" });
      assert.deepEqual(agent?.command, ["sleep", "infinity"], "no clone, no wrapper");
    });

    it("plans no workspace with `workspace: false`", () => {
      const plan = planOf(withWorkspace(false));
      assert.equal(plan.workspace, undefined);
      const agent = plan.containers.find((c) => c.role === "agent");
      assert.equal(agent?.workspace, undefined);
      assert.equal(agent?.env.some((e) => e.name === "BOT_BOTTLE_WORKSPACE"), false);
    });

    it("needs no init step for a root agent or a host directory", () => {
      assert.equal(planOf(withWorkspace({}, undefined, { user: "0" })).workspace?.init, undefined);
      const host = planOf(withWorkspace({ host_path: "/srv/work/dev", read_only: true })).workspace;
      assert.deepEqual([host?.source, host?.readOnly, host?.init], [{ kind: "host", hostPath: "/srv/work/dev" }, true, undefined]);
    });

    it("on Kubernetes: a claim of 10 GiB by default, the size and class given, and no init step (fsGroup does it)", () => {
      const plan = planOf(withWorkspace(undefined, "kubernetes"));
      assert.equal(plan.workspace?.source.kind === "volume" ? plan.workspace.source.sizeGb : undefined, 10);
      assert.equal(plan.workspace?.init, undefined);
      const sized = planOf(withWorkspace({ size_gb: 50, storage_class: "fast-ssd", retain_on_destroy: false }, "kubernetes")).workspace;
      assert.deepEqual(sized?.source.kind === "volume" ? [sized.source.sizeGb, sized.source.storageClass] : [], [50, "fast-ssd"]);
      assert.equal(sized?.retainOnDestroy, false);
    });
  });

  describe("git", () => {
    it("wraps the agent's command in the first-start clone, through a route of the bottle", () => {
      const git = { url: "https://api.github.com/acme/widget.git", ref: "main" };
      const agent = planOf(withWorkspace({ git }, undefined, { command: ["agent", "--serve"] })).containers.find((c) => c.role === "agent");
      assert.deepEqual(agent?.command, gitCloneCommand(git, ["agent", "--serve"]));
      assert.deepEqual(agent?.command?.slice(0, 2), ["sh", "-c"]);
      assert.deepEqual(agent?.command?.slice(3), ["bot-bottle-workspace", git.url, "main", "agent", "--serve"]);
    });

    it("matches the url's host against wildcard routes and ports", () => {
      const b = bottle("dev", { egress_proxy: { routes: [{ host: "*.example.test" }, { host: "git.other.test", port: 8443 }] } });
      const ok = (url: string) => loadStack(stack({ ...b, agent: { ...b.agent, workspace: { git: { url } } } }), fakeTokenSource()).ok;
      assert.equal(ok("https://code.example.test/a/b.git"), true);
      assert.equal(ok("https://git.other.test:8443/a/b.git"), true);
      assert.equal(ok("https://git.other.test/a/b.git"), false, "port 443 has no route");
      assert.equal(ok("https://example.test/a/b.git"), false, "*. covers subdomains only");
    });
  });

  describe("errors", () => {
    const cases: Array<{ name: string; workspace: Workspace; backend?: "kubernetes"; expect: RegExp }> = [
      { name: "true", workspace: true, expect: /^bot-bottle:bottles\[0\]\.agent\.workspace: must be false \(no workspace\) or an object of settings; omit it/ },
      { name: "a string", workspace: "/workspace", expect: /\.workspace: must be false \(no workspace\) or an object such as \{ path: \/workspace \}/ },
      { name: "an unknown key", workspace: { size: 3 }, expect: /\.workspace: has unknown field\(s\) "size"; remove them or fix the spelling$/ },
      { name: "a relative path", workspace: { path: "workspace" }, expect: /\.workspace\.path: must be an absolute path; write it from the root, e\.g\. \/workspace$/ },
      { name: "a dot segment", workspace: { path: "/work/../etc" }, expect: /\.workspace\.path: must be a plain absolute path .*; e\.g\. \/workspace$/ },
      { name: "a trailing slash", workspace: { path: "/workspace/" }, expect: /\.workspace\.path: must be a plain absolute path/ },
      { name: "a colon", workspace: { path: "/work:ro" }, expect: /\.workspace\.path: must be a plain absolute path/ },
      { name: "the root", workspace: { path: "/" }, expect: /\.workspace\.path: is a system directory of the agent's image, which a workspace must not replace; choose a directory of its own/ },
      { name: "a system tree", workspace: { path: "/etc/work" }, expect: /\.workspace\.path: is a system directory/ },
      { name: "/home itself", workspace: { path: "/home" }, expect: /\.workspace\.path: is a system directory/ },
      { name: "retain_on_destroy not a boolean", workspace: { retain_on_destroy: "yes" }, expect: /\.workspace\.retain_on_destroy: must be true or false; omit it to keep the workspace on destroy$/ },
      { name: "size_gb on Docker", workspace: { size_gb: 5 }, expect: /\.workspace\.size_gb: only applies on Kubernetes \(a Docker volume has no size\); drop it$/ },
      { name: "storage_class on Docker", workspace: { storage_class: "standard" }, expect: /\.workspace\.storage_class: only applies on Kubernetes; drop it$/ },
      { name: "a fractional size", workspace: { size_gb: 1.5 }, backend: "kubernetes", expect: /\.workspace\.size_gb: must be a whole number of GiB; e\.g\. 10$/ },
      { name: "a zero size", workspace: { size_gb: 0 }, backend: "kubernetes", expect: /\.workspace\.size_gb: must be at least 1; e\.g\. 10$/ },
      { name: "a bad storage class", workspace: { storage_class: "Fast SSD" }, backend: "kubernetes", expect: /\.workspace\.storage_class: must be a storage class name/ },
      { name: "host_path on Kubernetes", workspace: { host_path: "/srv/work" }, backend: "kubernetes", expect: /\.workspace\.host_path: only applies on Docker .*; drop it, and use size_gb and storage_class for the claim$/ },
      { name: "read_only on Kubernetes", workspace: { read_only: false }, backend: "kubernetes", expect: /\.workspace\.read_only: only applies to a host directory \(host_path\)/ },
      { name: "read_only without host_path", workspace: { read_only: true }, expect: /\.workspace\.read_only: only applies to a host directory \(host_path\); drop it, or set host_path/ },
      { name: "a relative host_path", workspace: { host_path: "work" }, expect: /\.workspace\.host_path: must be an absolute path; write it from the root, e\.g\. \/srv\/bot-bottle\/dev$/ },
      { name: "the Docker socket's directory", workspace: { host_path: "/var/run" }, expect: /\.workspace\.host_path: is a system directory of the host/ },
      { name: "the engine's state", workspace: { host_path: "/var/lib/docker/volumes" }, expect: /\.workspace\.host_path: is a system directory of the host/ },
      { name: "git without url", workspace: { git: {} }, expect: /\.workspace\.git\.url: is required; give the repository as https:/ },
      { name: "git over ssh", workspace: { git: { url: "ssh://git@api.github.com/acme/widget.git" } }, expect: /\.workspace\.git\.url: must use https:\/\/ .*; write https:/ },
      { name: "git over http", workspace: { git: { url: "http://api.github.com/acme/widget.git" } }, expect: /\.workspace\.git\.url: must use https:\/\// },
      { name: "git with credentials", workspace: { git: { url: "https://x:FAKE-pass@api.github.com/acme/widget.git" } }, expect: /\.workspace\.git\.url: must not carry credentials .*give the route of this host an auth block instead$/ },
      { name: "git without a repository", workspace: { git: { url: "https://api.github.com/" } }, expect: /\.workspace\.git\.url: must name a repository/ },
      { name: "git to a host no route allows", workspace: { git: { url: "https://gitlab.example/acme/widget.git" } }, expect: /\.workspace\.git\.url: names host gitlab\.example, which no route of this bottle allows.*; add a route for it to egress_proxy\.routes .*, or drop workspace\.git$/ },
      { name: "a ref that is an option", workspace: { git: { url: "https://api.github.com/acme/widget.git", ref: "--upload-pack=x" } }, expect: /\.workspace\.git\.ref: must be a branch or tag name/ },
      { name: "a ref with ..", workspace: { git: { url: "https://api.github.com/acme/widget.git", ref: "a..b" } }, expect: /\.workspace\.git\.ref: must be a branch or tag name/ },
      { name: "git into a read-only workspace", workspace: { host_path: "/srv/work", read_only: true, git: { url: "https://api.github.com/acme/widget.git" } }, expect: /\.workspace\.git: cannot clone into a read-only workspace; drop git, or set read_only: false$/ },
    ];
    for (const c of cases) {
      it(`refuses ${c.name}, naming the field and the fix`, () => {
        const errors = errorsOf(withWorkspace(c.workspace, c.backend));
        assert.ok(errors.some((e) => c.expect.test(e)), errors.join("\n"));
        for (const e of errors) assert.ok(e.startsWith(FIELD) || e.startsWith("bot-bottle:bottles[0]"), e);
      });
    }

    it("never echoes the url's password", () => {
      const errors = errorsOf(withWorkspace({ git: { url: "https://x:FAKE-pass-do-not-echo@api.github.com/acme/widget.git" } }));
      assert.ok(errors.length > 0);
      for (const e of errors) assert.doesNotMatch(e, /FAKE-pass-do-not-echo/);
    });

    it("reports every workspace problem at once", () => {
      const errors = errorsOf(withWorkspace({ path: "relative", read_only: true, git: { url: "ftp://x/y" } }));
      assert.ok(errors.length >= 3, errors.join("\n"));
    });
  });
});
