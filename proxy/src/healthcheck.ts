/** Docker healthcheck: exit 0 when the proxy's `/healthz` answers 200 within two seconds. */
import http from "node:http";

const listen = process.env.EGRESS_PROXY_HEALTH_LISTEN ?? "127.0.0.1:9090";
const i = listen.lastIndexOf(":");
const host = i === -1 ? "127.0.0.1" : listen.slice(0, i).replace(/^\[|\]$/g, "").replace(/^(0\.0\.0\.0|\*)$/, "127.0.0.1");
const port = Number(listen.slice(i + 1));

const req = http.get({ host, port, path: "/healthz", timeout: 2000 }, (res) => {
  res.resume();
  process.exit(res.statusCode === 200 ? 0 : 1);
});
req.on("timeout", () => req.destroy(new Error("timeout")));
req.on("error", () => process.exit(1));
