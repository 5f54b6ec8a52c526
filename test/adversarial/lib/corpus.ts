/**
 * The bypass corpus: JSON files of cases under `test/adversarial/corpus/`, validated here so that
 * a typo in a case fails loudly instead of silently testing nothing. Each case names the request
 * as the agent sends it, the transport(s), the route set in force and the expected verdict.
 */
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { DENY_REASONS } from "../../../proxy/src/route/decide";
import type { RawRequest, Transport } from "./transports";

export const CORPUS_DIR = path.resolve(__dirname, "../corpus");

/**
 * A deny reason. Free text here so that a known-bypass case can name the reason its fix will
 * add; corpus.test.ts checks that every runnable case names one of the proxy's DENY_REASONS.
 */
const denyReason = z.string().min(1);

/** The proxy's current deny reasons. */
export const KNOWN_DENY_REASONS: ReadonlySet<string> = new Set(Object.keys(DENY_REASONS));

/** What must happen: a policy denial, a refusal by another layer, or a forward with what upstream sees. */
export const expectationSchema = z.discriminatedUnion("verdict", [
  z.strictObject({ verdict: z.literal("denied"), status: z.union([z.literal(400), z.literal(403)]), reason: denyReason }),
  z.strictObject({
    verdict: z.literal("refused"),
    /**
     * parser: Node's HTTP parser / mockttp's client-error reply (400/431, no denial header);
     * fallthrough: mockttp could not pre-process the request and connect's default 404 answered;
     * closed: no reply at all.
     */
    layer: z.enum(["parser", "fallthrough", "closed"]),
    /** The policy had already allowed the head when the parser refused the body: a CONNECT to pipelock is tolerated. */
    forwardProxyContact: z.literal("tolerated").optional(),
  }),
  z.strictObject({
    verdict: z.literal("forwarded"),
    status: z.number().int().optional(),
    /** The path (and query) upstream must receive; default: the request's target. */
    path: z.string().optional(),
    method: z.string().optional(),
    /** The one credential upstream must see (none: no credential header at all). */
    credential: z.enum(["github", "anthropic", "none"]),
    /** The CONNECT target the forward proxy (pipelock) must see; default host:port. */
    connect: z.string().optional(),
  }),
]);
export type Expectation = z.infer<typeof expectationSchema>;

const header = z.tuple([z.string(), z.string()]);
const requestSchema = z.strictObject({
  method: z.string().optional(),
  host: z.string(),
  port: z.number().int().optional(),
  target: z.string().optional(),
  url: z.string().optional(),
  requestLine: z.string().optional(),
  hostHeader: z.union([z.string(), z.array(z.string()), z.null()]).optional(),
  headers: z.array(header).optional(),
  rawHeaderLines: z.string().optional(),
  body: z.string().optional(),
  noAutoLength: z.boolean().optional(),
  raw: z.string().optional(),
  connect: z.string().optional(),
  sni: z.union([z.string(), z.null()]).optional(),
  alpn: z.array(z.string()).optional(),
}) satisfies z.ZodType<RawRequest>;

const transportSchema = z.enum(["https-intercepted", "http-absolute", "both", "http-origin", "http-in-tunnel"]);

const caseSchema = z.strictObject({
  name: z.string().min(1),
  transport: transportSchema,
  routes: z.string().optional(),
  request: requestSchema,
  /** The verdict on every transport, unless overridden below. */
  expect: expectationSchema,
  /** Overrides for one transport of a `both` case (http-absolute / https-intercepted). */
  expectHttp: expectationSchema.optional(),
  expectHttps: expectationSchema.optional(),
  /** A verdict the proxy gets wrong today: the case is skipped and listed as a known bypass. */
  knownBypass: z.string().optional(),
  note: z.string().optional(),
});

const fileSchema = z.strictObject({
  class: z.string(),
  description: z.string(),
  routes: z.string(),
  cases: z.array(caseSchema).min(1),
});

/** One runnable case: a corpus row on one transport. */
export interface CorpusCase {
  id: string;
  file: string;
  class: string;
  name: string;
  transport: Transport;
  routes: string;
  request: RawRequest;
  expect: Expectation;
  knownBypass: string | undefined;
  note: string | undefined;
}

/** Load every corpus file, expanding `both` into its two transports; throws naming file and field. */
export function loadCorpus(dir = CORPUS_DIR): CorpusCase[] {
  const out: CorpusCase[] = [];
  const files = readdirSync(dir).filter((f) => f.endsWith(".json") && f !== "route-sets.json").sort();
  for (const file of files) {
    const parsed = fileSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), "utf8")));
    if (!parsed.success) {
      throw new Error(`${file}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    parsed.data.cases.forEach((c, i) => {
      const transports: Transport[] = c.transport === "both" ? ["https-intercepted", "http-absolute"] : [c.transport];
      for (const transport of transports) {
        const override = transport === "http-absolute" ? c.expectHttp : transport === "https-intercepted" ? c.expectHttps : undefined;
        out.push({
          id: `${file.replace(/\.json$/, "")}#${i + 1}${c.transport === "both" ? (transport === "http-absolute" ? "h" : "s") : ""}`,
          file,
          class: parsed.data.class,
          name: c.name,
          transport,
          routes: c.routes ?? parsed.data.routes,
          request: c.request,
          expect: override ?? c.expect,
          knownBypass: c.knownBypass,
          note: c.note,
        });
      }
    });
  }
  return out;
}

/** The named route sets (`corpus/route-sets.json`). */
export function loadRouteSets(dir = CORPUS_DIR): Record<string, unknown> {
  return JSON.parse(readFileSync(path.join(dir, "route-sets.json"), "utf8")) as Record<string, unknown>;
}
