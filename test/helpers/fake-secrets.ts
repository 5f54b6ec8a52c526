/**
 * Fake secrets in every format request inspection knows, generated from a seeded PRNG with each
 * format's alphabet, length and checksum: the same on every run, and no real key (no provider
 * issued them). Keyed by the rule that finds them; fake-tokens.ts adds them to the workspace set.
 */
import { base62, crc32 } from "../../proxy/src/inspect/dlp-checks";

/** A small seeded PRNG (mulberry32): test data only. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A seed from a name, so that each rule's sample is its own and stable. */
export function seedOf(name: string): number {
  return crc32(name);
}

export const ALPHABETS = {
  b62: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  b64url: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_-",
  hex: "0123456789abcdef",
  upperNum: "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
  lowerNum: "0123456789abcdefghijklmnopqrstuvwxyz",
  letters: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
  digits: "0123456789",
  bech32: "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L",
} as const;

/** Random strings of an alphabet, from one PRNG. */
export class FakeText {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = prng(seed);
  }

  /** `n` characters of `alphabet`. */
  of(alphabet: string, n: number): string {
    let out = "";
    for (let i = 0; i < n; i++) out += alphabet[Math.floor(this.#next() * alphabet.length)] as string;
    return out;
  }

  /** `n` base62 characters with upper case, lower case and digits for sure (the first three). */
  mixed(n: number): string {
    return `aZ7${this.of(ALPHABETS.b62, n - 3)}`;
  }

  /** A GitHub/npm-format token: prefix, 30 base62 characters, their CRC-32 in 6 base62 characters. */
  crcToken(prefix: string): string {
    const body = `FAKEdoNOTleak${this.of(ALPHABETS.b62, 17)}`;
    return `${prefix}${body}${base62(crc32(body), 6)}`;
  }

  uuid(): string {
    const h = this.of(ALPHABETS.hex, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
  }
}

type Maker = (t: FakeText) => string;
const { b62, b64url, hex, upperNum, lowerNum, letters, digits, bech32 } = ALPHABETS;

/** One maker per rule id that has no hand-written fake (fake-tokens.ts). */
const MAKERS: Record<string, Maker> = {
  "gcp-oauth-secret": (t) => `GOCSPX-${t.mixed(28)}`,
  "gcp-oauth-token": (t) => `ya29.${t.mixed(120)}`,
  "azure-client-secret": (t) => `${t.of(b62, 3)}8Q~${t.mixed(34)}`,
  "digitalocean-token": (t) => `dop_v1_${t.of(hex, 64)}`,
  "alibaba-access-key-id": (t) => `LTAI${t.mixed(20)}`,
  "cloudflare-origin-ca-key": (t) => `v1.0-${t.of(hex, 24)}-${t.of(hex, 146)}`,
  "cloudflare-api-token": (t) => `CLOUDFLARE_API_TOKEN=${t.mixed(40)}`,
  "heroku-api-key": (t) => `HRKU-${t.mixed(60)}`,
  "github-token": (t) => t.crcToken("ghp_"),
  "github-fine-grained-token": (t) => `github_pat_${t.mixed(22)}_${t.mixed(59)}`,
  "atlassian-api-token": (t) => `ATATT3${t.of(b64url, 186)}`,
  "bitbucket-token": (t) => `ATBB${t.mixed(32)}`,
  "circleci-token": (t) => `CCIPAT_${t.mixed(22)}_${t.of(hex, 40)}`,
  "buildkite-token": (t) => `bkua_${t.of(hex, 40)}`,
  "netlify-token": (t) => `nfp_${t.mixed(36)}`,
  "sonarqube-token": (t) => `sqp_${t.of(hex, 40)}`,
  "openrouter-key": (t) => `sk-or-v1-${t.of(hex, 64)}`,
  "huggingface-token": (t) => `hf_${t.of(letters, 34)}`,
  "groq-key": (t) => `gsk_${t.mixed(52)}`,
  "replicate-token": (t) => `r8_${t.mixed(37)}`,
  "perplexity-key": (t) => `pplx-${t.mixed(48)}`,
  "xai-key": (t) => `xai-${t.mixed(80)}`,
  "langsmith-key": (t) => `lsv2_pt_${t.of(hex, 32)}_${t.of(hex, 10)}`,
  "stripe-webhook-secret": (t) => `whsec_${t.mixed(32)}`,
  "square-token": (t) => `sq0csp-${t.of(b64url, 43)}`,
  "braintree-token": (t) => `access_token$production$${t.of(lowerNum, 16)}$${t.of(hex, 32)}`,
  "shopify-token": (t) => `shpat_${t.of(hex, 32)}`,
  "flutterwave-key": (t) => `FLWSECK_TEST-${t.of(hex, 32)}-X`,
  "slack-webhook": (t) => `https://hooks.slack.com/services/T${t.of(upperNum, 10)}/B${t.of(upperNum, 10)}/${t.mixed(24)}`,
  "discord-webhook": (t) => `https://discord.com/api/webhooks/1${t.of(digits, 17)}/${t.of(b64url, 68)}`,
  "discord-bot-token": (t) => `${Buffer.from(`1${t.of(digits, 17)}`).toString("base64url")}.${t.of(b64url, 6)}.${t.of(b64url, 38)}`,
  "telegram-bot-token": (t) => `1${t.of(digits, 9)}:AA${t.of(b64url, 33)}`,
  "twilio-key": (t) => `SK${t.of(hex, 32)}`,
  "sendgrid-key": (t) => `SG.${t.of(b64url, 22)}.${t.of(b64url, 43)}`,
  "mailgun-key": (t) => `key-${t.of(hex, 32)}`,
  "mailchimp-key": (t) => `${t.of(hex, 32)}-us12`,
  "teams-webhook": (t) => `https://acme.webhook.office.com/webhookb2/${t.uuid()}@${t.uuid()}/IncomingWebhook/${t.of(hex, 32)}/${t.uuid()}`,
  "npm-token": (t) => t.crcToken("npm_"),
  "rubygems-key": (t) => `rubygems_${t.of(hex, 48)}`,
  "dockerhub-token": (t) => `dckr_pat_${t.mixed(27)}`,
  "nuget-key": (t) => `oy2a7${t.of(lowerNum, 41)}`,
  "cratesio-token": (t) => `cio${t.mixed(32)}`,
  "clojars-token": (t) => `CLOJARS_${t.of(lowerNum, 60)}`,
  "artifactory-token": (t) => `AKCp${t.mixed(69)}`,
  "datadog-key": (t) => `DD_API_KEY=${t.of(hex, 32)}`,
  "newrelic-key": (t) => `NRAK-${t.of(upperNum, 27)}`,
  "sentry-token": (t) => `sntryu_${t.of(hex, 64)}`,
  "grafana-token": (t) => `glsa_${t.mixed(32)}_${t.of(hex, 8)}`,
  "dynatrace-token": (t) => `dt0c01.${t.of(upperNum, 24)}.${t.of(upperNum, 64)}`,
  "posthog-key": (t) => `phx_${t.mixed(43)}`,
  "vault-token": (t) => `hvs.${t.mixed(90)}`,
  "doppler-token": (t) => `dp.pt.${t.mixed(43)}`,
  "onepassword-service-token": (t) => `ops_eyJ${t.of(b64url, 200)}`,
  "onepassword-secret-key": (t) => `A3-${[6, 6, 5, 5, 5, 5].map((n) => t.of(upperNum, n)).join("-")}`,
  "pulumi-token": (t) => `pul-${t.of(hex, 40)}`,
  "terraform-cloud-token": (t) => `${t.mixed(14)}.atlasv1.${t.of(b64url, 67)}`,
  "postman-key": (t) => `PMAK-${t.of(hex, 24)}-${t.of(hex, 34)}`,
  "databricks-token": (t) => `dapi${t.of(hex, 32)}`,
  "supabase-token": (t) => `sbp_${t.of(hex, 40)}`,
  "planetscale-token": (t) => `pscale_tkn_${t.mixed(43)}`,
  "tailscale-key": (t) => `tskey-auth-${t.mixed(12)}-${t.mixed(30)}`,
  "linear-key": (t) => `lin_api_${t.mixed(40)}`,
  "airtable-token": (t) => `pat${t.mixed(14)}.${t.of(hex, 64)}`,
  "contentful-token": (t) => `CFPAT-${t.of(b64url, 43)}`,
  "prefect-key": (t) => `pnu_${t.mixed(36)}`,
  "render-key": (t) => `rnd_${t.mixed(32)}`,
  "mapbox-secret-token": (t) => `sk.eyJ${t.of(b64url, 80)}.${t.of(b64url, 22)}`,
  "firebase-cloud-messaging": (t) => `AAAA${t.of(b64url, 7)}:APA91b${t.of(b64url, 134)}`,
  "age-secret-key": (t) => `AGE-SECRET-KEY-1${t.of(bech32, 58)}`,
  "url-credentials": (t) => `https://deploy:${t.mixed(20)}@git.acme.dev/widget.git`,
  "generic-secret": (t) => `api_key = "${t.mixed(32)}"`,
};

/** The generated fake of every rule that has a maker, each from its own seed. */
export function generatedSecrets(): Record<string, string> {
  return Object.fromEntries(Object.entries(MAKERS).map(([id, make]) => [id, make(new FakeText(seedOf(id)))]));
}
