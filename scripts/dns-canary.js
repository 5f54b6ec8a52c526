#!/usr/bin/env node
// A DNS canary: listens on UDP and TCP port 53 of one IPv4 address, writes one JSON line per
// query it receives ({"event":"query","proto","from","name"}) and answers each with REFUSED, so
// that nothing waits on it and nothing is ever resolved. It stands in for a resolver (the
// host's, while a check points the engine at it on loopback; a cluster's, as a Pod): whatever
// reaches it is a name that left a container.
//
//   node scripts/dns-canary.js --listen 127.53.0.1 [--seconds 60]
//
// Prints {"event":"listening",...} once both sockets are bound; exits on SIGTERM/SIGINT or when
// the deadline passes.
"use strict";
const dgram = require("node:dgram");
const net = require("node:net");

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const address = arg("listen", "");
const seconds = Number(arg("seconds", "60"));
if (!/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address) || !(seconds > 0 && seconds <= 3600)) {
  process.stderr.write("usage: dns-canary.js --listen <IPv4 address> [--seconds 1-3600]\n");
  process.exit(2);
}

/** The question's name of a DNS message, labels joined by dots ("" when it cannot be read). */
function questionName(msg) {
  const labels = [];
  let i = 12;
  while (i < msg.length && msg[i] !== 0 && labels.length < 128) {
    const n = msg[i];
    // a compression pointer or a length past the end: not a question this canary reads
    if (n > 63 || i + 1 + n > msg.length) return "";
    labels.push(msg.subarray(i + 1, i + 1 + n).toString("latin1"));
    i += 1 + n;
  }
  return labels.join(".");
}

/** REFUSED for a query: its id and question echoed, no answer. */
function refused(msg) {
  if (msg.length < 12) return undefined;
  const out = Buffer.from(msg);
  out[2] = 0x80 | (msg[2] & 0x79); // QR, the query's opcode and RD
  out[3] = 0x05; // RCODE REFUSED
  out.writeUInt16BE(0, 6); // no answer, authority or additional records
  out.writeUInt16BE(0, 8);
  out.writeUInt16BE(0, 10);
  return out;
}

function log(record) {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
}

const udp = dgram.createSocket("udp4");
udp.on("message", (msg, peer) => {
  log({ event: "query", proto: "udp", from: peer.address, name: questionName(msg) });
  const answer = refused(msg);
  if (answer) udp.send(answer, peer.port, peer.address);
});

const tcp = net.createServer((socket) => {
  socket.setTimeout(5_000, () => socket.destroy());
  let buffered = Buffer.alloc(0);
  socket.on("data", (chunk) => {
    buffered = Buffer.concat([buffered, chunk]);
    // TCP DNS: a two-byte length, then the message
    while (buffered.length >= 2 && buffered.length >= 2 + buffered.readUInt16BE(0)) {
      const msg = buffered.subarray(2, 2 + buffered.readUInt16BE(0));
      buffered = buffered.subarray(2 + msg.length);
      log({ event: "query", proto: "tcp", from: socket.remoteAddress, name: questionName(msg) });
      const answer = refused(msg);
      if (answer) socket.write(Buffer.concat([Buffer.from([answer.length >> 8, answer.length & 0xff]), answer]));
    }
  });
  socket.on("error", () => socket.destroy());
});

function stop() {
  udp.close();
  tcp.close();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
setTimeout(stop, seconds * 1000).unref();

let bound = 0;
const ready = () => {
  if (++bound === 2) log({ event: "listening", address, port: 53 });
};
udp.on("error", (e) => {
  process.stderr.write(`dns-canary: udp ${address}:53: ${e.message}\n`);
  process.exit(1);
});
tcp.on("error", (e) => {
  process.stderr.write(`dns-canary: tcp ${address}:53: ${e.message}\n`);
  process.exit(1);
});
udp.bind(53, address, ready);
tcp.listen(53, address, ready);
