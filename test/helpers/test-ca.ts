/**
 * Test certificate authorities, generated per run (nothing secret is committed): the bottle CA
 * the proxy intercepts with, and a private upstream CA for the fake upstream servers.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
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
