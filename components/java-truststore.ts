/**
 * The bottle CA as a Java trust store. Java reads no `SSL_CERT_FILE` and no PEM trust store: it
 * wants a key store file. This writes the smallest PKCS12 file Java 11+ loads as a trust store
 * without a password: one certificate bag, no encryption and no MAC (both protect secrets, and a
 * CA certificate is none), and the attribute that makes Java's PKCS12 reader treat the
 * certificate as a trusted entry (without it the entry is ignored for trust).
 *
 * DER is written by hand here: the structure is fixed and small (RFC 7292), and the Pulumi
 * program should not take a dependency for thirty lines of encoding.
 */

/** DER: tag, definite length, content. */
function der(tag: number, content: Buffer): Buffer {
  const n = content.length;
  let length: Buffer;
  if (n < 0x80) length = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v % 256);
    length = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), length, content]);
}

const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => der(0x31, Buffer.concat(items));
const octets = (b: Buffer) => der(0x04, b);
const explicit0 = (b: Buffer) => der(0xa0, b);
const integer = (n: number) => der(0x02, Buffer.from([n]));

function oid(dotted: string): Buffer {
  const [a = 0, b = 0, ...rest] = dotted.split(".").map(Number);
  const bytes = [a * 40 + b];
  for (const arc of rest) {
    const chunk: number[] = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
}

/** UTF-16BE, as PKCS#9 friendlyName wants it. */
function bmpString(s: string): Buffer {
  const b = Buffer.alloc(s.length * 2);
  for (let i = 0; i < s.length; i++) b.writeUInt16BE(s.charCodeAt(i), i * 2);
  return der(0x1e, b);
}

const OID = {
  data: "1.2.840.113549.1.7.1",
  certBag: "1.2.840.113549.1.12.10.1.3",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  friendlyName: "1.2.840.113549.1.9.20",
  /** Java's "trusted key usage" attribute of a trusted-certificate entry. */
  javaTrustedKeyUsage: "2.16.840.1.113894.746875.1.1",
  anyExtendedKeyUsage: "2.5.29.37.0",
} as const;

/** The DER bytes of the first certificate in a PEM text. */
export function pemCertificateDer(pem: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----/.exec(pem);
  if (!m?.[1]) throw new Error("the bottle CA is not a PEM certificate");
  return Buffer.from(m[1].replace(/\s+/g, ""), "base64");
}

/** A password-less PKCS12 trust store holding `certPem` under `alias`. */
export function javaTrustStore(certPem: string, alias: string): Buffer {
  const certBag = sequence(oid(OID.x509Certificate), explicit0(octets(pemCertificateDer(certPem))));
  const attributes = set(
    sequence(oid(OID.friendlyName), set(bmpString(alias))),
    sequence(oid(OID.javaTrustedKeyUsage), set(oid(OID.anyExtendedKeyUsage))),
  );
  const safeContents = sequence(sequence(oid(OID.certBag), explicit0(certBag), attributes));
  const authenticatedSafe = sequence(sequence(oid(OID.data), explicit0(octets(safeContents))));
  return sequence(integer(3), sequence(oid(OID.data), explicit0(octets(authenticatedSafe))));
}
