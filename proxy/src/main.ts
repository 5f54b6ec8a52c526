/**
 * Entry point: load settings, the CA and the routes; start the proxy and the health listener;
 * reload routes on SIGHUP or file change; stop cleanly on SIGTERM. Logs are JSON lines on stdout.
 */
import { readFileSync, watch } from "node:fs";
import path from "node:path";
import { addressesOfAlias } from "./transport/agent-network";
import { batchedSink, eventLine } from "./audit/audit-log";
import { loadSettings, SettingsError } from "./config";
import { routeConsole } from "./library-output";
import { EgressProxy } from "./mockttp/egress-proxy";
import { selfCheck } from "./mockttp/self-check";
import { startHealthServer } from "./transport/health-server";
import { oneAtATime } from "./one-at-a-time";
import { RouteTableError } from "./route/route-table";
import { loadRouteTable } from "./routes-file";

const log = batchedSink((chunk) => process.stdout.write(chunk));
// Also on a crash or process.exit(): the lines of the last turn are written before the end.
process.on("exit", () => log.flush());

function fail(problems: string[]): never {
  process.stderr.write(`${eventLine("startup_failed", { problems: problems.join("; ") })}\n`);
  process.exit(2);
}

function readPem(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (e) {
    return fail([`${what} ${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? "error"}); mount the bottle CA there or set the flag`]);
  }
}

async function main(): Promise<void> {
  let settings;
  let table;
  try {
    settings = loadSettings(process.argv.slice(2), process.env);
    table = loadRouteTable(settings.routesFile, process.env);
  } catch (e) {
    if (e instanceof SettingsError || e instanceof RouteTableError) fail(e.problems);
    throw e;
  }
  // from here on, whatever a library prints is a JSON line too
  routeConsole(log, settings.bottle);
  const key = "pem" in settings.caKey ? settings.caKey.pem : readPem(settings.caKey.file, "EGRESS_PROXY_CA_KEY");
  // the key now lives in memory only; nothing the proxy might spawn or dump inherits it
  delete process.env.EGRESS_PROXY_CA_KEY_PEM;
  const ca = { cert: readPem(settings.caCertFile, "EGRESS_PROXY_CA_CERT"), key };
  let acceptedAddresses: ReadonlySet<string> | undefined;
  if (settings.agentAlias !== undefined) {
    acceptedAddresses = await addressesOfAlias(settings.agentAlias);
    if (acceptedAddresses.size === 0) {
      fail([`EGRESS_PROXY_AGENT_ALIAS: ${settings.agentAlias} names none of this container's addresses; attach the proxy to the agent's network under that alias`]);
    }
  }
  // mockttp's private parts, by what they do (mockttp/self-check.ts): a mismatch stops the start
  await selfCheck(ca).catch((e: unknown) => fail([`mockttp self-check: ${e instanceof Error ? e.message : String(e)}; pin mockttp to the tested version (4.6.5)`]));
  const proxy = new EgressProxy(table, {
    port: settings.port,
    ca,
    upstreamProxy: settings.upstreamProxy,
    bottle: settings.bottle,
    sink: log,
    idleTimeoutMs: settings.idleTimeoutMs,
    ...(acceptedAddresses ? { acceptedAddresses } : {}),
  });
  let ready = false;
  const health = await startHealthServer(settings.health.host, settings.health.port, () => ({ ok: ready, routes: proxy.routeCount }));
  const port = await proxy.start();
  ready = true;
  proxy.event("started", {
    port, health_port: health.port, routes: proxy.routeCount, upstream: settings.upstreamProxy ? "proxy" : "direct",
    accepting_at: acceptedAddresses ? [...acceptedAddresses].join(",") : "any address",
  });

  const routesFile = settings.routesFile;
  let pending: NodeJS.Timeout | undefined;
  // the file is read when the reload's turn comes, so the last reload installs the newest file
  const reload = oneAtATime(async (trigger: string) => {
    let next;
    try {
      next = loadRouteTable(routesFile, process.env);
    } catch (e) {
      if (!(e instanceof RouteTableError)) throw e;
      proxy.event("routes_rejected", { trigger, problems: e.problems.join("; "), routes_in_force: proxy.routeCount });
      return;
    }
    try {
      await proxy.apply(next);
      proxy.event("routes_reloaded", { trigger, routes: next.routes.length });
    } catch (e) {
      proxy.event("routes_rejected", { trigger, problems: `could not install the new rules: ${e instanceof Error ? e.message : String(e)}`, routes_in_force: proxy.routeCount });
    }
  });
  process.on("SIGHUP", () => void reload("SIGHUP"));
  // Watch the directory: editors and `docker cp` replace the file rather than write into it.
  // Bursts of events for one change are coalesced into one reload.
  const watcher = watch(path.dirname(routesFile), (_event, name) => {
    if (name !== null && name !== path.basename(routesFile)) return;
    clearTimeout(pending);
    pending = setTimeout(() => void reload("file change"), 100);
  });

  const stop = async (signal: string) => {
    proxy.event("stopping", { signal });
    watcher.close();
    clearTimeout(pending);
    health.server.close();
    await proxy.stop();
    proxy.event("stopped", {});
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

main().catch((e: unknown) => {
  fail([`unexpected start-up error: ${e instanceof Error ? e.message : String(e)}`]);
});
