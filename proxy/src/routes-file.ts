/**
 * Reading `routes.yaml` from disk, at start-up and on every reload: the file's I/O, apart from
 * the pure table it builds (route/route-table.ts).
 */
import { readFileSync } from "node:fs";
import { parse as parseYaml } from "yaml";
import { buildRouteTable, RouteTableError, type RouteTable } from "./route/route-table";

/** Read and build a route table from a YAML (or JSON) file. */
export function loadRouteTable(file: string, env: Readonly<Record<string, string | undefined>>): RouteTable {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new RouteTableError([`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"})`]);
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new RouteTableError([`${file}: not valid YAML or JSON (${(e as Error).message.split("\n")[0]})`]);
  }
  return buildRouteTable(doc, env);
}
