/**
 * The policy pack on the Kubernetes backend: what the KubernetesBottle component declares under
 * Pulumi mocks passes, and each loosening a change to it could bring is reported.
 */
import * as assert from "node:assert/strict";
import { mutate, of, record, runPack, type Res } from "./harness";
import { demoStack } from "./stacks";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests edited in place

describe("policy pack: the Kubernetes backend", function () {
  this.timeout(30_000);
  let kube: Res[];
  before(async () => {
    kube = await record({ ...demoStack(), backend: "kubernetes" });
  });

  it("finds nothing mandatory to report on what the component declares", async () => {
    assert.ok(kube.some((r) => r.type === DEPLOYMENT), "the stack declares Deployments");
    const mandatory = (await runPack(kube)).filter((v) => v.level === "mandatory");
    assert.deepEqual(mandatory, []);
  });

  describe("bottle-kubernetes-pod-hardening", () => {
    it("reports a Pod that shares the node's network, mounts a host path, a service account token, or may escalate", async () => {
      const loosened = mutate(kube, "demo-agent", (i) => {
        const pod = (i as Obj).spec.template.spec;
        pod.hostNetwork = true;
        pod.automountServiceAccountToken = true;
        pod.volumes.push({ name: "root", hostPath: { path: "/" } });
        pod.containers[0].securityContext.allowPrivilegeEscalation = true;
      });
      const found = of(await runPack(loosened), "bottle-kubernetes-pod-hardening").map((v) => v.message);
      for (const what of ["hostNetwork: true", "mounts a host path (volume root)", "mounts a service account token", "may gain privileges"]) {
        assert.ok(found.some((m) => m.startsWith('bottle "demo", agent Deployment bb-demo-agent') && m.includes(what)), `${what}: ${JSON.stringify(found)}`);
      }
    });
  });

  describe("bottle-kubernetes-isolation", () => {
    it("reports a bottle without its default-deny policy, or an agent policy that opens more than the proxy", async () => {
      const noDeny = kube.filter((r) => r.name !== "demo-policy-default-deny");
      assert.ok(of(await runPack(noDeny), "bottle-kubernetes-isolation").some((v) => v.message.includes("no NetworkPolicy that denies all")));
      const wide = mutate(kube, "demo-policy-agent", (i) => {
        (i as Obj).spec.egress.push({ to: [{ ipBlock: { cidr: "0.0.0.0/0" } }] });
      });
      assert.deepEqual(of(await runPack(wide), "bottle-kubernetes-isolation").map((v) => v.message), [
        'bottle "demo": a NetworkPolicy lets the agent reach more than its egress proxy. Fix: no stack setting declares this; the KubernetesBottle component never does (components/kubernetes/pod-spec.ts), so remove the code change or transformation that adds it.',
      ]);
      const open = mutate(kube, "demo-policy-egress-proxy", (i) => {
        (i as Obj).spec.ingress = [{ ports: [{ protocol: "TCP", port: 8080 }] }];
      });
      assert.ok(of(await runPack(open), "bottle-kubernetes-isolation").some((v) => v.message.includes("lets more than the agent reach the egress proxy")));
    });
  });

  it("checks the routes in the proxy's ConfigMap as in its Docker upload", async () => {
    const unscoped = mutate(kube, "demo-egress-proxy-files", (i) => {
      const data = (i as Obj).data;
      const doc = JSON.parse(data["routes.yaml"]) as { routes: Obj[] };
      for (const r of doc.routes) {
        if (!r.auth) continue;
        delete r.path_allowlist;
        delete r.methods;
      }
      data["routes.yaml"] = JSON.stringify(doc);
    });
    const found = of(await runPack(unscoped), "bottle-route-auth-scoped");
    assert.ok(found.length > 0);
    assert.match(found[0]?.message ?? "", /^bottle "demo", egress-proxy ConfigMap: route \[\d\]/);
  });
});
