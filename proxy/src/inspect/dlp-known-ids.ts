/**
 * Shapes of random-looking strings that are no secret: provider object ids (Anthropic's `toolu_`,
 * `msg_`, `req_`; OpenAI's `call_`, `chatcmpl-`; Stripe's `pi_`, `cus_`...), UUIDs, ULIDs,
 * digests with their name, SRI strings. LLM traffic is full of them; the keyword rule and the
 * opt-in entropy rule let them be. Pure.
 */

/** Object-id prefixes of the APIs an agent talks to (Anthropic, OpenAI, Stripe), each then `_` and the id. */
const PROVIDER_PREFIXES = [
  "toolu", "srvtoolu", "msg", "msgbatch", "req", "file", "call", "run", "thread", "asst", "resp", "fc", "rs", "batch",
  "ftjob", "evt", "sess", "org", "proj", "user", "step", "vs", "ws", "wrkspc", "apikey", "compl",
  "pi", "pm", "ch", "cus", "sub", "in", "ii", "il", "price", "prod", "txn", "seti", "src", "tok", "card", "acct", "re",
  "po", "tr", "py", "cs", "si", "ba", "btok", "ipi", "fee", "pl", "cn", "dp", "du", "li", "or", "qt", "sku", "tu", "prv",
] as const;

const PROVIDER_ID = new RegExp(`^(?:${PROVIDER_PREFIXES.join("|")})_[A-Za-z0-9]{8,64}$`);
const OPENAI_COMPLETION = /^chatcmpl-[A-Za-z0-9]{20,40}$/;
const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
/** Crockford base32, 26 characters, a timestamp first (the first character at most 7). */
const ULID = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/i;
/** A digest or SRI string that says its algorithm: `sha512-...`, `sha256:...`, `md5=...`. */
const NAMED_DIGEST = /^(?:sha(?:1|224|256|384|512)|sha3-\d{3}|md5|blake2[bs]?|xxh\d*)[-:=]/i;

/** Whether a value is one of the non-secret shapes above. */
export function knownNonSecret(value: string): boolean {
  return PROVIDER_ID.test(value) || OPENAI_COMPLETION.test(value) || UUID.test(value) || ULID.test(value) || NAMED_DIGEST.test(value);
}

/**
 * What before a random-looking run says it is public: a digest's name or an `integrity` field,
 * an SSH public key's type, a Stripe publishable key's prefix.
 */
export const PUBLIC_BEFORE = /(?:integrity[":= ]+|sha(?:1|224|256|384|512)[-:=]|h1:|(?:ssh-(?:rsa|ed25519|dss)|ecdsa-sha2-\S+|sk-ssh-\S+)\s+)$/i;
