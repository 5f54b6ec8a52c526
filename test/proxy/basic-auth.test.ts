/**
 * `auth: {basic: {username}}`: the proxy encodes the Basic pair itself, and an upstream that
 * echoes the raw token (the password it decoded) hands the agent no form of it, nor of the pair.
 * The same for a hand-encoded `scheme: Basic` token. Request inspection refuses each form on
 * another route.
 */
import assert from "node:assert/strict";
import { echoForms } from "../../proxy/src/echo/echo-forms";
import { agentRequest, denialReason } from "../helpers/agent-client";
import { echoEncodings } from "../helpers/echo-encodings";
import { proxyOutput, startFixture, type Fixture } from "../helpers/proxy-fixture";
import { startRecordingUpstream, type RecordingUpstream } from "../helpers/recording-upstream";

const GIT_TOKEN = "FAKE-git-token-3e1d9c-do-not-leak";
const LEGACY_PASSWORD = "FAKE-legacy-pass-77a0-do-not-leak";
const LEGACY_PAIR = Buffer.from(`x-access-token:${LEGACY_PASSWORD}`).toString("base64");
const GIT_PAIR = Buffer.from(`x-access-token:${GIT_TOKEN}`).toString("base64");

const ROUTES = {
  version: 1,
  routes: [
    { host: "git.test", auth: { basic: { username: "x-access-token" }, token_env: "EGRESS_PROXY_TOKEN_3" } },
    { host: "legacy-git.test", auth: { scheme: "Basic", token_env: "EGRESS_PROXY_TOKEN_4" } },
    { host: "api.anthropic.test", auth: { header: "x-api-key", token_env: "EGRESS_PROXY_TOKEN_2" } },
  ],
};

/** Every form of every string the agent must never read. */
const FORBIDDEN = [GIT_TOKEN, GIT_PAIR, `x-access-token:${GIT_TOKEN}`, LEGACY_PASSWORD, LEGACY_PAIR].flatMap((s) => echoForms(s));

function assertNoForm(bytes: Buffer, what: string): void {
  for (const form of FORBIDDEN) assert.ok(!bytes.includes(form.bytes), `${what}: the agent received a credential (${form.encoding})`);
}

describe("egress proxy: Basic credentials", function () {
  this.timeout(60_000);
  let f: Fixture;
  let up: RecordingUpstream | undefined;
  before(async () => {
    f = await startFixture({
      routes: ROUTES,
      env: { EGRESS_PROXY_TOKEN_3: GIT_TOKEN, EGRESS_PROXY_TOKEN_4: LEGACY_PAIR },
      extraHosts: async (ca) => {
        up = await startRecordingUpstream(ca, ["git.test", "legacy-git.test"]);
        return { "git.test:443": up.port, "legacy-git.test:443": up.port };
      },
    });
  });
  after(async () => {
    await f?.close();
    await up?.close();
  });
  const request = (host: string, target: string, extra: Partial<Parameters<typeof agentRequest>[0]> = {}) =>
    agentRequest({ proxyPort: f.proxy.port, ca: f.bottleCa.cert, host, target, ...extra });

  it("sends Authorization: Basic base64(username:token) in place of the agent's own", async () => {
    const r = await request("git.test", "/acme/widget.git/info/refs?service=git-upload-pack", { headers: [["Authorization", "Basic Zm9vOmJhcg=="]] });
    assert.equal(r.status, 200);
    const seen = up?.requests.at(-1);
    assert.equal(seen?.headers.authorization, `Basic ${GIT_PAIR}`);
  });

  for (const host of ["git.test", "legacy-git.test"]) {
    for (const place of ["body", "header"]) {
      it(`hands the agent no form of the raw token ${host} echoes in its ${place}, in every encoding`, async () => {
        for (const [enc] of echoEncodings(GIT_TOKEN)) {
          const r = await request(host, `/basic-echo?enc=${encodeURIComponent(enc)}&in=${place}`);
          assert.equal(r.status, 200, enc);
          const seen = Buffer.from(`${JSON.stringify(r.headers)}\n${r.body.toString("latin1")}`, "latin1");
          assert.ok(seen.includes("REDACTED"), `${host} ${enc}: nothing was redacted`);
          assertNoForm(seen, `${host} ${place} ${enc}`);
        }
        for (const form of FORBIDDEN) assert.ok(!proxyOutput(f).includes(form.bytes.toString("latin1")), `the proxy's output holds a credential (${form.encoding})`);
      });
    }
  }

  it("refuses the Basic route's token, raw or as its pair, sent to another route", async () => {
    for (const [where, value] of [["header", GIT_TOKEN], ["header", GIT_PAIR], ["body", `{"password":"${GIT_TOKEN}"}`], ["body", `auth=${GIT_PAIR}`], ["body", `{"p":"${LEGACY_PASSWORD}"}`]] as const) {
      const before = up?.requests.length;
      const r = await request("api.anthropic.test", "/v1/messages", where === "header"
        ? { headers: [["X-Note", value]] }
        : { method: "POST", headers: [["Content-Type", "application/json"]], body: value });
      assert.equal(r.status, 403, `${where} ${value.length}`);
      assert.match(denialReason(r) ?? "", /^secret in request: bottle-token in /);
      assert.equal(up?.requests.length, before);
    }
  });
});
