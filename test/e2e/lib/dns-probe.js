// Run inside a bottle's container (`docker exec -i <c> node - LABEL EXPECT SERVER...`): looks up
// names carrying LABEL in every way a program there can (raw UDP and TCP queries to each SERVER,
// libc's getaddrinfo and gethostbyname, the resolver of resolv.conf) and prints one JSON object
// saying what answered. Each lookup has its own name (`LABEL.<how>.leak-probe.test`), so a canary
// that receives one tells which way it left. EXPECT is a name the container must still resolve
// (the proxy's alias). Bounded: every lookup gives up within 3 s.
"use strict";
const dgram = require("node:dgram");
const dns = require("node:dns");
const net = require("node:net");
const { execFile } = require("node:child_process");

const [label, expect, ...servers] = process.argv.slice(2);
const TIMEOUT_MS = 2_000;

/** A DNS query for an A record of `name`, with a random id. */
function query(name) {
  const header = Buffer.from([Math.floor(Math.random() * 256), Math.floor(Math.random() * 256), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
  const labels = name.split(".").map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l, "ascii")]));
  return Buffer.concat([header, ...labels, Buffer.from([0, 0, 1, 0, 1])]);
}

/** The outcome of one raw query: `answer rcode=N`, `timeout` or `error <code>`. */
function viaUdp(server, name) {
  return new Promise((resolve) => {
    const s = dgram.createSocket("udp4");
    const done = (what) => {
      clearTimeout(timer);
      s.close();
      resolve(what);
    };
    const timer = setTimeout(() => done("timeout"), TIMEOUT_MS);
    s.on("message", (m) => done(`answer rcode=${m[3] & 0x0f}`));
    s.on("error", (e) => done(`error ${e.code}`));
    s.send(query(name), 53, server);
  });
}

function viaTcp(server, name) {
  return new Promise((resolve) => {
    const q = query(name);
    const s = net.connect({ host: server, port: 53 });
    const done = (what) => {
      clearTimeout(timer);
      s.destroy();
      resolve(what);
    };
    const timer = setTimeout(() => done("timeout"), TIMEOUT_MS);
    s.on("connect", () => s.write(Buffer.concat([Buffer.from([q.length >> 8, q.length & 0xff]), q])));
    s.on("data", (m) => done(m.length >= 4 ? `answer rcode=${m[5] & 0x0f}` : "answer"));
    s.on("error", (e) => done(`error ${e.code}`));
  });
}

function settle(promise) {
  const timeout = new Promise((resolve) => setTimeout(() => resolve("timeout"), TIMEOUT_MS + 1_000));
  return Promise.race([promise.then((v) => `answer ${JSON.stringify(v)}`, (e) => `error ${e.code}`), timeout]);
}

/** libc's resolver in a child (`hosts`: gethostbyname, `ahosts`: getaddrinfo), killed at the deadline. */
function getent(database, name) {
  return new Promise((resolve) => {
    execFile("getent", [database, name], { timeout: TIMEOUT_MS + 1_000 }, (e, stdout) => resolve(e ? `error ${e.code ?? e.signal}` : `answer ${stdout.trim()}`));
  });
}

async function main() {
  const lookups = servers.flatMap((server, i) => [
    [`udp ${server}`, () => viaUdp(server, `${label}.udp${i}.leak-probe.test`)],
    [`tcp ${server}`, () => viaTcp(server, `${label}.tcp${i}.leak-probe.test`)],
  ]);
  lookups.push(
    ["getaddrinfo", () => getent("ahosts", `${label}.getaddrinfo.leak-probe.test`)],
    ["gethostbyname", () => getent("hosts", `${label}.gethostbyname.leak-probe.test`)],
    ["resolver", () => settle(new dns.promises.Resolver({ timeout: TIMEOUT_MS, tries: 1 }).resolve4(`${label}.resolver.leak-probe.test`))],
    ["expected", () => getent("hosts", expect)],
  );
  const t0 = Date.now();
  const outcomes = {};
  const ms = {};
  await Promise.all(lookups.map(([how, run]) => run().then((r) => {
    outcomes[how] = r;
    ms[how] = Date.now() - t0;
  })));
  process.stdout.write(`${JSON.stringify({ ...outcomes, ms })}\n`);
}

main().catch((e) => {
  process.stderr.write(`dns-probe: ${e.message}\n`);
  process.exit(1);
});
