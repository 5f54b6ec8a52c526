/**
 * The policies on a bottle's routes, its pipelock, its CA and its network topology, driven by
 * what the Bottle component declares under Pulumi mocks: stack configs a developer could write,
 * and mutations of the recorded resources that only a change to the component could bring.
 */
import * as assert from "node:assert/strict";
import { CONTAINER, NETWORK, POLICY_TEST_TOKENS, UNKNOWN, adding, inputsOf, mutate, of, record, runPack, type Res, type Violation } from "./harness";
import { demoBottle, demoStack, stackOf, withRoute } from "./stacks";

const PROXY = "demo-egress-proxy";
const ROUTES_FILE = "/etc/egress-proxy/routes.yaml";

function only(all: readonly Violation[], policy: string): Violation[] {
  assert.deepEqual([...new Set(all.map((v) => v.policy))], [policy], JSON.stringify(all, null, 2));
  return of(all, policy);
}

/** The proxy's routes.yaml, as uploaded. */
function routesDoc(resources: readonly Res[], proxy = PROXY): { version: number; routes: Record<string, unknown>[] } {
  const uploads = inputsOf(resources, proxy).uploads as { file: string; content: string }[];
  const file = uploads.find((u) => u.file === ROUTES_FILE);
  assert.ok(file, "the proxy has no routes.yaml upload");
  return JSON.parse(file.content) as { version: number; routes: Record<string, unknown>[] };
}

/** `resources` with the proxy's routes.yaml rewritten by `change`. */
function withRoutes(resources: readonly Res[], change: (routes: Record<string, unknown>[]) => void): Res[] {
  return mutate(resources, PROXY, (i) => {
    const uploads = i.uploads as { file: string; content: string }[];
    const file = uploads.find((u) => u.file === ROUTES_FILE);
    assert.ok(file);
    const doc = JSON.parse(file.content) as { routes: Record<string, unknown>[] };
    change(doc.routes);
    file.content = JSON.stringify(doc);
  });
}

function envOf(resources: readonly Res[], name = PROXY): string[] {
  return inputsOf(resources, name).envs as string[];
}

describe("policy pack: routes, pipelock, CA and topology", function () {
  this.timeout(30_000);
  let demo: Res[];
  before(async () => {
    demo = await record(demoStack());
  });

  describe("routes, read from the proxy's routes.yaml upload", () => {
    it("reads the routes the component renders, in config order", () => {
      const doc = routesDoc(demo);
      assert.deepEqual(doc.routes.map((r) => r.host), demoStack().bottles[0]?.egress_proxy.routes.map((r) => r.host));
      assert.ok(doc.routes[0]?.auth !== undefined, "the demo's first route is authenticated");
    });

    describe("bottle-route-auth-scoped", () => {
      it("advises on a credentialed route with neither paths nor methods, naming the route's fields", async () => {
        const unscoped = await record(stackOf(withRoute({ host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "demoToken" } })));
        const [v] = only(await runPack(unscoped), "bottle-route-auth-scoped");
        assert.equal(v?.level, "advisory");
        assert.match(v?.message ?? "", /^bottle "demo", egress-proxy container bb-demo-egress-proxy: route \[2\] \(host api\.anthropic\.com\) injects a credential for every path and method/);
        assert.match(v?.message ?? "", /add bot-bottle:bottles, the bottle named "demo": egress_proxy\.routes\[2\]\.path_allowlist .* or .*egress_proxy\.routes\[2\]\.methods/);
      });

      it("is mandatory when the pack config says so, and silent when disabled", async () => {
        const unscoped = await record(stackOf(withRoute({ host: "api.anthropic.com", auth: { header: "x-api-key", token_ref: "demoToken" } })));
        assert.equal(only(await runPack(unscoped, { "bottle-route-auth-scoped": "mandatory" }), "bottle-route-auth-scoped")[0]?.level, "mandatory");
        assert.deepEqual(await runPack(unscoped, { "bottle-route-auth-scoped": { enforcementLevel: "disabled" } }), []);
      });

      it("leaves public routes and routes scoped by methods alone", async () => {
        const ok = await record(stackOf(withRoute({ host: "api.anthropic.com", methods: ["POST"], auth: { header: "x-api-key", token_ref: "demoToken" } })));
        assert.deepEqual(await runPack(ok), []);
      });
    });

    describe("bottle-route-auth-exact-host", () => {
      it("refuses a credential on a wildcard host written in the stack config", async () => {
        const wildcard = await record(stackOf(withRoute({ host: "*.githubusercontent.com", methods: ["GET"], auth: { scheme: "token", token_ref: "demoToken" } })));
        const [v] = only(await runPack(wildcard), "bottle-route-auth-exact-host");
        assert.equal(v?.level, "mandatory");
        assert.match(v?.message ?? "", /route \[2\] \(host \*\.githubusercontent\.com\) injects a credential on a wildcard host\. Fix: set bot-bottle:bottles, the bottle named "demo": egress_proxy\.routes\[2\]\.host to the exact host/);
      });

      it("leaves a public wildcard route alone", async () => {
        assert.deepEqual(await runPack(await record(stackOf(withRoute({ host: "*.npmjs.org", methods: ["GET"] })))), []);
      });
    });

    describe("bottle-route-auth-tls-only", () => {
      it("refuses a credentialed route that allows plain HTTP (the config schema refuses it too; this catches a renderer change)", async () => {
        const [v] = only(await runPack(withRoutes(demo, (routes) => Object.assign(routes[0] ?? {}, { plain_http: true }))), "bottle-route-auth-tls-only");
        assert.equal(v?.level, "mandatory");
        assert.match(v?.message ?? "", /route \[0\] \(host api\.github\.com\) injects a credential and allows plain HTTP\. Fix: remove bot-bottle:bottles, the bottle named "demo": egress_proxy\.routes\[0\]\.plain_http/);
      });
    });

    describe("bottle-request-inspection-blocks", () => {
      it("reports a route whose inspection only logs, and every route of a bottle that turns it off", async () => {
        const [v] = only(await runPack(withRoutes(demo, (routes) => Object.assign(routes[1] ?? {}, { dlp: { mode: "log" } }))), "bottle-request-inspection-blocks");
        assert.equal(v?.level, "advisory");
        assert.match(v?.message ?? "", /route \[1\] \(host registry\.npmjs\.org\) has request inspection in mode log: secrets it finds are not refused\. Fix: remove bot-bottle:bottles, the bottle named "demo": egress_proxy\.routes\[1\]\.dlp\.mode/);
        const off = await runPack(mutate(demo, PROXY, (i) => {
          for (const u of i.uploads as { file: string; content: string }[]) {
            if (u.file === ROUTES_FILE) u.content = JSON.stringify({ ...(JSON.parse(u.content) as object), dlp: { mode: "off" } });
          }
        }));
        assert.equal(of(off, "bottle-request-inspection-blocks").length, routesDoc(demo).routes.length);
      });

      it("leaves the default (block) and a route that switches single rules off alone", async () => {
        assert.deepEqual(of(await runPack(withRoutes(demo, (routes) => Object.assign(routes[0] ?? {}, { dlp: { allow: ["entropy"] } }))), "bottle-request-inspection-blocks"), []);
      });
    });

    it("fails closed when the routes cannot be read: no upload, or not JSON", async () => {
      const missing = await runPack(mutate(demo, PROXY, (i) => {
        i.uploads = (i.uploads as { file: string }[]).filter((u) => u.file !== ROUTES_FILE);
      }));
      assert.deepEqual(missing.map((v) => v.policy).sort(), ["bottle-request-inspection-blocks", "bottle-route-auth-exact-host", "bottle-route-auth-scoped", "bottle-route-auth-tls-only"]);
      assert.match(missing[0]?.message ?? "", /has no upload of \/etc\/egress-proxy\/routes\.yaml, so its routes cannot be checked; the pack fails closed/);
      const yamlish = await runPack(mutate(demo, PROXY, (i) => {
        for (const u of i.uploads as { file: string; content: string }[]) if (u.file === ROUTES_FILE) u.content = "routes:\n  - host: x\n";
      }));
      assert.equal(of(yamlish, "bottle-route-auth-tls-only").length, 1);
      assert.match(of(yamlish, "bottle-route-auth-tls-only")[0]?.message ?? "", /is not JSON/);
    });

    it("reads routes.yaml during preview even while the CA certificate upload beside it is unknown", async () => {
      const preview = mutate(demo, PROXY, (i) => {
        for (const u of i.uploads as { file: string; content: string }[]) if (u.file !== ROUTES_FILE) u.content = UNKNOWN;
      });
      assert.deepEqual(await runPack(preview), []);
    });
  });

  describe("bottle-pipelock-not-bypassed", () => {
    it("reads the proxy's env, a secret input, as the analyzer hands it over: unwrapped", () => {
      assert.ok(envOf(demo).includes("HTTPS_PROXY=http://pipelock:8888"), JSON.stringify(envOf(demo)));
    });

    it("accepts pipelock by URL", async () => {
      const byUrl = await record(stackOf(demoBottle((b) => ({ ...b, pipelock: { url: "http://pipelock.corp.example:8888" } }))));
      assert.ok(envOf(byUrl).includes("HTTPS_PROXY=http://pipelock.corp.example:8888"));
      assert.deepEqual(await runPack(byUrl), []);
    });

    it("refuses a proxy with no upstream, an empty one, or one sent direct", async () => {
      const noUpstream = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = (i.envs as string[]).filter((e) => !/^HTTPS?_PROXY=/.test(e));
      })), "bottle-pipelock-not-bypassed");
      assert.match(noUpstream[0]?.message ?? "", /^bottle "demo", egress-proxy container bb-demo-egress-proxy names no upstream proxy \(HTTPS_PROXY and HTTP_PROXY unset\), so pipelock is not in its path\. Fix: give bot-bottle:bottles, the bottle named "demo": pipelock either image .* or url/);
      const empty = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = (i.envs as string[]).map((e) => e.replace(/^(HTTPS?_PROXY)=.*$/, "$1="));
      })), "bottle-pipelock-not-bypassed");
      assert.match(empty[0]?.message ?? "", /HTTPS_PROXY and HTTP_PROXY empty/);
      const direct = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = [...(i.envs as string[]), "EGRESS_PROXY_UPSTREAM=direct"];
        i.command = ["node", "/app/dist/main.js", "--upstream", "direct"];
      })), "bottle-pipelock-not-bypassed");
      assert.equal(direct.length, 2, JSON.stringify(direct));
      assert.ok(direct.some((v) => /EGRESS_PROXY_UPSTREAM=direct, which skips pipelock/.test(v.message)));
      assert.ok(direct.some((v) => /started with --upstream direct/.test(v.message)));
    });

    it("refuses two different upstreams and a URL that is none", async () => {
      const split = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = (i.envs as string[]).map((e) => (e.startsWith("HTTP_PROXY=") ? "HTTP_PROXY=http://elsewhere:3128" : e));
      })), "bottle-pipelock-not-bypassed");
      assert.match(split[0]?.message ?? "", /names different upstream proxies in HTTPS_PROXY, HTTP_PROXY/);
      const notUrl = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = (i.envs as string[]).map((e) => e.replace(/^(HTTPS?_PROXY)=.*$/, "$1=pipelock"));
      })), "bottle-pipelock-not-bypassed");
      assert.equal(notUrl.length, 2);
      assert.match(notUrl[0]?.message ?? "", /has HTTPS_PROXY that is not a URL/);
    });

    it("never echoes a value of the proxy's env, which is a secret input", async () => {
      const secret = POLICY_TEST_TOKENS.demoToken;
      const all = await runPack(mutate(demo, PROXY, (i) => {
        i.envs = [...(i.envs as string[]).filter((e) => !/^HTTPS?_PROXY=/.test(e)), `HTTPS_PROXY=${secret}`, `HTTP_PROXY=http://u:${secret}@elsewhere:3128`, `EGRESS_PROXY_UPSTREAM=${secret}`];
      }));
      assert.equal(of(all, "bottle-pipelock-not-bypassed").length, 3, JSON.stringify(all, null, 2));
      for (const v of all) assert.ok(!v.message.includes(secret), v.message);
    });

    it("says during a first preview that the env is not known yet, rather than passing", async () => {
      const [v] = only(await runPack(mutate(demo, PROXY, (i) => {
        i.envs = UNKNOWN;
      })), "bottle-pipelock-not-bypassed");
      assert.equal(v?.level, "advisory");
      assert.match(v?.message ?? "", /can't run policy 'bottle-pipelock-not-bypassed' from policy pack 'bot-bottle' during preview: string value at \.envs can't be known during preview/);
    });
  });

  describe("bottle-ca-validity", () => {
    const CERT_NAME = "demo-ca-cert";
    it("accepts the component's CA by default and refuses it above a lower configured maximum", async () => {
      const hours = inputsOf(demo, CERT_NAME).validityPeriodHours as number;
      assert.ok(hours > 1000);
      const [v] = only(await runPack(demo, { "bottle-ca-validity": { maxValidityHours: 1000 } }), "bottle-ca-validity");
      assert.equal(v?.level, "mandatory");
      assert.match(v?.message ?? "", new RegExp(`^bottle "demo"'s CA \\(demo-ca-cert\\) is valid for ${hours} h, above the maximum of 1000 h\\. Fix: no stack setting controls it`));
    });

    it("refuses a CA valid longer than the default maximum, or without a validity", async () => {
      assert.match(only(await runPack(mutate(demo, CERT_NAME, (i) => (i.validityPeriodHours = 100_000))), "bottle-ca-validity")[0]?.message ?? "", /valid for 100000 h, above the maximum of 43800 h/);
      assert.match(only(await runPack(mutate(demo, CERT_NAME, (i) => delete i.validityPeriodHours)), "bottle-ca-validity")[0]?.message ?? "", /sets no validityPeriodHours/);
    });

    it("leaves certificates that are not CAs alone", async () => {
      assert.deepEqual(await runPack(mutate(demo, CERT_NAME, (i) => Object.assign(i, { isCaCertificate: false, validityPeriodHours: 100_000 }))), []);
    });
  });

  describe("bottle-isolation-topology (validateStack)", () => {
    const stranger = (networks: string[]): Omit<Res, "urn"> => ({
      type: CONTAINER,
      name: "debug-shell",
      inputs: {
        name: "debug-shell", image: "busybox:1.36", user: "1000", capabilities: { drops: ["ALL"] }, securityOpts: ["no-new-privileges:true"],
        networksAdvanced: networks.map((name) => ({ name, aliases: [] })),
      },
    });

    it("accepts two bottles side by side, and pipelock by URL on the bottle's own egress network", async () => {
      const two = await record(stackOf(demoBottle(), demoBottle((b) => ({ ...b, name: "second", pipelock: { url: "http://pipelock.corp.example:8888" } }))));
      assert.deepEqual(await runPack(two), []);
    });

    it("refuses any other container on the agent's network, naming both", async () => {
      const [v] = only(await runPack(adding(demo, stranger(["bb-demo-internal"]))), "bottle-isolation-topology");
      assert.equal(v?.level, "mandatory");
      assert.equal(v?.resource, "debug-shell");
      assert.match(v?.message ?? "", /^bottle "demo", agent container bb-demo-agent shares network bb-demo-internal with container debug-shell .*the agent's only neighbour must be its egress proxy/);
    });

    it("refuses another container on the proxy's egress network", async () => {
      const [v] = only(await runPack(adding(demo, stranger(["bb-demo-egress"]))), "bottle-isolation-topology");
      assert.match(v?.message ?? "", /egress-proxy container bb-demo-egress-proxy shares its egress network bb-demo-egress with container debug-shell/);
    });

    it("refuses an agent of another bottle as a neighbour", async () => {
      const two = await record(stackOf(demoBottle(), demoBottle((b) => ({ ...b, name: "second" }))));
      const crossed = mutate(two, "second-agent", (i) => (i.networksAdvanced = [{ name: "bb-second-internal", aliases: [] }, { name: "bb-demo-internal", aliases: [] }]));
      const all = of(await runPack(crossed), "bottle-isolation-topology");
      assert.ok(all.some((v) => /^bottle "demo", agent container bb-demo-agent shares network bb-demo-internal with bottle "second", agent container bb-second-agent/.test(v.message)), JSON.stringify(all, null, 2));
    });

    it("refuses internal networks that are not internal", async () => {
      const open = await runPack(mutate(mutate(demo, "demo-internal", (i) => (i.internal = false)), "demo-egress", (i) => (i.internal = false)));
      const messages = only(open, "bottle-isolation-topology").map((v) => v.message);
      assert.ok(messages.some((m) => /agent container bb-demo-agent joins network bb-demo-internal, which is not internal/.test(m)), messages.join("\n"));
      assert.ok(messages.some((m) => /egress-proxy container bb-demo-egress-proxy joins network bb-demo-egress, which is not internal: a way out that skips pipelock/.test(m)), messages.join("\n"));
    });

    it("refuses a proxy on pipelock's outbound network: a way out that skips pipelock", async () => {
      const out = mutate(demo, PROXY, (i) => (i.networksAdvanced = [...(i.networksAdvanced as object[]), { name: "bb-demo-outbound", aliases: [] }]));
      const all = of(await runPack(out), "bottle-isolation-topology").map((v) => v.message);
      assert.ok(all.some((m) => /joins network bb-demo-outbound, which is not internal/.test(m)), all.join("\n"));
    });

    it("refuses a proxy on a network the stack does not declare (pipelock.network), unless the pack config trusts it", async () => {
      const external = await record(stackOf(demoBottle((b) => ({ ...b, pipelock: { url: "http://pipelock.corp.example:8888", network: "corp-egress" } }))));
      const [v] = only(await runPack(external), "bottle-isolation-topology");
      assert.match(v?.message ?? "", /egress-proxy container bb-demo-egress-proxy joins network corp-egress, which this stack does not declare/);
      assert.match(v?.message ?? "", /bot-bottle:bottles, the bottle named "demo": pipelock\.network/);
      assert.match(v?.message ?? "", /trustedExternalNetworks of bottle-isolation-topology/);
      assert.deepEqual(await runPack(external, { "bottle-isolation-topology": { trustedExternalNetworks: ["corp-egress"] } }), []);
    });

    it("refuses a bottle whose agent has no egress proxy", async () => {
      const noProxy = demo.filter((r) => r.name !== PROXY);
      const all = of(await runPack(noProxy), "bottle-isolation-topology");
      assert.match(all[0]?.message ?? "", /^bottle "demo" has 0 egress proxies/);
    });

    it("says during preview that it cannot run when a network name is unknown, rather than passing", async () => {
      const [v] = only(await runPack(mutate(demo, "demo-internal", (i) => (i.name = UNKNOWN))), "bottle-isolation-topology");
      assert.equal(v?.level, "advisory");
      assert.match(v?.message ?? "", /can't run policy 'bottle-isolation-topology'/);
    });

    it("identifies a network by its Docker name when it carries no labels", async () => {
      const unlabelled = mutate(demo, "demo-internal", (i) => delete i.labels);
      assert.deepEqual(await runPack(unlabelled), []);
      assert.equal(inputsOf(unlabelled, "demo-internal").name, "bb-demo-internal");
      assert.ok(demo.some((r) => r.type === NETWORK));
    });
  });
});
