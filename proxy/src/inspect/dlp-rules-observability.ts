/** Request-inspection rules of observability services' keys, from their published formats. */
import { END, START, type DlpRule } from "./dlp-rule";

export const OBSERVABILITY_RULES = [
  {
    id: "datadog-key",
    family: "observability",
    finds: "Datadog API and application keys (32 or 40 hex) assigned to a `datadog`/`DD_API_KEY`/`DD_APP_KEY` name",
    pattern: String.raw`(?:datadog|dd)[_-]?(?:api|app|application)[_-]?key["']?[ \t]{0,4}[:=][ \t]{0,4}["']?(?:[a-f0-9]{40}|[a-f0-9]{32})(?![a-f0-9])`,
    anyCase: true,
    anchors: ["datadog", "dd_api", "dd_app", "dd-api", "dd-app", "ddapi", "ddapp"],
  },
  {
    id: "newrelic-key",
    family: "observability",
    finds: "New Relic user keys (`NRAK-`), insert keys (`NRII-`), browser keys (`NRJS-`) and license keys (`...NRAL`)",
    pattern: "NRAK-[A-Z0-9]{27}|NRII-[A-Za-z0-9_-]{32}|NRJS-[a-f0-9]{19}|(?<![A-Za-z0-9])[a-f0-9]{36}NRAL",
    anchors: ["nrak-", "nrii-", "nrjs-", "nral"],
  },
  {
    id: "sentry-token",
    family: "observability",
    finds: "Sentry organisation and user auth tokens (`sntrys_`, `sntryu_`)",
    pattern: `sntrys_eyJ[A-Za-z0-9+/=_-]{60,400}|sntryu_[a-f0-9]{64}${END}`,
    anchors: ["sntrys_", "sntryu_"],
  },
  {
    id: "grafana-token",
    family: "observability",
    finds: "Grafana Cloud tokens (`glc_`) and service account tokens (`glsa_` + 32 + `_` + 8 hex)",
    pattern: `${START}glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-f0-9]{8}`,
    anchors: ["glc_", "glsa_"],
  },
  {
    id: "dynatrace-token",
    family: "observability",
    finds: "Dynatrace API tokens (`dt0c01.` + 24 + `.` + 64)",
    pattern: "dt0[a-z][0-9]{2}\\.[A-Z0-9]{24}\\.[A-Z0-9]{64}",
    anchors: ["dt0"],
  },
  {
    id: "posthog-key",
    family: "observability",
    finds: "PostHog personal API keys (`phx_` + 43)",
    pattern: `${START}phx_[A-Za-z0-9]{43}${END}`,
    anchors: ["phx_"],
  },
] as const satisfies readonly DlpRule[];
