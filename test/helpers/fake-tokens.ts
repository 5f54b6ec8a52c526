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
