/**
 * The bottle CA: a tls SelfSignedCert per bottle (`<bottle>-ca-cert`), which the egress proxy
 * uses to mint a certificate for every host the agent reaches and which the agent trusts as its
 * whole trust store. Its key lives in the proxy; the shorter the CA lives, the shorter a copied
 * key is worth anything.
 */
import { z } from "zod";
import { resourcePolicy } from "./define";
import { TYPES, certField } from "./resource-view";

/** The component's own validity (components/plan.ts CA_VALIDITY_HOURS), the default maximum. */
export const DEFAULT_MAX_CA_VALIDITY_HOURS = 5 * 365 * 24;

const caConfig = z.strictObject({
  maxValidityHours: z
    .number()
    .int()
    .positive()
    .default(DEFAULT_MAX_CA_VALIDITY_HOURS)
    .describe(`Longest validity a bottle CA may have, in hours (default ${DEFAULT_MAX_CA_VALIDITY_HOURS}, five years: the Bottle component's own).`),
});

/** `<bottle>-ca-cert` is the bottle CA's resource name (components/naming.ts). */
function bottleOf(resourceName: string): string | undefined {
  return resourceName.endsWith("-ca-cert") ? resourceName.slice(0, -"-ca-cert".length) : undefined;
}

export const caValidity = resourcePolicy({
  name: "bottle-ca-validity",
  description:
    "A bottle CA's validity stays within a maximum (maxValidityHours in the pack config): its private key sits in the egress proxy, " +
    "and a CA that the agent trusts for every host is worth exactly as long as it is valid.",
  enforcementLevel: "mandatory",
  type: TYPES.selfSignedCert,
  config: caConfig,
  check: (props, { resourceName, config, report }) => {
    if (certField(props, "isCaCertificate") !== true) return;
    const bottle = bottleOf(resourceName);
    const what = bottle !== undefined ? `bottle "${bottle}"'s CA (${resourceName})` : `CA certificate ${resourceName}`;
    const hours = certField(props, "validityPeriodHours");
    const fix =
      "no stack setting controls it: lower CA_VALIDITY_HOURS in components/plan.ts (it also applies to every bottle), " +
      "or have the platform team raise maxValidityHours of bottle-ca-validity in the policy pack config";
    if (hours === undefined) report(`${what} sets no validityPeriodHours. Fix: ${fix}.`);
    else if (hours > config.maxValidityHours) report(`${what} is valid for ${hours} h, above the maximum of ${config.maxValidityHours} h. Fix: ${fix}.`);
  },
});
