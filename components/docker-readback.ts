/**
 * Values in the form the Docker provider reads them back from the engine.
 *
 * The provider stores what its Read returns right after Create, and the next `pulumi up` diffs
 * the program's inputs against that. An input written in any other form differs on every run,
 * and `cpus` forces a new container: the agent would lose its working tree on each `up`.
 * (terraform-provider-docker, internal/provider/resource_docker_container_funcs.go: Create ends
 * with Read; Read stores `cpus` through nanoInt64ToDecimalString in helpers.go.)
 */

const NANO = 1_000_000_000n;

/** CPUs as the engine holds them: nano-CPUs, or undefined when finer than 0.001 CPU. */
function nanoCpus(cpus: number): bigint | undefined {
  const milli = Math.round(cpus * 1000);
  if (Math.abs(cpus * 1000 - milli) > 1e-6) return undefined;
  return BigInt(milli) * 1_000_000n;
}

/**
 * The provider's decimal string of nano-CPUs, quirks included: nine decimals with trailing
 * zeros cut, except that a string with exactly nine `0` characters is rounded to one decimal
 * (so 2 reads "2.0" and 16 reads "16.0", but 10 reads "10." and 0.05 reads "0.1").
 */
function decimalOfNano(nano: bigint): string {
  if (nano === 0n) return "0";
  const nine = `${nano / NANO}.${(nano % NANO).toString().padStart(9, "0")}`;
  if ([...nine].filter((c) => c === "0").length !== 9) return nine.replace(/0+$/, "");
  const tenths = (nano + NANO / 20n) / (NANO / 10n); // half away from zero, as big.Rat does
  return `${tenths / 10n}.${tenths % 10n}`;
}

/** Nano-CPUs of a decimal string, as Docker's `--cpus` parses it; undefined if it does not parse. */
function nanoOfDecimal(text: string): bigint | undefined {
  const m = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (!m) return undefined;
  const frac = (m[2] ?? "").padEnd(9, "0");
  if (frac.length > 9) return undefined;
  return BigInt(m[1] ?? "0") * NANO + BigInt(frac);
}

export type CpusReadBack = { ok: true; text: string } | { ok: false; why: string };

/**
 * `cpus` as the program must declare it: the string the provider reads back. Fails for a
 * value whose read-back form means another amount (0.05 reads "0.1", 0.01 reads "0.0", which
 * would lift the limit), since no declaration of it can stay unchanged.
 */
export function cpusAsReadBack(cpus: number): CpusReadBack {
  const nano = nanoCpus(cpus);
  if (nano === undefined || nano <= 0n) return { ok: false, why: "must be a positive multiple of 0.001" };
  const text = decimalOfNano(nano);
  if (nanoOfDecimal(text) !== nano) {
    return { ok: false, why: `is read back by the Docker provider as "${text}", another amount, so every \`pulumi up\` would replace the container` };
  }
  return { ok: true, text };
}
