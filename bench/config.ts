/**
 * Bench settings, all from the environment. `BENCH_QUICK=1` is a smoke run of about a minute;
 * the default run stays under ten minutes on two cores with 1 GiB transfers.
 */
export interface BenchConfig {
  quick: boolean;
  /** Paths measured, in this order on the first round (rotated on later rounds). */
  paths: PathName[];
  rounds: number;
  warmupMs: number;
  durationMs: number;
  connections: number[];
  newConnConcurrency: number;
  newConnMs: number;
  sseStreams: number;
  sseEvents: number;
  sseIntervalMs: number;
  transferBytes: number;
  transferRounds: number;
  startups: number;
  /** Our proxy's entry point (a scratch copy can be benched in place of proxy/dist). */
  proxyMain: string | undefined;
  /** A second build of our proxy, measured as path `cand` in the same run (A/B of a change). */
  candidateMain: string | undefined;
  /** `cand` is our proxy with request inspection off (`dlp: {mode: off}`): the scanner's cost, A/B. */
  candidateDlpOff: boolean;
  /** Size of the JSON POSTs of the POST phase (KiB; 0 skips it). */
  postKib: number;
  /** Directory for a V8 CPU profile of our proxy (written when it stops). */
  cpuProfDir: string | undefined;
  /** Append the run's figures to bench/RESULTS.md. */
  record: boolean;
  /** Free text recorded with the run (what changed). */
  label: string;
}

export type PathName = "direct" | "forward" | "ours" | "cand" | "mitm";

const ALL_PATHS: PathName[] = ["direct", "forward", "ours", "cand", "mitm"];

function num(env: NodeJS.ProcessEnv, name: string, full: number, quick: number, isQuick: boolean): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return isQuick ? quick : full;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${name}=${raw}: not a number; unset it or give a non-negative number`);
  return n;
}

/** Read the settings; a bad value fails with the variable's name. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): BenchConfig {
  const quick = env.BENCH_QUICK === "1";
  const candidateMain = env.BENCH_CANDIDATE_MAIN || undefined;
  const candidateDlpOff = env.BENCH_CANDIDATE_DLP_OFF === "1";
  const hasCandidate = candidateMain !== undefined || candidateDlpOff;
  const defaults = ALL_PATHS.filter((p) => p !== "cand" || hasCandidate);
  const paths = (env.BENCH_PATHS ?? defaults.join(",")).split(",").map((s) => s.trim()) as PathName[];
  if (paths.includes("cand") && !hasCandidate) throw new Error("BENCH_PATHS names cand; set BENCH_CANDIDATE_MAIN to the candidate build's main.js, or BENCH_CANDIDATE_DLP_OFF=1");
  for (const p of paths) {
    if (!ALL_PATHS.includes(p)) throw new Error(`BENCH_PATHS: unknown path ${p}; use some of ${ALL_PATHS.join(",")}`);
  }
  const connections = (env.BENCH_CONNECTIONS ?? "1,32").split(",").map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1)) throw new Error(`BENCH_CONNECTIONS=${env.BENCH_CONNECTIONS}: use positive integers, e.g. 1,32`);
  return {
    quick,
    paths,
    rounds: num(env, "BENCH_ROUNDS", 3, 1, quick),
    warmupMs: num(env, "BENCH_WARMUP_MS", 500, 300, quick),
    durationMs: num(env, "BENCH_DURATION_MS", 3000, 1000, quick),
    connections,
    newConnConcurrency: num(env, "BENCH_NEWCONN_CONCURRENCY", 4, 4, quick),
    newConnMs: num(env, "BENCH_NEWCONN_MS", 2000, 1000, quick),
    sseStreams: num(env, "BENCH_SSE_STREAMS", 5, 2, quick),
    sseEvents: num(env, "BENCH_SSE_EVENTS", 20, 10, quick),
    sseIntervalMs: num(env, "BENCH_SSE_INTERVAL_MS", 20, 20, quick),
    transferBytes: Math.round(num(env, "BENCH_TRANSFER_MB", 1024, 64, quick) * 1048576),
    transferRounds: num(env, "BENCH_TRANSFER_ROUNDS", 1, 1, quick),
    startups: num(env, "BENCH_STARTUPS", 3, 1, quick),
    proxyMain: env.BENCH_PROXY_MAIN || undefined,
    candidateMain,
    candidateDlpOff,
    postKib: num(env, "BENCH_POST_KIB", 64, 64, quick),
    cpuProfDir: env.BENCH_CPU_PROF || undefined,
    record: env.BENCH_RECORD === undefined ? !quick : env.BENCH_RECORD === "1",
    label: env.BENCH_LABEL ?? "",
  };
}
