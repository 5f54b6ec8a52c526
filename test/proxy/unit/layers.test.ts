/**
 * The proxy's folders are its layers. Four decide and rewrite as pure data: `route/` (the route
 * decision, credentials, the routes file's schema), `inspect/` (request inspection), `echo/`
 * (answer inspection) and `audit/` (the lines); `transport/` moves bytes, `mockttp/` is the only
 * place that touches the library and its private parts.
 * These checks read the sources' import lines, so a change that crosses a layer fails here; and
 * no folder of the repository's TypeScript may depend on itself through another (a cycle).
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";

const ROOT = path.resolve(__dirname, "../../..");
const SRC = path.join(ROOT, "proxy/src");
/** Where the repository's own TypeScript lives, relative to the root: the graph of folders is built from these. */
const GRAPH_ROOTS = ["proxy/src", "components", "policy", "index.ts"];
/**
 * Folder cycles that exist and are being taken apart, each as its exact set of folders: the plan
 * imports Kubernetes settings and names, and the Kubernetes declarer imports the plan (issue 23).
 * Anything larger, or any other cycle, fails; so does an entry that no longer matches a cycle.
 */
const KNOWN_CYCLES: readonly (readonly string[])[] = [["components", "components/kubernetes"]];
const SOCKET_MODULES = ["net", "http", "https", "http2", "tls", "dns", "dgram", "fs", "child_process"];
const LIBRARY = ["mockttp", "https-proxy-agent"];
/** The pure folders, each with the pure folders it may import: one way, so a change to one stays in it. */
const PURE_LAYERS: Readonly<Record<string, readonly string[]>> = {
  inspect: [],
  echo: ["inspect"],
  route: ["inspect", "echo"],
  audit: ["route", "inspect", "echo"],
};

/** Every module a file imports at run time (type-only imports carry no code). */
function runtimeImports(file: string): string[] {
  const text = readFileSync(file, "utf8");
  const found: string[] = [];
  for (const m of text.matchAll(/^import\s+(type\s+)?[^;]*?from\s+"([^"]+)";/gm)) if (!m[1] && m[2]) found.push(m[2]);
  for (const m of text.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)) if (m[1]) found.push(m[1]);
  return found;
}

function filesOf(folder: string): string[] {
  return readdirSync(path.join(SRC, folder)).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, folder, f));
}

const bare = (spec: string) => spec.replace(/^node:/, "").split("/")[0] ?? spec;

/** Every .ts file under a root (a folder or one file), node_modules and declarations left out. */
function tsFiles(rel: string): string[] {
  const abs = path.join(ROOT, rel);
  if (!statSync(abs).isDirectory()) return [abs];
  return readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    if (e.isDirectory()) return e.name === "node_modules" ? [] : tsFiles(path.join(rel, e.name));
    return e.name.endsWith(".ts") && !e.name.endsWith(".d.ts") ? [path.join(abs, e.name)] : [];
  });
}

/** Every module a file names in an import, export-from, require or import(), type-only ones included. */
function allImports(file: string): string[] {
  const text = readFileSync(file, "utf8").replace(/^\s*(\/\/|\*|\/\*).*$/gm, "");
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^;"]*?\bfrom\s+"([^"]+)"/gm)) if (m[1]) found.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+"([^"]+)"/gm)) if (m[1]) found.push(m[1]);
  for (const m of text.matchAll(/\b(?:require|import)\(\s*"([^"]+)"\s*\)/g)) if (m[1]) found.push(m[1]);
  return found;
}

/** The file a relative specifier names, if it is one of ours. */
function resolveLocal(from: string, spec: string, ours: ReadonlySet<string>): string | undefined {
  if (!spec.startsWith(".")) return undefined;
  const base = path.resolve(path.dirname(from), spec);
  return [base, `${base}.ts`, path.join(base, "index.ts"), base.replace(/\.js$/, ".ts")].find((c) => ours.has(c) && existsSync(c));
}

/** File -> files it imports, over every root. */
function fileGraph(): Map<string, string[]> {
  const files = GRAPH_ROOTS.flatMap(tsFiles);
  const ours = new Set(files);
  return new Map(files.map((f) => [f, allImports(f).flatMap((s) => resolveLocal(f, s, ours) ?? [])]));
}

/** Folder -> folders its files import (a folder's imports of itself left out), folders relative to the root. */
function folderGraph(files: Map<string, string[]>): Map<string, Set<string>> {
  const folder = (f: string) => path.relative(ROOT, path.dirname(f)) || ".";
  const graph = new Map<string, Set<string>>();
  for (const [file, targets] of files) {
    const edges = graph.get(folder(file)) ?? new Set<string>();
    graph.set(folder(file), edges);
    for (const t of targets) if (folder(t) !== folder(file)) edges.add(folder(t));
  }
  return graph;
}

/** Strongly connected components of more than one node (Tarjan): each is a cycle of folders, sorted. */
function cycles(graph: Map<string, Set<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (let w = stack.pop(); w !== undefined; w = w === v ? undefined : stack.pop()) {
      onStack.delete(w);
      component.push(w);
    }
    if (component.length > 1) found.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found.sort((a, b) => a.join().localeCompare(b.join()));
}

/** The chain of imports by which `from` reaches `target`, or undefined (breadth first: a shortest one). */
function importChain(files: Map<string, string[]>, from: string, target: string): string[] | undefined {
  const cameFrom = new Map<string, string | undefined>([[from, undefined]]);
  for (const queue = [from]; queue.length > 0; ) {
    const f = queue.shift() as string;
    if (f === target) {
      const chain: string[] = [];
      for (let c: string | undefined = f; c !== undefined; c = cameFrom.get(c)) chain.unshift(path.relative(SRC, c));
      return chain;
    }
    for (const t of files.get(f) ?? []) {
      if (cameFrom.has(t)) continue;
      cameFrom.set(t, f);
      queue.push(t);
    }
  }
  return undefined;
}

describe("proxy layers", () => {
  it("has its layers, each with files", () => {
    for (const folder of [...Object.keys(PURE_LAYERS), "transport", "mockttp"]) assert.ok(filesOf(folder).length > 0, folder);
  });

  for (const [layer, below] of Object.entries(PURE_LAYERS)) {
    for (const file of filesOf(layer)) {
      it(`${layer}/${path.basename(file)} imports no socket, file or library module, and only ${[layer, ...below].join(", ")}`, () => {
        for (const spec of allImports(file)) {
          assert.ok(!SOCKET_MODULES.includes(bare(spec)), `${spec}: I/O belongs in transport/`);
          assert.ok(!LIBRARY.includes(bare(spec)), `${spec}: library glue belongs in mockttp/`);
          if (!spec.startsWith(".")) continue;
          const folder = path.relative(SRC, path.dirname(path.resolve(path.dirname(file), spec)));
          assert.ok(folder === layer || below.includes(folder), `${spec}: ${layer}/ may import ${[layer, ...below].join(", ")} only`);
        }
      });
    }
  }

  it("uses mockttp and https-proxy-agent at run time from mockttp/ only", () => {
    const outside = [...Object.keys(PURE_LAYERS), "transport"].flatMap(filesOf).concat(readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, f)));
    const offenders = outside.flatMap((f) => runtimeImports(f).filter((s) => LIBRARY.includes(bare(s))).map((s) => `${path.relative(SRC, f)}: ${s}`));
    assert.deepEqual(offenders, []);
  });

  it("keeps every private part of the library in mockttp/internals.ts", () => {
    const privateUses = /\.app\b\s*=|\bserver\.server\b|socket-extensions|_parent\b|HttpsProxyAgent/;
    const all = [...Object.keys(PURE_LAYERS), "transport", "mockttp"].flatMap(filesOf).concat(readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, f)));
    const offenders = all.filter((f) => !f.endsWith(path.join("mockttp", "internals.ts")) && privateUses.test(readFileSync(f, "utf8").replace(/^\s*(\/\/|\*).*$/gm, "")));
    assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
  });

  it("has no import cycle between folders, beyond the known ones", () => {
    const graph = folderGraph(fileGraph());
    // the graph covers what it should: a missed root or a broken resolver would pass vacuously
    for (const f of ["proxy/src", "proxy/src/route", "proxy/src/inspect", "proxy/src/echo", "proxy/src/audit", "proxy/src/transport", "proxy/src/mockttp", "components", "policy", "."]) assert.ok(graph.has(f), f);
    assert.ok(graph.get("proxy/src/mockttp")?.has("proxy/src/transport"), "mockttp/ uses transport/");
    const known = new Set(KNOWN_CYCLES.map((c) => [...c].sort().join(" <-> ")));
    const found = cycles(graph).map((c) => c.join(" <-> "));
    assert.deepEqual(found.filter((c) => !known.has(c)), [], "folders that import each other: move what both need to one side");
    assert.deepEqual([...known].filter((c) => !found.includes(c)), [], "a known cycle is gone: remove it from KNOWN_CYCLES");
  });

  it("finds a cycle between folders when there is one", () => {
    const graph = new Map([["a", new Set(["b"])], ["b", new Set(["c"])], ["c", new Set(["a"])], ["d", new Set(["a"])]]);
    assert.deepEqual(cycles(graph), [["a", "b", "c"]]);
    assert.deepEqual(cycles(new Map([["a", new Set(["b"])], ["b", new Set<string>()]])), []);
  });

  for (const file of filesOf("transport")) {
    it(`transport/${path.basename(file)} does not reach mockttp/internals.ts, even through other files`, () => {
      const chain = importChain(fileGraph(), file, path.join(SRC, "mockttp", "internals.ts"));
      assert.equal(chain?.join(" -> "), undefined, "transport reads connections through its own interfaces (connection-view.ts)");
    });
  }
});
