/** The bottle CA as a Java trust store: read back by the JDK's own keytool where there is one. */
import * as assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { javaTrustStore, pemCertificateDer } from "../../components/java-truststore";
import { makeTestCa } from "../helpers/test-ca";

const run = promisify(execFile);

describe("javaTrustStore", () => {
  it("holds the certificate's DER bytes once, and nothing but public data", async () => {
    const ca = await makeTestCa("bot-bottle truststore test CA");
    const store = javaTrustStore(ca.cert, "bot-bottle-ca");
    const der = pemCertificateDer(ca.cert);
    assert.equal(store.indexOf(der), store.lastIndexOf(der));
    assert.ok(store.indexOf(der) > 0);
    assert.ok(!store.toString("latin1").includes("PRIVATE"));
  });

  it("is read by keytool as one trusted certificate entry without a password", async function () {
    const have = await run("keytool", ["-help"], { timeout: 20_000 }).then(() => true, () => false);
    if (!have) return this.skip();
    const ca = await makeTestCa("bot-bottle truststore test CA");
    const file = path.join(mkdtempSync(path.join(tmpdir(), "bot-bottle-p12-")), "ca.p12");
    writeFileSync(file, javaTrustStore(ca.cert, "bot-bottle-ca"));
    const out = await run("keytool", ["-list", "-keystore", file, "-storetype", "PKCS12", "-storepass", ""], { timeout: 30_000 });
    assert.match(out.stdout, /Your keystore contains 1 entry/);
    assert.match(out.stdout, /^bot-bottle-ca, .*trustedCertEntry/m);
  });

  it("refuses a text that holds no certificate", () => {
    assert.throws(() => javaTrustStore("not a certificate", "x"), /not a PEM certificate/);
  });
});
