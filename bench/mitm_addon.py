"""mitmproxy addon for the bench: the same policy as the bench route of our proxy.

Host allowlist (exact, case-insensitive) with port 443, CONNECT target and Host must agree,
method and path allowlist, Authorization / Proxy-Authorization stripped, the route's
credential injected, one JSON decision line per request on stdout. Decisions run in
`requestheaders`, so request bodies stream (with `stream_large_bodies` set) and a refused
request never reaches upstream.

Env: BENCH_HOST (the one allowed host), BENCH_TOKEN (injected as `Authorization: Bearer`).
"""

import json
import os
import sys
import time

from mitmproxy import http

HOST = os.environ["BENCH_HOST"].lower()
CREDENTIAL = "Bearer " + os.environ["BENCH_TOKEN"]
METHODS = {"GET", "POST"}
PATHS = {"/small", "/whoami", "/download", "/upload", "/sse"}
STRIP = ("authorization", "proxy-authorization")


def _deny(flow: http.HTTPFlow, status: int, reason: str) -> None:
    body = json.dumps({"error": "denied by egress proxy", "reason": reason})
    flow.response = http.Response.make(
        status, body, {"content-type": "application/json", "x-egress-proxy-denial": reason}
    )
    flow.metadata["decision"] = ("deny", reason)


class Egress:
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.request.host.lower() != HOST or flow.request.port != 443:
            _deny(flow, 403, "host not allowed")

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        req = flow.request
        connect_host = (flow.server_conn.address or ("", 0))[0].lower()
        host_header = (req.host_header or "").split(":")[0].lower()
        path = req.path.split("?", 1)[0]
        if req.host.lower() != HOST or req.port != 443 or req.scheme != "https":
            return _deny(flow, 403, "host not allowed")
        if connect_host and (connect_host != HOST or host_header != HOST):
            return _deny(flow, 403, "destination mismatch")
        if path not in PATHS:
            return _deny(flow, 403, "path not allowed")
        if req.method not in METHODS:
            return _deny(flow, 403, "method not allowed")
        for name in STRIP:
            req.headers.pop(name, None)
        req.headers["authorization"] = CREDENTIAL
        flow.metadata["decision"] = ("allow", "route matched")

    def responseheaders(self, flow: http.HTTPFlow) -> None:
        # Server-sent events must stream from the first byte (stream_large_bodies only starts
        # streaming past its size threshold).
        if flow.response and flow.response.headers.get("content-type", "").startswith("text/event-stream"):
            flow.response.stream = True

    def response(self, flow: http.HTTPFlow) -> None:
        self._log(flow, flow.response.status_code if flow.response else None)

    def error(self, flow: http.HTTPFlow) -> None:
        self._log(flow, None)

    def _log(self, flow: http.HTTPFlow, status) -> None:
        verdict, reason = flow.metadata.get("decision", ("error", "no decision"))
        line = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()),
            "event": "decision",
            "method": flow.request.method,
            "host": flow.request.host,
            "path": flow.request.path.split("?", 1)[0][:512],
            "verdict": verdict,
            "reason": reason,
            "status": status,
        }
        sys.stdout.write(json.dumps(line) + "\n")


addons = [Egress()]
