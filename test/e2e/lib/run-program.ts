/**
 * Runs the real program (`defineBottles` from components/) under Pulumi mocks that apply it to
 * the local engine or cluster: the equivalent of `pulumi up` for the e2e suites. Each call is one apply; the
 * same EngineMocks carries state from one apply to the next.
 */
import * as pulumi from "@pulumi/pulumi";
import * as pulumiSettings from "@pulumi/pulumi/runtime/settings";
/** What an applier under mocks gives `applyProgram` (EngineMocks for Docker, KubeMocks for a cluster). */
export interface ApplierMocks extends pulumi.runtime.Mocks {
  readonly failures: Error[];
  redact(text: string): string;
  recordOptions(type: string, name: string, opts: { deleteBeforeReplace: boolean; retainOnDelete: boolean }): void;
  beginApply(): void;
  finishApply(): Promise<void>;
}

/** Drains Pulumi's RPC queue (an @internal export, not in the typings; absent → resolved). */
function waitForRPCs(): Promise<void> {
  const settings = pulumiSettings as { waitForRPCs?: () => Promise<void> };
  return settings.waitForRPCs ? settings.waitForRPCs() : Promise.resolve();
}

/** Bounds one apply; a Pulumi registration that never resolves must not hang the suite. */
const APPLY_TIMEOUT_MS = 300_000;

function withDeadline<T>(what: string, p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not finished after ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

/** Apply `config` (the shape of `bot-bottle:*`) with `tokens` as its secrets; returns the stack outputs. */
export async function applyProgram(mocks: ApplierMocks, config: unknown, tokens: Record<string, string>): Promise<Record<string, unknown>> {
  await pulumi.runtime.setMocks(mocks, "bot-bottle", "e2e", false);
  // loaded after setMocks, as Pulumi programs under mocks must be
  const components = await import("../../../components");
  mocks.beginApply();
  // a failed registration surfaces as an unhandled rejection inside the SDK: count it as a failure
  const onUnhandled = (e: unknown) => {
    mocks.failures.push(new Error(mocks.redact(e instanceof Error ? e.message : String(e))));
  };
  process.on("unhandledRejection", onUnhandled);
  const run = pulumi.runtime.runInPulumiStack(async () => {
    // record the options the engine and provider would act on (deleteBeforeReplace, retainOnDelete); change nothing
    pulumi.runtime.registerStackTransformation((a) => {
      const opts = a.opts as pulumi.CustomResourceOptions;
      mocks.recordOptions(a.type, a.name, { deleteBeforeReplace: opts.deleteBeforeReplace === true, retainOnDelete: opts.retainOnDelete === true });
      return undefined;
    });
    const defined = components.defineBottles(config, components.tokensFromRecord(tokens));
    return { outputs: defined.outputs };
  });
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = await withDeadline("apply", run, APPLY_TIMEOUT_MS);
    await withDeadline("apply (pending registrations)", waitForRPCs(), APPLY_TIMEOUT_MS);
  } catch (e) {
    const first = mocks.failures[0];
    throw first ?? new Error(mocks.redact(e instanceof Error ? e.message : String(e)));
  } finally {
    process.off("unhandledRejection", onUnhandled);
  }
  if (mocks.failures.length > 0) throw mocks.failures[0];
  await mocks.finishApply();
  return outputs ?? {};
}
