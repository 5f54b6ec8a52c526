/**
 * Looks for byte strings in a container's whole filesystem (`docker export`, streamed, never
 * written to disk), so that nothing secret has to be passed into the container to grep for it.
 */
import { docker } from "./docker-cli";

/** Which of `needles` (by label) occur anywhere in the export of `container`. */
export async function exportContains(container: string, needles: Readonly<Record<string, string>>): Promise<string[]> {
  const entries = Object.entries(needles).map(([label, text]) => ({ label, bytes: Buffer.from(text, "utf8") }));
  const longest = Math.max(...entries.map((e) => e.bytes.length));
  const found = new Set<string>();
  let tail = Buffer.alloc(0);
  await docker(["export", container], {
    timeoutMs: 120_000,
    onStdout: (chunk) => {
      // keep the last bytes of the previous chunk so that a match across chunks is seen
      const window = Buffer.concat([tail, chunk]);
      for (const e of entries) if (!found.has(e.label) && window.includes(e.bytes)) found.add(e.label);
      tail = window.subarray(Math.max(0, window.length - longest + 1));
    },
  });
  return [...found];
}
