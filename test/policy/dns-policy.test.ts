/**
 * bottle-no-outside-dns on both backends: what the components declare passes, and an agent or
 * proxy that could have its queries forwarded out of the bottle is refused, naming the fix.
 */
import * as assert from "node:assert/strict";
import { isLoopbackAddress } from "../../policy/dns-policy";
import { mutate, of, record, runPack, type Res } from "./harness";
import { demoStack } from "./stacks";

const POLICY = "bottle-no-outside-dns";
type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests edited in place

describe("bottle-no-outside-dns: no name leaves a bottle through DNS", function () {
  this.timeout(30_000);
  let docker: Res[];
  let kube: Res[];
  before(async () => {
    docker = await record(demoStack());
    kube = await record({ ...demoStack(), backend: "kubernetes" });
  });

  it("passes what both components declare", async () => {
    assert.deepEqual(of(await runPack(docker), POLICY), []);
    assert.deepEqual(of(await runPack(kube), POLICY), []);
  });

  it("refuses a Docker agent or proxy with no dns of its own, or a resolver outside the container", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["demo-agent", undefined, /^bottle "demo", agent container bb-demo-agent has no resolver of its own/],
      ["demo-agent", [], /has no resolver of its own/],
      ["demo-egress-proxy", ["127.0.0.1", "10.0.0.2"], /^bottle "demo", egress-proxy container bb-demo-egress-proxy has resolvers outside the container \(\["10\.0\.0\.2"\]\)/],
      ["demo-agent", ["0.0.0.0"], /resolvers outside the container/],
    ];
    for (const [who, dns, message] of cases) {
      const found = of(await runPack(mutate(docker, who, (i) => (dns === undefined ? delete i.dns : (i.dns = dns)))), POLICY);
      assert.equal(found.length, 1, `${who} dns ${JSON.stringify(dns)}: ${JSON.stringify(found)}`);
      assert.equal(found[0]?.level, "mandatory");
      assert.match(found[0]?.message ?? "", message);
      assert.match(found[0]?.message ?? "", /Fix: no stack setting declares this/);
    }
  });

  it("lets pipelock resolve names: it is the one part of the bottle that must", async () => {
    assert.deepEqual(of(await runPack(mutate(docker, "demo-pipelock", (i) => delete i.dns)), POLICY), []);
  });

  it("refuses a Kubernetes agent whose Pod uses the cluster's resolver or an outside nameserver", async () => {
    const clusterFirst = mutate(kube, "demo-agent", (i) => {
      const pod = (i as Obj).spec.template.spec;
      delete pod.dnsPolicy;
      delete pod.dnsConfig;
    });
    assert.match(of(await runPack(clusterFirst), POLICY)[0]?.message ?? "", /^bottle "demo", agent Deployment bb-demo-agent uses dnsPolicy "ClusterFirst"/);
    const outside = mutate(kube, "demo-egress-proxy", (i) => ((i as Obj).spec.template.spec.dnsConfig = { nameservers: ["10.96.0.10"] }));
    assert.match(of(await runPack(outside), POLICY)[0]?.message ?? "", /egress-proxy Deployment bb-demo-egress-proxy has resolvers outside the container \(\["10\.96\.0\.10"\]\)/);
  });

  it("counts only the container's own loopback as no resolver", () => {
    assert.deepEqual(["127.0.0.1", "127.53.0.1", "::1", "10.0.0.1", "0.0.0.0", "::", "127.0.0.1.example", "1127.0.0.1"].map(isLoopbackAddress), [true, true, true, false, false, false, false, false]);
  });
});
