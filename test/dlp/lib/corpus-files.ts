/**
 * The false-positive corpus: real files no one here wrote, available wherever the tests run (the
 * installed dependencies of the root, proxy/ and policy/, Python's standard library, the
 * system's /usr/share/doc). Picked deterministically: every candidate path sorted, then a seeded
 * sample of each source.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { prng } from "../../helpers/fake-secrets";

const ROOT = path.resolve(__dirname, "../../..");
/** What an agent reads into its context: source, types, data, lock files, documentation. */
const NODE_FILE = /(?:\.(?:js|mjs|cjs|ts|mts|cts|json|md|markdown|txt|map|yml|yaml)|\/(?:README|CHANGELOG|LICENSE)[^/]*)$/i;
/** A file larger than this is sent as its first this-many bytes (an agent reads large files in parts too). */
export const MAX_FILE_BYTES = 256 * 1024;

export interface CorpusFile {
  /** Where it is, relative to the repository or absolute for system files. */
  name: string;
  text: string;
}

function walk(dir: string, keep: (p: string) => boolean, out: string[]): void {
  let entries: string[];
  try {
    entries = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const e of entries) {
    const p = path.join(dir, e);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) walk(p, keep, out);
    else if (st.isFile() && st.size > 0 && keep(p)) out.push(p);
  }
}

/** `n` of `paths` (sorted), chosen by a seeded shuffle. */
function sample(paths: string[], n: number, seed: number): string[] {
  const random = prng(seed);
  const copy = [...paths].sort();
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as string, copy[i] as string];
  }
  return copy.slice(0, n).sort();
}

/** Text of a file, or undefined for binary data (a NUL byte in its first KiB) and undecodable bytes. */
function readText(p: string): string | undefined {
  const bytes = readFileSync(p).subarray(0, MAX_FILE_BYTES);
  if (bytes.subarray(0, 1024).includes(0)) return undefined;
  return bytes.toString("utf8");
}

/** The sources and how many files of each: at least 2,000 in all where they exist. */
export function corpusFiles(counts = { node: 1600, python: 450, doc: 250 }): CorpusFile[] {
  const node: string[] = [];
  for (const dir of ["node_modules", "proxy/node_modules", "policy/node_modules"]) walk(path.join(ROOT, dir), (p) => NODE_FILE.test(p), node);
  const python: string[] = [];
  for (const d of readdirSync("/usr/lib").filter((d) => /^python3\.\d+$/.test(d)).sort()) {
    walk(path.join("/usr/lib", d), (p) => p.endsWith(".py") && !p.includes("/dist-packages/"), python);
  }
  const doc: string[] = [];
  walk("/usr/share/doc", (p) => !/\.(?:gz|xz|bz2|png|jpg|gif|pdf|zip)$/.test(p), doc);
  const picked = [...sample(node, counts.node, 1), ...sample(python, counts.python, 2), ...sample(doc, counts.doc, 3)];
  return picked.flatMap((p) => {
    const text = readText(p);
    return text === undefined ? [] : [{ name: p.startsWith(ROOT) ? path.relative(ROOT, p) : p, text }];
  });
}
