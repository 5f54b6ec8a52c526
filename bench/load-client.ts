/**
 * The load generator, a child process driven over IPC by bench/run.ts, so that its CPU is its
 * own and can be reported next to the proxy's. Each job runs against one Target and answers
 * with figures only (percentiles are computed here, never shipped as raw samples).
 */
import { performance } from "node:perf_hooks";
import { Connection, openConnection, type Target } from "./wire";
import { percentile } from "./stats";

export type Job =
  | { op: "probe"; target: Target; path: string; headers?: string }
  | { op: "keepalive"; target: Target; connections: number; warmupMs: number; durationMs: number; path: string; postBytes?: number }
  | { op: "newconn"; target: Target; concurrency: number; durationMs: number; path: string }
  | { op: "sse"; target: Target; streams: number; events: number; intervalMs: number }
  | { op: "download"; target: Target; bytes: number }
  | { op: "upload"; target: Target; bytes: number };

const now = () => performance.now();

function get(host: string, path: string, extra = ""): Buffer {
  return Buffer.from(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`, "latin1");
}

async function probe(j: Extract<Job, { op: "probe" }>) {
  const c = new Connection(await openConnection(j.target));
  const chunks: Buffer[] = [];
  const r = await c.exchange(get(j.target.host, j.path, j.headers ?? ""), { onBody: (b) => chunks.push(Buffer.from(b)) });
  c.destroy();
  return { status: r.head.status, body: Buffer.concat(chunks).toString("utf8") };
}

/** A JSON body of about `bytes` bytes, of the text an agent posts (records, prose, ids, digests): what request inspection reads. */
export function jsonBody(bytes: number): Buffer {
  const items: unknown[] = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const item = { id: i, name: `item-${i}`, note: "Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.", commit: "9fceb02d0ae598e95dc970b74767f19372d61af8", tags: ["build", "test"], url: `https://example.com/items/${i}?view=full` };
    items.push(item);
    size += JSON.stringify(item).length + 1;
  }
  return Buffer.from(JSON.stringify(items)).subarray(0, bytes);
}

async function keepalive(j: Extract<Job, { op: "keepalive" }>) {
  const req = j.postBytes === undefined ? get(j.target.host, j.path) : Buffer.concat([
    Buffer.from(`POST ${j.path} HTTP/1.1\r\nHost: ${j.target.host}\r\nContent-Type: application/json\r\nContent-Length: ${j.postBytes}\r\n\r\n`, "latin1"),
    jsonBody(j.postBytes),
  ]);
  const conns = await Promise.all(Array.from({ length: j.connections }, async () => new Connection(await openConnection(j.target))));
  const start = now();
  const measureFrom = start + j.warmupMs;
  const end = measureFrom + j.durationMs;
  const lat: number[] = [];
  let errors = 0;
  let bad = 0;
  const samples = new Set<string>();
  const cpu0 = process.cpuUsage();
  await Promise.all(
    conns.map(async (c) => {
      while (now() < end) {
        const t0 = now();
        try {
          const r = await c.exchange(req);
          if (r.head.status !== 200) {
            bad++;
            samples.add(`status ${r.head.status}`);
          }
          if (t0 >= measureFrom) lat.push(now() - t0);
          if (r.closed) break;
        } catch (e) {
          errors++;
          samples.add(e instanceof Error ? e.message : String(e));
          break;
        }
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  for (const c of conns) c.destroy();
  lat.sort((a, b) => a - b);
  return { requests: lat.length, rps: lat.length / (j.durationMs / 1000), p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), errors, non200: bad, problems: [...samples].slice(0, 3), clientCpuMs: (cpu.user + cpu.system) / 1000 };
}

async function newconn(j: Extract<Job, { op: "newconn" }>) {
  const req = get(j.target.host, j.path, "Connection: close\r\n");
  const end = now() + j.durationMs;
  const lat: number[] = [];
  let errors = 0;
  let bad = 0;
  await Promise.all(
    Array.from({ length: j.concurrency }, async () => {
      while (now() < end) {
        const t0 = now();
        try {
          const c = new Connection(await openConnection(j.target));
          const r = await c.exchange(req);
          c.destroy();
          if (r.head.status !== 200) bad++;
          lat.push(now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  lat.sort((a, b) => a - b);
  return { connections: lat.length, rate: lat.length / (j.durationMs / 1000), p50Ms: percentile(lat, 50), p99Ms: percentile(lat, 99), errors, non200: bad };
}

/** Parse `data: <send hrtime ns>` events out of a stream; calls back with the one-way delay (ms). */
function sseParser(onEvent: (delayMs: number) => void): (b: Buffer) => void {
  let text = "";
  return (b) => {
    const at = process.hrtime.bigint();
    text += b.toString("latin1");
    let i;
    while ((i = text.indexOf("\n\n")) !== -1) {
      const m = /data: (\d+)/.exec(text.slice(0, i));
      text = text.slice(i + 2);
      if (m?.[1]) onEvent(Number(at - BigInt(m[1])) / 1e6);
    }
  };
}

async function sse(j: Extract<Job, { op: "sse" }>) {
  const path = `/sse?events=${j.events}&interval_ms=${j.intervalMs}`;
  const coldFirst: number[] = [];
  const warmFirst: number[] = [];
  const delivery: number[] = [];
  const gaps: number[] = [];
  for (let s = 0; s < j.streams; s++) {
    for (const warm of [false, true]) {
      const t0 = now();
      const c = new Connection(await openConnection(j.target));
      if (warm) await c.exchange(get(j.target.host, "/small"));
      const t1 = warm ? now() : t0;
      let first = true;
      let last = 0;
      await c.exchange(get(j.target.host, path), {
        onBody: sseParser((delay) => {
          const t = now();
          if (first) (warm ? warmFirst : coldFirst).push(t - t1);
          else {
            delivery.push(delay);
            gaps.push(t - last - j.intervalMs);
          }
          first = false;
          last = t;
        }),
      });
      c.destroy();
    }
  }
  for (const a of [coldFirst, warmFirst, delivery, gaps]) a.sort((x, y) => x - y);
  return {
    coldFirstP50Ms: percentile(coldFirst, 50),
    warmFirstP50Ms: percentile(warmFirst, 50),
    deliveryP50Ms: percentile(delivery, 50),
    deliveryP99Ms: percentile(delivery, 99),
    gapExcessP50Ms: percentile(gaps, 50),
    events: delivery.length + coldFirst.length + warmFirst.length,
  };
}

async function download(j: Extract<Job, { op: "download" }>) {
  const c = new Connection(await openConnection(j.target));
  const t0 = now();
  const r = await c.exchange(get(j.target.host, `/download?bytes=${j.bytes}`));
  const seconds = (now() - t0) / 1000;
  c.destroy();
  if (r.head.status !== 200 || r.bodyBytes !== j.bytes) throw new Error(`download: status ${r.head.status}, ${r.bodyBytes} of ${j.bytes} bytes`);
  return { seconds, mbps: j.bytes / 1048576 / seconds };
}

async function upload(j: Extract<Job, { op: "upload" }>) {
  const c = new Connection(await openConnection(j.target));
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const head = `POST /upload HTTP/1.1\r\nHost: ${j.target.host}\r\nContent-Type: application/octet-stream\r\nContent-Length: ${j.bytes}\r\n\r\n`;
  const t0 = now();
  const body: Buffer[] = [];
  const done = c.exchange(head, { onBody: (b) => body.push(Buffer.from(b)) });
  let left = j.bytes;
  const pump = () => {
    while (left > 0) {
      const part = left >= chunk.length ? chunk : chunk.subarray(0, left);
      left -= part.length;
      if (!c.socket.write(part)) return void c.socket.once("drain", pump);
    }
  };
  pump();
  const r = await done;
  const seconds = (now() - t0) / 1000;
  c.destroy();
  const got = (JSON.parse(Buffer.concat(body).toString("utf8") || "{}") as { bytes?: number }).bytes;
  if (r.head.status !== 200 || got !== j.bytes) throw new Error(`upload: status ${r.head.status}, upstream got ${got} of ${j.bytes} bytes`);
  return { seconds, mbps: j.bytes / 1048576 / seconds };
}

const ops = { probe, keepalive, newconn, sse, download, upload } as const;

process.on("message", (msg: { id: number; job: Job }) => {
  const run = ops[msg.job.op] as (j: Job) => Promise<unknown>;
  run(msg.job).then(
    (result) => process.send?.({ id: msg.id, result }),
    (e: unknown) => process.send?.({ id: msg.id, error: e instanceof Error ? e.message : String(e) }),
  );
});
process.on("disconnect", () => process.exit(0));
