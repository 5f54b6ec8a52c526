/**
 * The bottle's own CA, the same on every backend: an ECDSA P-256 key and a self-signed
 * certificate the agent trusts and the proxy signs its leaf certificates with.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { JAVA_TRUSTSTORE_ALIAS } from "./constants";
import { javaTrustStore } from "./java-truststore";
import type { CaPlan } from "./plan-types";

export type Ca = { cert: tls.SelfSignedCert; key: tls.PrivateKey };

export function declareCa(ca: CaPlan, parent: pulumi.Resource): Ca {
  const key = new tls.PrivateKey(ca.keyResourceName, { algorithm: "ECDSA", ecdsaCurve: "P256" }, { parent });
  const cert = new tls.SelfSignedCert(
    ca.certResourceName,
    {
      privateKeyPem: key.privateKeyPem,
      isCaCertificate: true,
      allowedUses: ["cert_signing", "crl_signing", "digital_signature"],
      validityPeriodHours: ca.validityHours,
      earlyRenewalHours: ca.earlyRenewalHours,
      subject: { commonName: ca.commonName, organization: "bot-bottle" },
    },
    { parent },
  );
  return { key, cert };
}

/** The CA key in PKCS#8 (the same for ECDSA and RSA keys), secret even where a provider would not mark it. */
export function caKeyPem(ca: Ca): pulumi.Output<string> {
  return pulumi.secret(ca.key.privateKeyPemPkcs8);
}

/** The CA certificate as the agent's Java trust store, base64 (the providers take binary files so). */
export function caTrustStoreBase64(ca: Ca): pulumi.Output<string> {
  return ca.cert.certPem.apply((pem) => javaTrustStore(pem, JAVA_TRUSTSTORE_ALIAS).toString("base64"));
}
