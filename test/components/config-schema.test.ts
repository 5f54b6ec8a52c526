import * as assert from "node:assert/strict";
import { isPinnedImage, loadStack, stackConfigSchema, tokensFromRecord } from "../../components";
import { FAKE_PASTED_SECRET, FAKE_TOKENS } from "../helpers/fake-tokens";
import { bottle, fakeTokenSource, stack } from "./fixtures";

const tokens = fakeTokenSource();

/** The errors of a config that must fail; asserts that it does. */
function errorsOf(config: unknown, t = tokens): string[] {
  const result = loadStack(config, t);
  assert.equal(result.ok, false, "config was accepted");
  return result.ok ? [] : result.errors;
}

describe("stack config validation", () => {
  it("accepts the fixture and fills defaults", () => {
    const parsed = stackConfigSchema.parse(stack(bottle("dev")));
    const b = parsed.bottles[0];
    assert.ok(b, "no bottle");
    assert.equal(b.agent.user, "10001");
    // pids has no default in the schema: the plan applies 512 to a non-root agent (plan.test.ts)
    assert.deepEqual(b.agent.limits, { memory_mb: 2048, cpus: 2 });
    assert.equal(b.pipelock.kind, "container");
    assert.equal(parsed.proxyImageName, "bot-bottle/egress-proxy:local");
  });

  const cases: { name: string; config: unknown; expect: RegExp[] }[] = [
    { name: "missing bottles", config: {}, expect: [/^bot-bottle:bottles: must be a list of bottles; /] },
    { name: "empty bottles", config: { bottles: [] }, expect: [/^bot-bottle:bottles: must list at least one bottle; /] },
    {
      name: "bad bottle name and missing agent image",
      config: stack(bottle("Dev_1", { agent: {} as never })),
      expect: [/^bot-bottle:bottles\[0\]\.name: must be a DNS label .*; e\.g\. dev$/, /^bot-bottle:bottles\[0\]\.agent\.image: is required; set agent\.image/],
    },
    {
      name: "duplicate bottle names",
      config: stack(bottle("dev"), bottle("dev")),
      expect: [/^bot-bottle:bottles\[1\]\.name: repeats the name of bottles\[0\]; give each bottle its own name$/],
    },
    {
      name: "unknown field",
      config: stack({ ...bottle("dev"), egress_proxxy: {} } as never),
      expect: [/^bot-bottle:bottles\[0\]: has unknown field\(s\) "egress_proxxy"; remove them or fix the spelling$/],
    },
    {
      name: "no routes",
      config: stack(bottle("dev", { egress_proxy: { routes: [] } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.routes: must list at least one route; /],
    },
    {
      name: "route values checked by the shared routes schema",
      config: stack(bottle("dev", { egress_proxy: { routes: [{ host: "https://api.github.com/", path_allowlist: ["/a/../b"] }] } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.routes\[0\]\.host: must be a hostname/, /^bot-bottle:bottles\[0\]\.egress_proxy\.routes\[0\]\.path_allowlist\[0\]: must not contain dot segments/],
    },
    {
      name: "auth with both scheme and header",
      config: stack(bottle("dev", { egress_proxy: { routes: [{ host: "a.example", auth: { scheme: "Bearer", header: "x-k", token_ref: "githubToken" } }] } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.routes\[0\]\.auth: needs exactly one of `scheme` .*; set one$/],
    },
    {
      name: "auth on a forbidden header, reported at the user's field",
      config: stack(bottle("dev", { egress_proxy: { routes: [{ host: "a.example", auth: { header: "Host", token_ref: "githubToken" } }] } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.routes\[0\]\.auth\.header: cannot carry a credential/],
    },
    {
      name: "pipelock url with image fields and credentials",
      config: stack(bottle("dev", { pipelock: { url: "http://user:pw@pipelock.example:8888", image: "x:1" } })),
      expect: [/^bot-bottle:bottles\[0\]\.pipelock\.url: must not carry credentials; /, /^bot-bottle:bottles\[0\]\.pipelock\.image: only applies to a pipelock container/],
    },
    {
      name: "unpinned pipelock image",
      config: stack(bottle("dev", { pipelock: { image: "ghcr.io/luckypipewrench/pipelock:latest" } })),
      expect: [/^bot-bottle:bottles\[0\]\.pipelock\.image: is not pinned; /],
    },
    {
      name: "pipelock: SSRF CIDRs pipelock refuses (host bits, catch-all, not a CIDR)",
      config: stack(bottle("dev", { pipelock: { ssrf_ip_allowlist: ["10.0.0.1/8", "fd00:bb::1/64", "0.0.0.0/0", "10.0.0.0/08", "fe80::/10%eth0"] } })),
      expect: [
        /^bot-bottle:bottles\[0\]\.pipelock\.ssrf_ip_allowlist\[0\]: has host bits set, which pipelock refuses; write 10\.0\.0\.0\/8$/,
        /^bot-bottle:bottles\[0\]\.pipelock\.ssrf_ip_allowlist\[1\]: has host bits set, which pipelock refuses; write fd00:bb::\/64$/,
        /^bot-bottle:bottles\[0\]\.pipelock\.ssrf_ip_allowlist\[2\]: is a catch-all \(\/0\), which pipelock refuses .*; name the subnet/,
        /^bot-bottle:bottles\[0\]\.pipelock\.ssrf_ip_allowlist\[3\]: must be a CIDR such as 172\.30\.0\.0\/16; /,
        /^bot-bottle:bottles\[0\]\.pipelock\.ssrf_ip_allowlist\[4\]: must be a CIDR such as 172\.30\.0\.0\/16; /,
      ],
    },
    {
      name: "pipelock: trusted domains pipelock refuses or ignores",
      config: stack(bottle("dev", { pipelock: { trusted_domains: ["*.test", "10.1.2.3", "upstream.test:443"] } })),
      expect: [
        /^bot-bottle:bottles\[0\]\.pipelock\.trusted_domains\[0\]: a wildcard must target a concrete domain, as pipelock requires \(`\*\.example\.com`.*\); name the domain/,
        /^bot-bottle:bottles\[0\]\.pipelock\.trusted_domains\[1\]: is an IP address, which pipelock never matches as a trusted domain .*; exempt the address with ssrf_ip_allowlist: \[10\.1\.2\.3\/32\] instead/,
        /^bot-bottle:bottles\[0\]\.pipelock\.trusted_domains\[2\]: must be a hostname .*; drop any scheme, port or path$/,
      ],
    },
    {
      name: "pipelock: allowlist wildcard on a top-level domain",
      config: stack(bottle("dev", { pipelock: { extra_hosts: ["api.example.com", "*.test"] } })),
      expect: [/^bot-bottle:bottles\[0\]\.pipelock\.extra_hosts\[1\]: a wildcard must target a concrete domain/],
    },
    {
      name: "pipelock: tunnel rate limit of 0 (pipelock reads it as 60)",
      config: stack(bottle("dev", { pipelock: { max_tunnels_per_minute: 0 } })),
      expect: [/^bot-bottle:bottles\[0\]\.pipelock\.max_tunnels_per_minute: cannot turn the limit off: pipelock replaces 0 or less with its default of 60; give a whole number from 60 to 60000, or omit it/],
    },
    {
      name: "pipelock: tunnel rate limits out of range or fractional",
      config: stack(bottle("a", { pipelock: { max_tunnels_per_minute: 30 } }), bottle("b", { pipelock: { max_tunnels_per_minute: 100_000 } }), bottle("c", { pipelock: { max_tunnels_per_minute: 600.5 } })),
      expect: [
        /^bot-bottle:bottles\[0\]\.pipelock\.max_tunnels_per_minute: is below pipelock's own default of 60/,
        /^bot-bottle:bottles\[1\]\.pipelock\.max_tunnels_per_minute: is above 60000/,
        /^bot-bottle:bottles\[2\]\.pipelock\.max_tunnels_per_minute: must be a whole number; /,
      ],
    },
    {
      name: "pipelock: tunnel rate limit with pipelock by URL",
      config: stack(bottle("dev", { pipelock: { url: "http://pipelock:8888", max_tunnels_per_minute: 600 } })),
      expect: [/^bot-bottle:bottles\[0\]\.pipelock\.max_tunnels_per_minute: only applies to a pipelock container/],
    },
    {
      name: "private key pasted as upstream CA",
      config: stack(bottle("dev", { egress_proxy: { routes: [{ host: "a.example" }], upstream_ca_pem: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----" } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.upstream_ca_pem: looks like a private key; /],
    },
    {
      name: "an unknown answer to echoed tokens",
      config: stack(bottle("dev", { egress_proxy: { routes: [{ host: "a.example" }], on_echo: "warn" } })),
      expect: [/^bot-bottle:bottles\[0\]\.egress_proxy\.on_echo: must be `redact` \(replace each echoed token, the default\) or `block`/],
    },
    {
      name: "bad limits",
      config: stack(bottle("dev", { agent: { image: "x", limits: { memory_mb: 1, cpus: 0 } } })),
      expect: [/^bot-bottle:bottles\[0\]\.agent\.limits\.memory_mb: must be at least 64; /, /^bot-bottle:bottles\[0\]\.agent\.limits\.cpus: must be positive; /],
    },
    {
      name: "a process limit on a root agent, which the kernel would not apply",
      config: stack(bottle("dev", { agent: { image: "x", user: "0:0", limits: { pids: 256 } } })),
      expect: [/^bot-bottle:bottles\[0\]\.agent\.limits\.pids: cannot be applied to a root agent \(the kernel exempts uid 0 from the process limit\); run the agent as a non-root user, or drop limits\.pids/],
    },
    {
      name: "a CPU count the Docker provider reads back as another amount",
      config: stack(bottle("dev", { agent: { image: "x", limits: { cpus: 0.05 } } })),
      expect: [/^bot-bottle:bottles\[0\]\.agent\.limits\.cpus: 0\.05 is read back by the Docker provider as "0\.1", another amount, so every `pulumi up` would replace the container; give /],
    },
  ];
  for (const c of cases) {
    it(`rejects: ${c.name}`, () => {
      const errors = errorsOf(c.config);
      for (const re of c.expect) assert.ok(errors.some((e) => re.test(e)), `no error matches ${re}:\n${errors.join("\n")}`);
      // ours say `<what>; <fix>`; the shared routes schema's say `must ...`, which is both
      for (const e of errors) assert.match(e, /^bot-bottle:\S*: (.+; .+|must .+)/, "every message is `<path>: <what>; <fix>`");
    });
  }

  it("accepts what pipelock accepts in its fields", () => {
    const parsed = stackConfigSchema.parse(stack(bottle("dev", { pipelock: {
      extra_hosts: ["*.example.test", "203.0.113.7"],
      trusted_domains: ["Upstream.Test", "*.upstream.example"],
      ssrf_ip_allowlist: ["10.0.0.0/8", "172.30.0.0/24", "10.1.2.3/32", "fd00:bb::/64", "::ffff:10.0.0.0/104"],
      max_tunnels_per_minute: 60,
    } })));
    const p = parsed.bottles[0]?.pipelock;
    assert.ok(p, "no bottle");
    assert.ok(p.kind === "container");
    assert.deepEqual(p.trusted_domains, ["upstream.test", "*.upstream.example"]);
    assert.equal(p.max_tunnels_per_minute, 60);
  });

  it("collects problems across bottles in one run", () => {
    const errors = errorsOf(stack(bottle("a", { agent: {} as never }), bottle("b", { egress_proxy: { routes: [{ host: "x..y" }] } })));
    assert.ok(errors.some((e) => e.startsWith("bot-bottle:bottles[0].agent.image:")));
    assert.ok(errors.some((e) => e.startsWith("bot-bottle:bottles[1].egress_proxy.routes[0].host:")));
  });

  it("names an unset or empty secret and the command that fixes it, never a value", () => {
    const errors = errorsOf(stack(bottle("dev")), tokensFromRecord({ githubToken: "  " }));
    assert.deepEqual(errors, [
      "bot-bottle:bottles[0].egress_proxy.routes[0].auth.token_ref: the secret bot-bottle:githubToken is empty; run `pulumi config set --secret githubToken`",
      "bot-bottle:bottles[0].egress_proxy.routes[1].auth.token_ref: the secret bot-bottle:anthropicKey is not set; run `pulumi config set --secret anthropicKey`",
    ]);
  });

  it("refuses a secret too short to be searched for in answers, without its value", () => {
    const errors = errorsOf(stack(bottle("dev")), tokensFromRecord({ githubToken: "s3cr3t", anthropicKey: FAKE_TOKENS.anthropic }));
    assert.deepEqual(errors, [
      "bot-bottle:bottles[0].egress_proxy.routes[0].auth.token_ref: the secret bot-bottle:githubToken is shorter than 8 characters, too short for the proxy to tell it apart from data in answers; run `pulumi config set --secret githubToken`",
    ]);
  });

  it("never echoes a value pasted into the wrong field", () => {
    const secret = FAKE_PASTED_SECRET;
    const errors = errorsOf(stack(bottle("dev", {
      agent: { image: `x ${secret}`, user: secret },
      pipelock: { url: `http://u:${secret}@h:1` },
      egress_proxy: { routes: [{ host: secret, auth: { scheme: "Bearer", token_ref: `${secret}!` } }] },
    })));
    assert.ok(errors.length >= 4, errors.join("\n"));
    for (const e of errors) assert.ok(!e.includes("FAKEFAKE"), e);
  });

  it("tells pinned images apart", () => {
    for (const ref of ["a:1", "ghcr.io/x/y:2.3.0", "localhost:5000/y:1", "y@sha256:abc"]) assert.ok(isPinnedImage(ref), ref);
    for (const ref of ["a", "a:latest", "localhost:5000/y", "ghcr.io/x/y"]) assert.ok(!isPinnedImage(ref), ref);
  });
});
