/**
 * The private CA of the e2e upstream, and its server certificate, made per run with the
 * openssl CLI (nothing committed). The egress proxy trusts the CA through the component's
 * `egress_proxy.upstream_ca_pem`.
 */
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface UpstreamTls {
  caCert: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) =>
    execFile("openssl", args, { cwd, timeout: 30_000 }, (err, _out, stderr) => (err ? reject(new Error(`openssl ${args[0]}: ${stderr}`)) : resolve())),
  );
}

/** A CA and a server certificate for `names` (P-256, two days). */
export async function makeUpstreamTls(names: readonly string[]): Promise<UpstreamTls> {
  const dir = mkdtempSync(path.join(tmpdir(), "bb-e2e-upstream-ca-"));
  try {
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    await openssl(["req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=bot-bottle e2e upstream CA",
      "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"], dir);
    await openssl(["req", "-new", ...ec, "-keyout", "server.key", "-out", "server.csr", "-subj", `/CN=${names[0]}`], dir);
    writeFileSync(path.join(dir, "ext.cnf"), [
      `subjectAltName=${names.map((n) => `DNS:${n}`).join(",")}`,
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature",
      "extendedKeyUsage=serverAuth",
      "",
    ].join("\n"));
    await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-sha256",
      "-extfile", "ext.cnf", "-out", "server.pem"], dir);
    const read = (f: string) => readFileSync(path.join(dir, f), "utf8");
    return { caCert: read("ca.pem"), cert: read("server.pem"), key: read("server.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
