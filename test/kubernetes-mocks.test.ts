/**
 * The Kubernetes backend's resource graph under Pulumi mocks: which objects a bottle declares
 * for each option of its config, that tokens and the CA key stay inside the Secret, that the
 * policy (routes.yaml) stays readable, and that no Docker object leaks into a cluster bottle.
 * Mocks first, then the program: a resource created before setMocks never resolves.
 */
import * as assert from "node:assert/strict";
import * as pulumi from "@pulumi/pulumi";
import {
  FAKE_CA_KEY_PKCS8, FAKE_IMAGE_ID, anyOccurrences, containsSecret, fakeClusterIp, installMocks, isSecret, plainOccurrences,
  unwrapSecrets, valueOf, runProgram, type Recorded,
} from "./components/mock-harness";
import { bottle } from "./components/fixtures";
import { FAKE_TOKENS, FAKE_TOKENS_BY_REF, LEAK_MARKER } from "./helpers/fake-tokens";

type Components = typeof import("../components");
let c: Components;

const T = {
  provider: "pulumi:providers:kubernetes",
  namespace: "kubernetes:core/v1:Namespace",
  configMap: "kubernetes:core/v1:ConfigMap",
  secret: "kubernetes:core/v1:Secret",
  service: "kubernetes:core/v1:Service",
  deployment: "kubernetes:apps/v1:Deployment",
  policy: "kubernetes:networking.k8s.io/v1:NetworkPolicy",
  image: "docker:index/image:Image",
} as const;

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- manifests read in assertions

function run(config: unknown): ReturnType<typeof runProgram> {
  return runProgram(c, config, FAKE_TOKENS_BY_REF);
}

function kube(...bottles: ReturnType<typeof bottle>[]) {
  return { bottles, backend: "kubernetes" };
}

const one = (resources: Recorded[], type: string, name: string): Obj => {
  const r = resources.find((x) => x.type === type && x.name === name);
  assert.ok(r, `no ${type} ${name}`);
  return unwrapSecrets(r.inputs) as Obj;
};
const count = (resources: Recorded[], type: string) => resources.filter((r) => r.type === type).length;
const podOf = (resources: Recorded[], name: string): Obj => one(resources, T.deployment, name).spec.template.spec;

function problems(config: unknown): string[] {
  const loaded = c.loadStack(config, c.tokensFromRecord(FAKE_TOKENS_BY_REF));
  return loaded.ok ? [] : loaded.errors;
}

describe("Kubernetes backend under Pulumi mocks", function () {
  this.timeout(20_000);

  before(async () => {
    await installMocks();
    c = await import("../components");
  });

  describe("one bottle with its own pipelock", () => {
    let resources: Recorded[];
    let defined: Awaited<ReturnType<typeof run>>["defined"];
    before(async () => ({ defined, resources } = await run(kube(bottle("solo")))));

    it("declares a namespace, a Secret, a ConfigMap per role, two Services, three Deployments and four NetworkPolicies; nothing of Docker's but the local proxy build", () => {
      assert.equal(count(resources, "bot-bottle:index:KubernetesBottle"), 1);
      assert.equal(count(resources, T.provider), 1);
      assert.equal(count(resources, T.namespace), 1);
      assert.equal(count(resources, T.secret), 1);
      assert.equal(count(resources, T.configMap), 3);
      assert.equal(count(resources, T.service), 2);
      assert.equal(count(resources, T.deployment), 3);
      assert.equal(count(resources, T.policy), 4);
      assert.equal(count(resources, T.image), 1, "the proxy image is built locally when no pushed image is named");
      assert.deepEqual(resources.filter((r) => r.type.startsWith("docker:") && r.type !== T.image).map((r) => r.type), []);
      assert.equal(count(resources, "bot-bottle:index:Bottle"), 0);
    });

    it("names objects as the Docker backend does, in namespace bb-<bottle> at the restricted Pod Security level", () => {
      const ns = one(resources, T.namespace, "solo-namespace");
      assert.equal(ns.metadata.name, "bb-solo");
      assert.equal(ns.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
      for (const role of ["agent", "egress-proxy", "pipelock"]) {
        const d = one(resources, T.deployment, `solo-${role}`);
        assert.equal(d.metadata.name, `bb-solo-${role}`);
        assert.equal(d.metadata.namespace, "bb-solo");
        assert.deepEqual(d.metadata.labels, { "bot-bottle.bottle": "solo", "bot-bottle.role": role, "bot-bottle.managed": "true" });
        assert.deepEqual(d.spec.template.metadata.labels, d.metadata.labels);
        assert.equal(d.spec.replicas, 1);
        assert.equal(d.spec.strategy.type, "Recreate");
      }
      assert.equal(one(resources, T.service, "solo-egress-proxy-service").metadata.name, "bb-solo-egress-proxy");
      assert.deepEqual(one(resources, T.service, "solo-egress-proxy-service").metadata.annotations, { "pulumi.com/skipAwait": "true" }, "the agent needs only the address");
      assert.equal(one(resources, T.service, "solo-pipelock-service").metadata.name, "bb-solo-pipelock");
    });

    it("keeps every token and the CA key in the Secret, marked secret, and nowhere else", () => {
      const secret = resources.find((r) => r.type === T.secret);
      assert.ok(secret);
      assert.equal(containsSecret(secret.inputs.stringData), true);
      const data = (unwrapSecrets(secret.inputs) as Obj).stringData as Record<string, string>;
      assert.deepEqual(Object.keys(data).sort(), ["EGRESS_PROXY_CA_KEY_PEM", "EGRESS_PROXY_TOKEN_1", "EGRESS_PROXY_TOKEN_2"]);
      assert.equal(data.EGRESS_PROXY_CA_KEY_PEM, FAKE_CA_KEY_PKCS8);
      assert.deepEqual([data.EGRESS_PROXY_TOKEN_1, data.EGRESS_PROXY_TOKEN_2], [FAKE_TOKENS.github, FAKE_TOKENS.anthropic]);
      for (const r of resources.filter((x) => x.type !== T.secret && !x.type.startsWith("tls:"))) {
        assert.deepEqual(plainOccurrences(r.inputs, LEAK_MARKER), [], `${r.type} ${r.name}`);
        assert.equal(anyOccurrences(r.inputs, LEAK_MARKER), false, `${r.type} ${r.name} holds a secret value`);
      }
    });

    it("puts routes.yaml and the CA certificate in the proxy's ConfigMap, in clear", () => {
      const cm = one(resources, T.configMap, "solo-egress-proxy-files");
      const raw = resources.find((r) => r.name === "solo-egress-proxy-files");
      assert.equal(containsSecret(raw?.inputs), false);
      assert.deepEqual(Object.keys(cm.data).sort(), ["ca.pem", "routes.yaml"]);
      assert.equal(cm.data["routes.yaml"], (defined.bottles.solo as { plan: { routes: { content: string } } }).plan.routes.content);
      assert.match(cm.data["ca.pem"], /BEGIN CERTIFICATE/);
      assert.equal(cm.metadata.name, undefined, "auto-named, so that a change replaces it and rolls the proxy");
    });

    it("runs the agent non-root, without capabilities, token or resolver, trusting the CA from a read-only mount", () => {
      const pod = podOf(resources, "solo-agent");
      const [agent] = pod.containers;
      assert.equal(pod.automountServiceAccountToken, false);
      assert.equal(pod.enableServiceLinks, false);
      assert.equal(pod.terminationGracePeriodSeconds, 10, "Docker's stop timeout, not Kubernetes' 30 s");
      // fsGroup: the kubelet gives the workspace claim to the agent's group (pod-spec.ts)
      assert.deepEqual(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" }, fsGroup: 10001, fsGroupChangePolicy: "OnRootMismatch" });
      assert.deepEqual(agent.securityContext, {
        runAsUser: 10001, runAsNonRoot: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, readOnlyRootFilesystem: false,
      });
      assert.deepEqual(agent.volumeMounts, [{ name: "files-0", mountPath: "/etc/bot-bottle", readOnly: true }, { name: "workspace", mountPath: "/workspace" }]);
      assert.deepEqual(pod.volumes[0].configMap.items, [{ key: "ca.pem", path: "ca.pem", mode: 0o444 }, { key: "ca.p12", path: "ca.p12", mode: 0o444 }]);
      // the Java trust store is binary: binaryData, built from the bottle CA's certificate
      const files = one(resources, T.configMap, "solo-agent-files");
      assert.deepEqual(Object.keys(files.data), ["ca.pem"]);
      assert.ok(Buffer.from(files.binaryData["ca.p12"], "base64").includes(Buffer.from("FAKE-CA-CERT")));
      assert.deepEqual(pod.hostAliases, [{ ip: fakeClusterIp("solo-egress-proxy-service"), hostnames: ["egress-proxy"] }]);
      assert.deepEqual([pod.dnsPolicy, pod.dnsConfig], ["None", { nameservers: ["127.0.0.1"] }]);
      const env = Object.fromEntries((agent.env as Obj[]).map((e) => [e.name, e.value]));
      assert.equal(env.HTTPS_PROXY, "http://egress-proxy:8080");
      assert.equal(env.SSL_CERT_FILE, "/etc/bot-bottle/ca.pem");
      assert.ok((agent.env as Obj[]).every((e) => e.valueFrom === undefined), "the agent reads nothing from the Secret");
      assert.deepEqual(agent.args, ["sleep", "infinity"]);
      assert.deepEqual(agent.resources.limits, { cpu: "2000m", memory: "2048Mi" });
    });

    it("gives the proxy its secrets from the Secret, its files read-only, pipelock by alias, and the local image", async () => {
      const d = one(resources, T.deployment, "solo-egress-proxy");
      const pod = d.spec.template.spec;
      const [proxy] = pod.containers;
      const secretName = `solo-egress-proxy-secrets-5f2a9c1e`;
      const fromSecret = (proxy.env as Obj[]).filter((e) => e.valueFrom).map((e) => [e.name, e.valueFrom.secretKeyRef.name, e.valueFrom.secretKeyRef.key]);
      assert.deepEqual(fromSecret, [
        ["EGRESS_PROXY_CA_KEY_PEM", secretName, "EGRESS_PROXY_CA_KEY_PEM"],
        ["EGRESS_PROXY_TOKEN_1", secretName, "EGRESS_PROXY_TOKEN_1"],
        ["EGRESS_PROXY_TOKEN_2", secretName, "EGRESS_PROXY_TOKEN_2"],
      ]);
      const names = (proxy.env as Obj[]).map((e) => e.name);
      assert.ok(!names.includes("EGRESS_PROXY_AGENT_ALIAS"), "a Pod has one address; the NetworkPolicy admits the agent alone");
      assert.equal(proxy.image, "bot-bottle/egress-proxy:local");
      assert.equal(proxy.imagePullPolicy, "Never");
      assert.equal(d.spec.template.metadata.annotations["bot-bottle.proxy-image-id"], FAKE_IMAGE_ID);
      assert.equal(proxy.securityContext.runAsUser, 10002);
      assert.equal(proxy.securityContext.readOnlyRootFilesystem, true);
      assert.deepEqual(proxy.volumeMounts.map((m: Obj) => [m.mountPath, m.readOnly ?? false]), [["/etc/egress-proxy", true], ["/tmp", false]]);
      assert.deepEqual(pod.hostAliases, [{ ip: fakeClusterIp("solo-pipelock-service"), hostnames: ["pipelock"] }]);
      assert.deepEqual(proxy.readinessProbe.exec.command, ["node", "/app/dist/healthcheck.js"]);
      const secret = resources.find((r) => r.type === T.secret);
      assert.equal(await isSecret(pulumi.output(secret?.inputs.stringData)), false, "recorded inputs are plain; the Output check is above");
    });

    it("runs pipelock with its config from its ConfigMap, as the image's user, with a resolver", () => {
      const pod = podOf(resources, "solo-pipelock");
      const [pl] = pod.containers;
      assert.deepEqual(pl.args, ["run", "--config", "/etc/pipelock/pipelock.yaml", "--listen", "0.0.0.0:8888"]);
      assert.equal(pl.securityContext.runAsUser, 65534);
      assert.equal(pod.dnsPolicy, undefined);
      assert.deepEqual(pl.readinessProbe.exec.command, ["/pipelock", "healthcheck", "--addr", "127.0.0.1:8888"]);
      assert.match(one(resources, T.configMap, "solo-pipelock-files").data["pipelock.yaml"], /api\.github\.com/);
    });

    it("lets the agent reach the proxy port alone, the proxy pipelock alone, and pipelock out but not the metadata range", () => {
      const policy = (id: string) => one(resources, T.policy, `solo-policy-${id}`).spec;
      const sel = (role: string) => ({ podSelector: { matchLabels: { "bot-bottle.bottle": "solo", "bot-bottle.role": role } } });
      assert.deepEqual(policy("default-deny"), { podSelector: { matchLabels: { "bot-bottle.bottle": "solo" } }, policyTypes: ["Ingress", "Egress"] });
      assert.deepEqual(policy("agent").egress, [{ to: [sel("egress-proxy")], ports: [{ protocol: "TCP", port: 8080 }] }]);
      assert.equal(policy("agent").ingress, undefined);
      assert.deepEqual(policy("egress-proxy").ingress, [{ from: [sel("agent")], ports: [{ protocol: "TCP", port: 8080 }] }]);
      assert.deepEqual(policy("egress-proxy").egress, [{ to: [sel("pipelock")], ports: [{ protocol: "TCP", port: 8888 }] }]);
      assert.deepEqual(policy("pipelock").ingress, [{ from: [sel("egress-proxy")], ports: [{ protocol: "TCP", port: 8888 }] }]);
      assert.deepEqual(policy("pipelock").egress[0].to[0], { ipBlock: { cidr: "0.0.0.0/0", except: ["169.254.0.0/16"] } });
    });

    it("starts no Pod before the NetworkPolicies that seal it exist", () => {
      const policies = resources.filter((r) => r.type === T.policy);
      const lastPolicy = Math.max(...policies.map((r) => r.answeredAt ?? Infinity));
      for (const d of resources.filter((r) => r.type === T.deployment)) assert.ok(d.askedAt > lastPolicy, `${d.name} was created before every policy existed`);
    });

    it("outputs kubectl commands for the bottle's namespace, and its egress policy", async () => {
      const o = defined.outputs.solo;
      assert.ok(o && "namespace" in o);
      assert.equal(await valueOf(o.backend), "kubernetes");
      assert.equal(await valueOf(o.enter), "kubectl -n bb-solo exec -it deploy/bb-solo-agent -- sh");
      assert.equal(await valueOf(o.auditLog), "kubectl -n bb-solo logs -f deploy/bb-solo-egress-proxy");
      assert.equal(await valueOf(o.list), "kubectl -n bb-solo get deployments,pods,services,networkpolicies,configmaps,secrets -l bot-bottle.bottle=solo");
      assert.equal(await valueOf(o.namespace), "bb-solo");
      assert.deepEqual(await valueOf(o.deployments), { agent: "bb-solo-agent", "egress-proxy": "bb-solo-egress-proxy", pipelock: "bb-solo-pipelock" });
      const policy = await valueOf(o.egressPolicy);
      assert.equal(policy.routes.length, 4);
      assert.equal(policy.via, "pipelock Deployment bb-solo-pipelock in namespace bb-solo");
    });
  });

  describe("workspace", () => {
    const PVC = "kubernetes:core/v1:PersistentVolumeClaim";
    const withWorkspace = (name: string, workspace: unknown) => {
      const b = bottle(name);
      return kube({ ...b, agent: { ...b.agent, workspace: workspace as never } });
    };

    it("declares a claim in the bottle's namespace and mounts it in the agent's Pod as its working directory, owned through fsGroup", async () => {
      const { resources, defined } = await run(withWorkspace("kws", { size_gb: 20, storage_class: "local-e2e", path: "/home/agent/work" }));
      const claim = one(resources, PVC, "kws-workspace");
      assert.deepEqual(claim.metadata, {
        name: "bb-kws-workspace", namespace: "bb-kws",
        labels: { "bot-bottle.bottle": "kws", "bot-bottle.role": "workspace", "bot-bottle.managed": "true" },
        annotations: { "pulumi.com/skipAwait": "true" },
      });
      assert.deepEqual(claim.spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } }, storageClassName: "local-e2e" });
      const pod = podOf(resources, "kws-agent");
      const [agent] = pod.containers;
      assert.equal(agent.workingDir, "/home/agent/work");
      assert.deepEqual(agent.volumeMounts.at(-1), { name: "workspace", mountPath: "/home/agent/work" });
      assert.deepEqual(pod.volumes.at(-1), { name: "workspace", persistentVolumeClaim: { claimName: "bb-kws-workspace" } });
      assert.deepEqual([pod.securityContext.fsGroup, pod.securityContext.fsGroupChangePolicy], [10001, "OnRootMismatch"]);
      assert.ok((agent.env as Obj[]).some((e) => e.name === "BOT_BOTTLE_WORKSPACE" && e.value === "/home/agent/work"));
      for (const role of ["egress-proxy", "pipelock"]) {
        assert.equal((podOf(resources, `kws-${role}`).volumes as Obj[]).some((v) => v.name === "workspace"), false, role);
      }
      const b = defined.bottles.kws as { workspaceClaim?: unknown } | undefined;
      assert.ok(b?.workspaceClaim, "the component exposes its claim");
    });

    it("uses the group of uid:gid as fsGroup, and the cluster's default class and 10 GiB when none is given", async () => {
      const b = bottle("kgid");
      const { resources } = await run(kube({ ...b, agent: { ...b.agent, user: "10001:20002" } }));
      assert.equal(podOf(resources, "kgid-agent").securityContext.fsGroup, 20002);
      assert.deepEqual(one(resources, PVC, "kgid-workspace").spec, { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } });
    });

    it("declares no claim and no fsGroup with workspace: false", async () => {
      const { resources } = await run(withWorkspace("knone", false));
      assert.equal(count(resources, PVC), 0);
      const pod = podOf(resources, "knone-agent");
      assert.equal(pod.securityContext.fsGroup, undefined);
      assert.equal(pod.containers[0].workingDir, undefined);
    });
  });

  describe("options", () => {
    it("puts every bottle in the stack's namespace when one is named, apart by labels", async () => {
      const { resources } = await run({ ...kube(bottle("red"), bottle("blue")), kubernetes: { namespace: "agents" } });
      assert.equal(count(resources, T.namespace), 1);
      assert.equal(one(resources, T.namespace, "stack-namespace").metadata.name, "agents");
      for (const r of resources.filter((x) => x.type.startsWith("kubernetes:") && x.type !== T.namespace)) assert.equal((r.inputs.metadata as Obj).namespace, "agents", r.name);
      assert.deepEqual(one(resources, T.policy, "blue-policy-default-deny").spec.podSelector, { matchLabels: { "bot-bottle.bottle": "blue" } });
      assert.equal(one(resources, T.deployment, "red-agent").metadata.name, "bb-red-agent");
    });

    it("reaches the cluster through the kubeconfig and context given, and says so in the commands", async () => {
      const { resources, defined } = await run({ ...kube(bottle("ctx")), kubernetes: { kubeconfig: "/home/me/.kube/lab config", context: "lab" } });
      const provider = resources.find((r) => r.type === T.provider);
      assert.deepEqual([provider?.inputs.kubeconfig, provider?.inputs.context], ["/home/me/.kube/lab config", "lab"]);
      assert.equal(await valueOf(defined.outputs.ctx?.enter ?? pulumi.output("")), "kubectl --kubeconfig '/home/me/.kube/lab config' --context lab -n bb-ctx exec -it deploy/bb-ctx-agent -- sh");
    });

    it("runs a pushed proxy image with the stack's pull policy and builds nothing locally", async () => {
      const { resources, defined } = await run({ ...kube(bottle("pushed")), kubernetes: { proxy_image: "registry.example.test/bb/egress-proxy:1.2", image_pull_policy: "Always" } });
      assert.equal(defined.proxyImage, undefined);
      assert.deepEqual(resources.filter((r) => r.type.startsWith("docker:")), []);
      const d = one(resources, T.deployment, "pushed-egress-proxy");
      assert.equal(d.spec.template.spec.containers[0].image, "registry.example.test/bb/egress-proxy:1.2");
      assert.equal(d.spec.template.spec.containers[0].imagePullPolicy, "Always");
      assert.equal(d.spec.template.metadata.annotations, undefined);
      assert.equal(podOf(resources, "pushed-agent").containers[0].imagePullPolicy, "Always");
    });

    it("uses a pipelock given by address: no pipelock objects, the proxy's egress to that address alone", async () => {
      const { resources } = await run(kube(bottle("byurl", { pipelock: { url: "http://10.20.30.40:8888" } })));
      assert.equal(count(resources, T.deployment), 2);
      assert.equal(count(resources, T.service), 1);
      assert.equal(count(resources, T.policy), 3);
      assert.deepEqual(one(resources, T.policy, "byurl-policy-egress-proxy").spec.egress, [{ to: [{ ipBlock: { cidr: "10.20.30.40/32" } }], ports: [{ protocol: "TCP", port: 8888 }] }]);
      const pod = podOf(resources, "byurl-egress-proxy");
      assert.equal(pod.hostAliases, undefined);
      assert.equal(Object.fromEntries((pod.containers[0].env as Obj[]).map((e) => [e.name, e.value])).HTTPS_PROXY, "http://10.20.30.40:8888");
    });

    it("declares nothing of Kubernetes for a stack whose bottles all run on Docker", async () => {
      const { resources } = await run({ bottles: [bottle("plain")], kubernetes: { context: "unused" } });
      assert.deepEqual(resources.filter((r) => r.type.includes("kubernetes")).map((r) => r.type), []);
      // the bottle's three and its workspace's init step
      assert.equal(count(resources, "docker:index/container:Container"), 4);
    });

    it("mixes backends in one stack: each bottle where it says", async () => {
      const { resources } = await run({ bottles: [bottle("here"), bottle("there", { backend: "kubernetes" })] });
      assert.equal(count(resources, "bot-bottle:index:Bottle"), 1);
      assert.equal(count(resources, "bot-bottle:index:KubernetesBottle"), 1);
      assert.equal(count(resources, "docker:index/container:Container"), 4);
      assert.equal(count(resources, T.deployment), 3);
      assert.equal(count(resources, T.image), 1, "one local build serves both");
    });
  });

  describe("config a cluster cannot take", () => {
    it("names the field and the fix", () => {
      assert.deepEqual(problems(kube(bottle("a", { agent: { image: "x:1", user: "root" } }))), [
        "bot-bottle:bottles[0].agent.user: must be a numeric uid or uid:gid on Kubernetes, which runs containers by number; e.g. 10001",
      ]);
      assert.deepEqual(problems(kube(bottle("a", { agent: { image: "x:1", user: "0:0" } }))), [
        "bot-bottle:bottles[0].agent.user: must not be root on Kubernetes (the namespace enforces the restricted Pod Security level); e.g. 10001",
      ]);
      assert.deepEqual(problems(kube(bottle("a", { pipelock: { url: "http://pipelock.tools:8888" } }))), [
        "bot-bottle:bottles[0].pipelock.url: must name pipelock by IP address on Kubernetes, so that the proxy's NetworkPolicy allows that address alone; write http://<ip>:<port>, or drop url to run pipelock in the bottle",
      ]);
      assert.deepEqual(problems(kube(bottle("a", { pipelock: { url: "http://10.0.0.9:8888", network: "tools" } }))), [
        "bot-bottle:bottles[0].pipelock.network: names a Docker network, which Kubernetes does not have; drop it",
      ]);
      assert.deepEqual(problems(kube(bottle("a", { agent: { image: "x:1", limits: { pids: 256 } } }))), [
        "bot-bottle:bottles[0].agent.limits.pids: has no Pod equivalent on Kubernetes (the kubelet's podPidsLimit bounds every Pod of the node); drop it, and set podPidsLimit in the kubelet's configuration",
      ]);
      assert.deepEqual(problems({ ...kube(bottle("a")), backend: "k8s" }), ["bot-bottle:backend: must be docker or kubernetes; omit it for docker"]);
      assert.deepEqual(problems({ bottles: [bottle("a", { backend: "nomad" as "docker" })] }), ["bot-bottle:bottles[0].backend: must be docker or kubernetes; omit it for docker"]);
      assert.deepEqual(problems({ ...kube(bottle("a")), kubernetes: { kubeconfig: "apiVersion: v1\nclusters: []" } }), [
        "bot-bottle:kubernetes.kubeconfig: looks like the content of a kubeconfig, which holds credentials; give its file path instead",
      ]);
      assert.deepEqual(problems({ ...kube(bottle("a")), kubernetes: { namespace: "Agents_1" } }), [
        "bot-bottle:kubernetes.namespace: must be a DNS label (a-z, 0-9, -, at most 63 characters); e.g. bot-bottle",
      ]);
      assert.deepEqual(problems({ ...kube(bottle("a")), kubernetes: { image_pull_policy: "Sometimes" } }), [
        "bot-bottle:kubernetes.image_pull_policy: must be Always, IfNotPresent or Never",
      ]);
    });

    it("lets a Docker bottle keep what only Docker gives", () => {
      assert.deepEqual(problems({ bottles: [bottle("a", { agent: { image: "x:1", user: "root" }, pipelock: { url: "http://pipelock.tools:8888", network: "tools" } })] }), []);
    });
  });
});
