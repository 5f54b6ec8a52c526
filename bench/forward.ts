/**
 * The stand-in for pipelock, as its own process: test/helpers' CONNECT forward proxy, mapping
 * `BENCH_HOST:443` to the upstream's loopback port. Prints `{"port":N}` once listening.
 */
import { startConnectProxy } from "../test/helpers/connect-proxy";

async function main(): Promise<void> {
  const host = process.env.BENCH_HOST ?? "";
  const upstreamPort = Number(process.env.BENCH_UPSTREAM_PORT);
  const forward = await startConnectProxy({ [`${host}:443`]: upstreamPort });
  // The helper records every CONNECT target for tests; a bench opens hundreds of thousands.
  setInterval(() => (forward.targets.length = 0), 1000).unref();
  process.stdout.write(`${JSON.stringify({ port: forward.port })}\n`);
  process.on("SIGTERM", () => process.exit(0));
}

main().catch((e: unknown) => {
  process.stderr.write(`forward proxy failed: ${String(e)}\n`);
  process.exit(1);
});
