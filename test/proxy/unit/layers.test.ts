/**
 * The proxy's folders are its layers: `policy/` decides and rewrites as pure data, `transport/`
 * moves bytes, `mockttp/` is the only place that touches the library and its private parts.
 * These checks read the sources' import lines, so a change that crosses a layer fails here.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const SRC = path.resolve(__dirname, "../../../proxy/src");
const SOCKET_MODULES = ["net", "http", "https", "http2", "tls", "dns", "dgram", "fs", "child_process"];
const LIBRARY = ["mockttp", "https-proxy-agent"];

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

describe("proxy layers", () => {
  it("has the three layers, each with files", () => {
    for (const folder of ["policy", "transport", "mockttp"]) assert.ok(filesOf(folder).length > 0, folder);
  });

  for (const file of filesOf("policy")) {
    it(`policy/${path.basename(file)} imports no socket, file or library module, and nothing outside policy/`, () => {
      for (const spec of runtimeImports(file)) {
        assert.ok(!SOCKET_MODULES.includes(bare(spec)), `${spec}: I/O belongs in transport/`);
        assert.ok(!LIBRARY.includes(bare(spec)), `${spec}: library glue belongs in mockttp/`);
        if (spec.startsWith(".")) assert.ok(spec.startsWith("./"), `${spec}: the policy layer depends on itself only`);
      }
    });
  }

  it("uses mockttp and https-proxy-agent at run time from mockttp/ only", () => {
    const outside = ["policy", "transport"].flatMap(filesOf).concat(readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, f)));
    const offenders = outside.flatMap((f) => runtimeImports(f).filter((s) => LIBRARY.includes(bare(s))).map((s) => `${path.relative(SRC, f)}: ${s}`));
    assert.deepEqual(offenders, []);
  });

  it("keeps every private part of the library in mockttp/internals.ts", () => {
    const privateUses = /\.app\b\s*=|\bserver\.server\b|socket-extensions|_parent\b|HttpsProxyAgent/;
    const all = ["policy", "transport", "mockttp"].flatMap(filesOf).concat(readdirSync(SRC).filter((f) => f.endsWith(".ts")).map((f) => path.join(SRC, f)));
    const offenders = all.filter((f) => !f.endsWith(path.join("mockttp", "internals.ts")) && privateUses.test(readFileSync(f, "utf8").replace(/^\s*(\/\/|\*).*$/gm, "")));
    assert.deepEqual(offenders.map((f) => path.relative(SRC, f)), []);
  });
});
