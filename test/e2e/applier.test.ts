/**
 * The e2e applier's own rules, without a Docker engine: it refuses inputs it does not know,
 * never names a value in an error, redacts secrets, and builds upload tars with exact modes.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import * as pulumi from "@pulumi/pulumi";
import { FAKE_TOKENS } from "../helpers/fake-tokens";
import { durationNs } from "./lib/apply-container";
import { EngineMocks, TYPES } from "./lib/engine-mocks";
import { StrictInputs } from "./lib/strict-inputs";
import { tarFiles } from "./lib/tar";

const SECRET = FAKE_TOKENS.github;
const wrapSecret = (value: unknown) => ({ [pulumi.runtime.specialSigKey]: pulumi.runtime.specialSecretSig, value });

describe("e2e applier", () => {
  describe("StrictInputs", () => {
    it("fails on a field nobody read, naming the field and not its value", () => {
      const inputs = new StrictInputs("docker:index/network:Network n", { name: "n", ipv6: SECRET });
      inputs.string("name");
      assert.throws(() => inputs.done(), (e: Error) => /`ipv6`/.test(e.message) && !e.message.includes(SECRET));
    });

    it("fails on a wrong type, naming the type and not the value", () => {
      const inputs = new StrictInputs("x", { memory: SECRET });
      assert.throws(() => inputs.optNumber("memory"), (e: Error) => /is a string, expected a number/.test(e.message) && !e.message.includes(SECRET));
    });

    it("fails on a value outside the supported set (never push an image)", () => {
      const inputs = new StrictInputs("docker:index/image:Image i", { skipPush: false });
      assert.throws(() => inputs.expect("skipPush", [true]), /skipPush/);
    });

    it("reads nested objects strictly too", () => {
      const inputs = new StrictInputs("c", { capabilities: { drops: ["ALL"], adds: ["NET_ADMIN"] } });
      const caps = inputs.optObject("capabilities");
      caps?.optStrings("drops");
      assert.throws(() => caps?.done(), /`adds`/);
    });
  });

  describe("EngineMocks", () => {
    it("rejects a resource type it does not implement, before touching any engine", async () => {
      const mocks = new EngineMocks();
      await assert.rejects(
        Promise.resolve(mocks.newResource({ type: "docker:index/service:Service", name: "v", inputs: {}, custom: true })),
        /docker:index\/service:Service .*not supported/,
      );
      assert.equal(mocks.failures.length, 1);
    });

    it("unwraps secret inputs, and redacts them from its errors", async () => {
      const mocks = new EngineMocks();
      const inputs = { name: wrapSecret(SECRET), bogus: 1 };
      await assert.rejects(
        Promise.resolve(mocks.newResource({ type: TYPES.network, name: "n", inputs, custom: true })),
        (e: Error) => /`bogus`/.test(e.message) && !e.message.includes(SECRET),
      );
      assert.equal(mocks.redact(`before ${SECRET} after`), "before [secret] after");
    });

    it("answers component resources without applying anything", async () => {
      const mocks = new EngineMocks();
      const r = await mocks.newResource({ type: "bot-bottle:index:Bottle", name: "b", inputs: {}, custom: false });
      assert.equal(r.id, undefined);
      assert.deepEqual(mocks.journal, []);
    });
  });

  describe("durationNs", () => {
    const cases: [string, number][] = [["10s", 10e9], ["500ms", 5e8], ["1m30s", 90e9], ["1h", 3600e9], ["1.5s", 1.5e9]];
    for (const [text, ns] of cases) it(`reads ${text}`, () => assert.equal(durationNs(text, "t"), ns));
    for (const bad of ["", "10", "10 s", "-1s", "1d"]) it(`refuses ${JSON.stringify(bad)}`, () => assert.throws(() => durationNs(bad, "t")));
  });

  describe("tarFiles", () => {
    it("writes root-owned files with exact modes that tar lists back", () => {
      const long = `/etc/${"d".repeat(80)}/${"f".repeat(60)}.pem`;
      const tar = tarFiles([
        { name: "/etc/egress-proxy/routes.yaml", content: Buffer.from("{}\n"), mode: 0o600 },
        { name: "/etc/egress-proxy/ca-key.pem", content: Buffer.alloc(1000, 65), mode: 0o400 },
        { name: long, content: Buffer.from("x"), mode: 0o444 },
      ]);
      const listing = execFileSync("tar", ["--numeric-owner", "-tvf", "-"], { input: tar }).toString().trim().split("\n");
      assert.equal(listing.length, 3);
      assert.match(listing[0] ?? "", /^-rw------- 0\/0 +3 .* etc\/egress-proxy\/routes\.yaml$/);
      assert.match(listing[1] ?? "", /^-r-------- 0\/0 +1000 .* etc\/egress-proxy\/ca-key\.pem$/);
      assert.match(listing[2] ?? "", new RegExp(`^-r--r--r-- 0/0 +1 .* ${long.slice(1)}$`));
    });
  });
});
