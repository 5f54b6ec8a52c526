/**
 * Request-inspection rules of secrets managers', infrastructure-as-code and developer platforms'
 * tokens, from each vendor's published format.
 */
import { END, START, type DlpRule } from "./dlp-rule";

export const SECRETS_RULES = [
  {
    id: "vault-token",
    family: "secrets",
    finds: "HashiCorp Vault service, batch and recovery tokens (`hvs.`, `hvb.`, `hvr.` + 24 or more)",
    pattern: `${START}hv[sbr]\\.[A-Za-z0-9_-]{24,255}`,
    anchors: ["hvs.", "hvb.", "hvr."],
  },
  {
    id: "doppler-token",
    family: "secrets",
    finds: "Doppler tokens (`dp.pt.`, `dp.st.`, `dp.sa.`, `dp.ct.`, `dp.scim.`, `dp.audit.` + 40 or more)",
    pattern: "dp\\.(?:pt|st|sa|ct|scim|audit)\\.[A-Za-z0-9]{40,44}",
    anchors: ["dp."],
  },
  {
    id: "onepassword-service-token",
    family: "secrets",
    finds: "1Password service account tokens (`ops_eyJ...`)",
    pattern: "ops_eyJ[A-Za-z0-9+/=_-]{100,2000}",
    anchors: ["ops_eyj"],
  },
  {
    id: "onepassword-secret-key",
    family: "secrets",
    finds: "1Password account secret keys (`A3-` + six groups)",
    pattern: "A3-[A-Z0-9]{6}-[A-Z0-9]{6}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
    anchors: ["a3-"],
  },
  {
    id: "pulumi-token",
    family: "secrets",
    finds: "Pulumi access tokens (`pul-` + 40 hex)",
    pattern: `${START}pul-[a-f0-9]{40}${END}`,
    anchors: ["pul-"],
  },
  {
    id: "terraform-cloud-token",
    family: "secrets",
    finds: "Terraform Cloud / HCP Terraform API tokens (14 + `.atlasv1.` + 60 or more)",
    pattern: "[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_-]{60,70}",
    anchors: [".atlasv1."],
  },
  {
    id: "postman-key",
    family: "secrets",
    finds: "Postman API keys (`PMAK-` + 24 hex + `-` + 34 hex)",
    pattern: "PMAK-[a-f0-9]{24}-[a-f0-9]{34}",
    anchors: ["pmak-"],
  },
  {
    id: "databricks-token",
    family: "secrets",
    finds: "Databricks personal access tokens (`dapi` + 32 hex)",
    pattern: "(?<![A-Za-z0-9])dapi[a-f0-9]{32}(?:-[0-9])?(?![A-Za-z0-9])",
    anchors: ["dapi"],
  },
  {
    id: "supabase-token",
    family: "secrets",
    finds: "Supabase personal access tokens (`sbp_` + 40 hex)",
    pattern: "sbp_[a-f0-9]{40}",
    anchors: ["sbp_"],
  },
  {
    id: "planetscale-token",
    family: "secrets",
    finds: "PlanetScale tokens and passwords (`pscale_tkn_`, `pscale_pw_`, `pscale_oauth_` + 32 or more)",
    pattern: "pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_.-]{32,64}",
    anchors: ["pscale_"],
  },
  {
    id: "tailscale-key",
    family: "secrets",
    finds: "Tailscale auth, API and OAuth client keys (`tskey-auth-`, `tskey-api-`, `tskey-client-`...)",
    pattern: "tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{8,32}-[A-Za-z0-9]{16,64}",
    anchors: ["tskey-"],
  },
  {
    id: "linear-key",
    family: "secrets",
    finds: "Linear API keys (`lin_api_` + 40)",
    pattern: "lin_api_[A-Za-z0-9]{40}",
    anchors: ["lin_api_"],
  },
  {
    id: "airtable-token",
    family: "secrets",
    finds: "Airtable personal access tokens (`pat` + 14 + `.` + 64 hex)",
    pattern: "(?<![A-Za-z0-9])pat[A-Za-z0-9]{14}\\.[a-f0-9]{64}(?![A-Za-z0-9])",
    anchors: ["pat"],
  },
  {
    id: "contentful-token",
    family: "secrets",
    finds: "Contentful personal access tokens (`CFPAT-` + 43)",
    pattern: "CFPAT-[A-Za-z0-9_-]{43}",
    anchors: ["cfpat-"],
  },
  {
    id: "prefect-key",
    family: "secrets",
    finds: "Prefect Cloud API keys (`pnu_` + 36)",
    pattern: `${START}pnu_[A-Za-z0-9]{36}${END}`,
    anchors: ["pnu_"],
  },
  {
    id: "render-key",
    family: "secrets",
    finds: "Render API keys (`rnd_` + 32)",
    pattern: `${START}rnd_[A-Za-z0-9]{32}${END}`,
    anchors: ["rnd_"],
  },
  {
    id: "mapbox-secret-token",
    family: "secrets",
    finds: "Mapbox secret access tokens (`sk.eyJ...`; public `pk.` tokens pass)",
    pattern: "(?<![A-Za-z0-9_-])sk\\.eyJ[A-Za-z0-9_-]{50,2000}\\.[A-Za-z0-9_-]{20,200}",
    anchors: ["sk.eyj"],
  },
  {
    id: "firebase-cloud-messaging",
    family: "secrets",
    finds: "Firebase Cloud Messaging server keys (`AAAA` + 7 + `:APA91b` + 134)",
    pattern: "AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{134}",
    anchors: [":apa91b"],
  },
] as const satisfies readonly DlpRule[];
