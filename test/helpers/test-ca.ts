/**
 * Test certificate authorities, generated per run (nothing secret is committed): the bottle CA
 * the proxy intercepts with, and a private upstream CA for the fake upstream servers.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { generateCACertificate } from "mockttp";

export interface TestCa {
  cert: string;
  key: string;
  certFile: string;
  keyFile: string;
}

/** Generate a CA and write it to a fresh temp directory (key with owner-only permissions). */
export async function makeTestCa(commonName: string): Promise<TestCa> {
  const { cert, key } = await generateCACertificate({ subject: { commonName }, bits: 2048 });
  const dir = mkdtempSync(path.join(tmpdir(), "bot-bottle-ca-"));
  const certFile = path.join(dir, "ca.pem");
  const keyFile = path.join(dir, "ca-key.pem");
  writeFileSync(certFile, cert);
  writeFileSync(keyFile, key, { mode: 0o600 });
  return { cert, key, certFile, keyFile };
}

/**
 * Issue a leaf certificate from a test CA with the openssl CLI, for a plain Node TLS server (mockttp
 * mints its own leaves, DNS names only). One subject alternative name: `IP:127.0.0.1` or `DNS:a.test`.
 */
export function leafCertificate(ca: TestCa, san: string): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), "bot-bottle-leaf-"));
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file("ext.cnf"), `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  const run = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"], timeout: 20_000 });
  run(["req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", file("leaf.key"), "-subj", `/CN=${san.slice(san.indexOf(":") + 1)}`, "-out", file("leaf.csr")]);
  run(["x509", "-req", "-in", file("leaf.csr"), "-CA", ca.certFile, "-CAkey", ca.keyFile, "-CAcreateserial", "-days", "2", "-extfile", file("ext.cnf"), "-out", file("leaf.pem")]);
  return { cert: readFileSync(file("leaf.pem"), "utf8"), key: readFileSync(file("leaf.key"), "utf8") };
}
