/**
 * Summarise a V8 .cpuprofile (from BENCH_CPU_PROF): self time by function and by package or
 * file, so a profile of the proxy under load can be read without a browser.
 * Usage: npx ts-node bench/profile-summary.ts FILE.cpuprofile [top=25] [callers-of=NAME]
 * With a function name as third argument, also shows the call paths (9 frames up) that lead to
 * its self time.
 */
import { readFileSync } from "node:fs";

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

function where(url: string): string {
  const nm = url.lastIndexOf("node_modules/");
  if (nm !== -1) {
    const rest = url.slice(nm + 13).split("/");
    return rest[0]?.startsWith("@") ? `${rest[0]}/${rest[1]}` : (rest[0] ?? url);
  }
  if (url.startsWith("node:")) return url;
  if (url === "") return "(native/vm)";
  return url.replace(/^.*\/(proxy\/dist\/)/, "$1");
}

function main(): void {
  const [file, topArg, callersOf] = process.argv.slice(2);
  if (!file) throw new Error("usage: profile-summary FILE.cpuprofile [top]");
  const top = Number(topArg ?? "25");
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  let total = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    self.set(id, (self.get(id) ?? 0) + dt);
    total += dt;
  });
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, t] of self) {
    const n = byId.get(id);
    if (!n) continue;
    const cf = n.callFrame;
    const key = `${cf.functionName || "(anonymous)"} ${where(cf.url)}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) ?? 0) + t);
    pkg.set(where(cf.url), (pkg.get(where(cf.url)) ?? 0) + t);
  }
  const show = (title: string, m: Map<string, number>) => {
    console.log(`\n${title} (of ${(total / 1e6).toFixed(1)} s sampled)`);
    for (const [k, t] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((t / total) * 100).toFixed(1).padStart(5)} %  ${k}`);
  };
  show("self time by package or file", pkg);
  show("self time by function", fn);
  if (callersOf) {
    const parent = new Map<number, number>();
    for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    const paths = new Map<string, number>();
    for (const [id, t] of self) {
      if (byId.get(id)?.callFrame.functionName !== callersOf) continue;
      const chain: string[] = [];
      for (let up = parent.get(id); up !== undefined && chain.length < 9; up = parent.get(up)) {
        const cf = byId.get(up)?.callFrame;
        if (cf) chain.push(`${cf.functionName || "(anonymous)"}@${where(cf.url)}:${cf.lineNumber + 1}`);
      }
      const key = chain.join(" < ");
      paths.set(key, (paths.get(key) ?? 0) + t);
    }
    show(`callers of ${callersOf}`, paths);
  }
}

main();
