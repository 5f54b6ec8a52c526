/**
 * `tls:index/privateKey:PrivateKey` and `tls:index/selfSignedCert:SelfSignedCert` with real keys
 * (node:crypto) and real certificates (the openssl CLI), in the formats the tls provider returns.
 */
import { execFile } from "node:child_process";
import { createPublicKey, generateKeyPairSync, randomBytes, X509Certificate, type KeyObject } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Applied } from "./apply-network";
import type { StrictInputs } from "./strict-inputs";

const CURVES: Record<string, string> = { P224: "secp224r1", P256: "prime256v1", P384: "secp384r1", P521: "secp521r1" };

export function createPrivateKey(inputs: StrictInputs): Applied {
  const algorithm = inputs.string("algorithm");
  const ecdsaCurve = inputs.optString("ecdsaCurve") ?? "P224";
  const rsaBits = inputs.optNumber("rsaBits") ?? 2048;
  inputs.done();
  let privateKey: KeyObject;
  let pem: string;
  if (algorithm === "ECDSA") {
    const namedCurve = CURVES[ecdsaCurve];
    if (!namedCurve) throw new Error(`${inputs.where}: ecdsaCurve ${ecdsaCurve} is not one the tls provider knows`);
    ({ privateKey } = generateKeyPairSync("ec", { namedCurve }));
    pem = privateKey.export({ type: "sec1", format: "pem" }).toString();
  } else if (algorithm === "RSA") {
    ({ privateKey } = generateKeyPairSync("rsa", { modulusLength: rsaBits }));
    pem = privateKey.export({ type: "pkcs1", format: "pem" }).toString();
  } else if (algorithm === "ED25519") {
    ({ privateKey } = generateKeyPairSync("ed25519"));
    pem = privateKey.export({ type: "pkcs8", format: "pem" }).toString();
  } else {
    throw new Error(`${inputs.where}: algorithm ${algorithm} is not one the tls provider knows`);
  }
  const publicKeyPem = createPublicKey(privateKey).export({ type: "spki", format: "pem" }).toString();
  return {
    id: randomBytes(20).toString("hex"),
    state: {
      algorithm,
      ecdsaCurve,
      rsaBits,
      privateKeyPem: pem,
      privateKeyPemPkcs8: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
      publicKeyPem,
    },
  };
}

/** tls provider `allowedUses` → openssl extension values. */
const KEY_USAGE: Record<string, string> = {
  cert_signing: "keyCertSign",
  crl_signing: "cRLSign",
  digital_signature: "digitalSignature",
  key_encipherment: "keyEncipherment",
};
const EXT_KEY_USAGE: Record<string, string> = { server_auth: "serverAuth", client_auth: "clientAuth" };

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args[0]}: ${stderr || err.message}`)) : resolve(stdout))),
  );
}

/** A config value that openssl reads literally. */
function plain(value: string, where: string): string {
  if (!/^[A-Za-z0-9 ._@-]+$/.test(value)) throw new Error(`${where}: subject values with special characters are not supported by this applier`);
  return value;
}

export async function createSelfSignedCert(inputs: StrictInputs): Promise<Applied> {
  const keyPem = inputs.string("privateKeyPem");
  const isCa = inputs.optBool("isCaCertificate") ?? false;
  const allowedUses = inputs.optStrings("allowedUses") ?? [];
  const hours = inputs.optNumber("validityPeriodHours");
  const earlyRenewalHours = inputs.optNumber("earlyRenewalHours") ?? 0;
  const dnsNames = inputs.optStrings("dnsNames") ?? [];
  const subject = inputs.optObject("subject");
  const cn = subject?.optString("commonName");
  const org = subject?.optString("organization");
  const ou = subject?.optString("organizationalUnit");
  subject?.done();
  inputs.done();
  if (hours === undefined || hours <= 0 || hours % 24 !== 0) {
    throw new Error(`${inputs.where}: validityPeriodHours must be whole days for openssl -days in this applier`);
  }
  const keyUsage = allowedUses.filter((u) => KEY_USAGE[u]).map((u) => KEY_USAGE[u]);
  const extKeyUsage = allowedUses.filter((u) => EXT_KEY_USAGE[u]).map((u) => EXT_KEY_USAGE[u]);
  const unknown = allowedUses.filter((u) => !KEY_USAGE[u] && !EXT_KEY_USAGE[u]);
  if (unknown.length) throw new Error(`${inputs.where}: allowedUses ${unknown.join(", ")} not understood by this applier`);

  const dn = [cn && `CN=${plain(cn, inputs.where)}`, org && `O=${plain(org, inputs.where)}`, ou && `OU=${plain(ou, inputs.where)}`].filter(Boolean);
  if (dn.length === 0) throw new Error(`${inputs.where}: a subject is required by this applier`);
  const ext = [
    isCa ? "basicConstraints=critical,CA:TRUE" : "basicConstraints=critical,CA:FALSE",
    keyUsage.length ? `keyUsage=critical,${keyUsage.join(",")}` : "",
    extKeyUsage.length ? `extendedKeyUsage=${extKeyUsage.join(",")}` : "",
    dnsNames.length ? `subjectAltName=${dnsNames.map((d) => `DNS:${plain(d, inputs.where)}`).join(",")}` : "",
    "subjectKeyIdentifier=hash",
  ].filter(Boolean);
  const dir = mkdtempSync(path.join(tmpdir(), "bb-e2e-tls-"));
  try {
    const keyFile = path.join(dir, "key.pem");
    const cfgFile = path.join(dir, "req.cnf");
    writeFileSync(keyFile, keyPem, { mode: 0o600 });
    writeFileSync(cfgFile, ["[req]", "distinguished_name=dn", "x509_extensions=ext", "prompt=no", "[dn]", ...dn, "[ext]", ...ext, ""].join("\n"));
    const certPem = await run("openssl", ["req", "-x509", "-new", "-key", keyFile, "-config", cfgFile, "-days", String(hours / 24), "-sha256", "-set_serial", `0x${randomBytes(16).toString("hex")}`]);
    const x = new X509Certificate(certPem);
    return {
      id: x.serialNumber.toLowerCase(),
      state: {
        privateKeyPem: keyPem,
        isCaCertificate: isCa,
        allowedUses,
        validityPeriodHours: hours,
        earlyRenewalHours,
        ...(dnsNames.length ? { dnsNames } : {}),
        ...(subject ? { subject: { commonName: cn, organization: org, organizationalUnit: ou } } : {}),
        certPem,
        validityStartTime: new Date(x.validFrom).toISOString(),
        validityEndTime: new Date(x.validTo).toISOString(),
        readyForRenewal: false,
      },
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
