import { generatedSecrets } from "./fake-secrets";

/**
 * The fake credentials of every test, and nothing else: each is a unique, recognisable string, so
 * that finding one in a log, a reply, a plan, a state file or an environment is a leak.
 */

/** Route credentials: what the proxy injects, what a bottle's secrets hold. */
export const FAKE_TOKENS = {
  /** A Bearer token (proxy slot EGRESS_PROXY_TOKEN_1, stack secret `githubToken`). */
  github: "FAKE-gh-token-7f3c9a1e-do-not-leak",
  /** A header credential (proxy slot EGRESS_PROXY_TOKEN_2, stack secret `anthropicKey`). */
  anthropic: "FAKE-anthropic-key-52b8d0-do-not-leak",
} as const;

/** The same tokens under the stack secrets' names (`token_ref`), for `tokensFromRecord` and Pulumi config. */
export const FAKE_TOKENS_BY_REF = { githubToken: FAKE_TOKENS.github, anthropicKey: FAKE_TOKENS.anthropic } as const;

/** A token with a control byte, which no header may carry: the proxy must refuse it without echoing it. */
export const FAKE_UNSENDABLE_TOKEN = "FAKE-bad-token-\u0001-do-not-leak";

/**
 * A GitHub-token-shaped secret pasted into fields that are not secrets (image, user, URL, host):
 * its underscore and capitals make it valid in none of them. Messages are searched for its
 * "FAKEFAKE" run too, so that a part of it counts as an echo.
 */
export const FAKE_PASTED_SECRET = "ghp_FAKEFAKEFAKEFAKE-do-not-leak-FAKEFAKEFAKE0000";

/** Carried by every fake secret of the tests (tokens, CA keys): a search for it finds a part of any. */
export const LEAK_MARKER = "do-not-leak";

/**
 * Secrets an agent could find in a workspace, one per request-inspection rule, each in its real
 * format and recognisably fake (FAKE, doNOTleak, or a published test value: Visa's test card,
 * the BIP-39 test phrase, the Bitcoin wiki's example WIF key), or generated with the format's
 * alphabet and checksum from a seeded PRNG (fake-secrets.ts). Keyed by the rule that finds it.
 */
export const FAKE_WORKSPACE_SECRETS: Readonly<Record<string, string>> = {
  ...generatedSecrets(),
  "aws-access-key-id": "AKIAFAKEDONOTLEAK123",
  "aws-secret-access-key": 'aws_secret_access_key = "FAKEdoNOTleak/0123456789abcdefABCDEF+xyz"',
  "gcp-api-key": "AIzaFAKE-doNOTleak_0123456789abcdefABCD",
  "gcp-service-account": '"private_key_id": "fa4ed0e5fa4ed0e5fa4ed0e5fa4ed0e5fa4ed0e5"',
  "azure-storage-key": `AccountKey=FAKEdoNOTleak${"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/".repeat(2).slice(0, 73)}==`,
  "gitlab-token": "glpat-FAKEdoNOTleak0123456",
  "slack-token": "xoxb-FAKE-000000000-doNOTleak",
  "stripe-key": "sk_live_FAKEdoNOTleak0123456789ab",
  "anthropic-key": "sk-ant-api03-FAKEdoNOTleak0123456789abcdefABCDEF",
  "openai-key": "sk-proj-FAKEdoNOTleak0123456789abcdefABCDEF0123",
  "pypi-token": "pypi-AgEIcHlwaS5vcmcFAKEdoNOTleak0123456789abcdefABCDEF0123456789ab",
  "jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJGQUtFLWRvLW5vdC1sZWFrIn0.FAKEsignatureDoNotLeak0123",
  "ssh-private-key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEFAKEdoNOTleak\n-----END OPENSSH PRIVATE KEY-----",
  "private-key": "-----BEGIN RSA PRIVATE KEY-----\nMIIEFAKEdoNOTleak\n-----END RSA PRIVATE KEY-----",
  "database-url": "postgres://app:FAKEdoNOTleak@db.internal:5432/prod",
  "card-number": "4111 1111 1111 1111",
  "crypto-private-key": "5HueCGU8rMjxEXxiPuD5BDku4MkFqeZyd4dZ1jvhTVqvbTLvyTJ",
  "seed-phrase": "abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
  "entropy": "q8ZpL3xV9tR2mK7wN4bJ6hG1fD5sA0cE",
};
