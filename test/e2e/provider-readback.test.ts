/**
 * The e2e applier's model of the Docker provider's read-back and diff, without a Docker engine:
 * `docker inspect` fixtures (test/e2e/fixtures/, taken from a 20.10 engine) against inputs.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { FAKE_TOKENS, LEAK_MARKER } from "../helpers/fake-tokens";
import {
  describeChanges, diffAgainstRead, diffUnread, goDuration, nanoCpusString, readContainer, readNetwork, type FieldChange,
} from "./lib/provider-readback";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";
type Json = Record<string, unknown>;

function fixture(name: string): Json {
  return JSON.parse(readFileSync(path.join(__dirname, "fixtures", name), "utf8")) as Json;
}

/** The container fixture with some HostConfig or Config fields replaced. */
function inspected(host: Json = {}, config: Json = {}): Json {
  const base = fixture("inspect-container.json");
  return { ...base, HostConfig: { ...(base.HostConfig as Json), ...host }, Config: { ...(base.Config as Json), ...config } };
}

const SECRET_ROUTES = `routes:\n  - host: api.example.test # ${FAKE_TOKENS.github}\n`;

/** The inputs that created the fixture container, written in the provider's read-back form. */
const DECLARED: Json = {
  name: "rb-fixture",
  image: "bot-bottle/base:bookworm",
  command: ["sleep", "infinity"],
  user: "10001",
  envs: ["EGRESS_PROXY_ROUTES=/etc/egress-proxy/routes.yaml"],
  labels: [{ label: "bot-bottle.bottle", value: "fixture" }],
  capabilities: { drops: ["ALL"] },
  securityOpts: ["no-new-privileges:true"],
  memory: 512,
  memorySwap: 1024,
  cpus: "2.0",
  ulimits: [{ name: "nproc", soft: 256, hard: 256 }],
  healthcheck: { tests: ["CMD-SHELL", "curl -fsS http://127.0.0.1:8081/healthz"], interval: "10s", timeout: "3s", retries: 3, startPeriod: "5s" },
  restart: "unless-stopped",
  mustRun: true,
  networksAdvanced: [{ name: "rb-fixture-net", aliases: ["egress-proxy"] }],
  uploads: [{ file: "/etc/egress-proxy/routes.yaml", content: SECRET_ROUTES, permissions: "0444" }],
};

function without(inputs: Json, field: string): Json {
  const { [field]: _dropped, ...rest } = inputs;
  return rest;
}

/** Read the inspect JSON as after create with DECLARED, then diff `inputs` against it. */
function diff(inputs: Json, inspect: Json = inspected()): FieldChange[] {
  return diffAgainstRead(CONTAINER, inputs, readContainer(inspect, DECLARED));
}

describe("e2e applier: the Docker provider's read-back", () => {
  describe("diffAgainstRead (container)", () => {
    it("finds nothing when every input is in the read-back form", () => {
      assert.deepEqual(diff(DECLARED), []);
    });

    it('replaces on cpus "2" against NanoCpus 2e9 (read back as "2.0")', () => {
      assert.deepEqual(diff({ ...DECLARED, cpus: "2" }), [{ field: "cpus", kind: "replace", declared: "2", read: "2.0" }]);
    });

    it('updates memorySwap in place when it is absent and Docker stored twice the memory', () => {
      assert.deepEqual(diff(without(DECLARED, "memorySwap")), [{ field: "memorySwap", kind: "update", declared: "(absent)", read: "1024" }]);
    });

    it("finds nothing when memorySwap equals memory and the engine holds the same", () => {
      assert.deepEqual(diff({ ...DECLARED, memorySwap: 512 }, inspected({ MemorySwap: 512 * 1024 * 1024 })), []);
    });

    it("finds nothing for an absent user while the image set Config.User: the DiffSuppressFunc takes a new \"\" as the old value", () => {
      // SDK v2 diffString plans a removal ("10001" → ""), which user's DiffSuppressFunc suppresses
      assert.deepEqual(diff(without(DECLARED, "user"), inspected({}, { User: "10001:10001" })), []);
    });

    it("replaces on a declared user that differs from the one read back", () => {
      assert.deepEqual(diff({ ...DECLARED, user: "0" }), [{ field: "user", kind: "replace", declared: "0", read: "10001" }]);
    });

    it("compares healthcheck durations as the strings Go's Duration.String() writes", () => {
      const hc = DECLARED.healthcheck as Json;
      assert.deepEqual(diff({ ...DECLARED, healthcheck: { ...hc, interval: "10000ms" } }), [
        { field: "healthcheck.interval", kind: "update", declared: "10000ms", read: "10s" },
      ]);
      assert.deepEqual(diff({ ...DECLARED, healthcheck: { ...hc, interval: "90s" } }, inspected({}, { Healthcheck: { ...((inspected().Config as Json).Healthcheck as Json), Interval: 90e9 } })), [
        { field: "healthcheck.interval", kind: "update", declared: "90s", read: "1m30s" },
      ]);
      assert.deepEqual(diff({ ...DECLARED, healthcheck: { ...hc, startInterval: "0s" } }), [], "startInterval: Default 0s, read 0s");
      assert.deepEqual(diff(without(DECLARED, "healthcheck")), [], "healthcheck is Computed");
    });

    it("takes an absent networkMode as its Default `bridge`, which the engine holds only if the container was created in it", () => {
      assert.deepEqual(diff(DECLARED), []);
      assert.deepEqual(diff(DECLARED, inspected({ NetworkMode: "rb-fixture-net" })).map((c) => `${c.field} ${c.kind}`), ["networkMode replace"]);
    });

    it("replaces when a declared field is removed and Read stored a value (capabilities)", () => {
      assert.deepEqual(diff(without(DECLARED, "capabilities")), [{ field: "capabilities", kind: "replace" }]);
    });

    it("reads ulimits only when they are configured", () => {
      assert.equal(readContainer(inspected(), without(DECLARED, "ulimits")).ulimits, undefined);
      assert.deepEqual(diff({ ...DECLARED, ulimits: [{ name: "nproc", soft: 128, hard: 256 }] }), [{ field: "ulimits", kind: "replace" }]);
    });
  });

  describe("diffUnread (fields Read never sets: compared with the previous inputs)", () => {
    const state = readContainer(inspected(), DECLARED);

    it("replaces on a changed route upload, naming the field and never its content", () => {
      const next = { ...DECLARED, uploads: [{ file: "/etc/egress-proxy/routes.yaml", content: `${SECRET_ROUTES}  - host: new.example.test\n`, permissions: "0444" }] };
      const changes = diffUnread(CONTAINER, DECLARED, next, state);
      assert.deepEqual(changes, [{ field: "uploads", kind: "replace" }]);
      assert.ok(!describeChanges(changes).includes(LEAK_MARKER));
    });

    it("finds nothing for the same inputs, and does not re-diff fields Read set", () => {
      assert.deepEqual(diffUnread(CONTAINER, DECLARED, { ...DECLARED }, state), []);
      assert.deepEqual(diffUnread(CONTAINER, DECLARED, { ...DECLARED, cpus: "2" }, state), [], "cpus was read back: diffAgainstRead's");
    });

    it("updates mustRun in place and replaces on envs", () => {
      assert.deepEqual(diffUnread(CONTAINER, DECLARED, { ...DECLARED, mustRun: false }, state), [{ field: "mustRun", kind: "update", declared: "false", read: "true" }]);
      assert.deepEqual(diffUnread(CONTAINER, DECLARED, { ...DECLARED, envs: ["A=b"] }, state), [{ field: "envs", kind: "replace" }]);
    });
  });

  describe("networks", () => {
    const DECLARED_NET: Json = {
      name: "rb-fixture-net",
      driver: "bridge",
      internal: true,
      options: { "com.docker.network.bridge.inhibit_ipv4": "true" },
      labels: [{ label: "bot-bottle.bottle", value: "fixture" }],
    };
    const state = readNetwork(fixture("inspect-network.json"));

    it("finds nothing for the inputs that created it (ipamDriver: Default `default`; ipamConfigs: Computed)", () => {
      assert.deepEqual(diffAgainstRead(NETWORK, DECLARED_NET, state), []);
    });

    it("replaces on internal and on labels", () => {
      assert.deepEqual(diffAgainstRead(NETWORK, { ...DECLARED_NET, internal: false }, state), [{ field: "internal", kind: "replace", declared: "false", read: "true" }]);
      assert.deepEqual(diffAgainstRead(NETWORK, { ...DECLARED_NET, labels: [] }, state), [{ field: "labels", kind: "replace" }]);
    });
  });

  describe("formats", () => {
    const cpus: [number, string][] = [[2e9, "2.0"], [1.5e9, "1.5"], [5e8, "0.5"], [2.5e8, "0.25"], [1e10, "10."], [16e9, "16.0"], [1.001e9, "1.001"],
      // exactly nine "0" characters: rounded to one decimal, another amount
      [1e6, "0.0"], [5e7, "0.1"]];
    for (const [nano, text] of cpus) it(`nanoCpusString(${nano}) = ${JSON.stringify(text)}`, () => assert.equal(nanoCpusString(nano), text));
    const durations: [number, string][] = [[0, "0s"], [10e9, "10s"], [90e9, "1m30s"], [3600e9, "1h0m0s"], [5e8, "500ms"], [1.5e9, "1.5s"], [1500, "1.5\u00b5s"]];
    for (const [ns, text] of durations) it(`goDuration(${ns}) = ${JSON.stringify(text)}`, () => assert.equal(goDuration(ns), text));
  });
});
