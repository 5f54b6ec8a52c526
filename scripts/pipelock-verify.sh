#!/usr/bin/env bash
# Loopback check of the real pipelock binary (no Docker): validate the minimal config from
# scripts/pipelock-notes.md with `pipelock check`, run it on 127.0.0.1, start a plain HTTP
# upstream on 127.0.0.1, and send through it:
#   1. GET /health                                  -> expect 200
#   2. CONNECT localhost:<up> (allowlisted)          -> expect the upstream's 200
#   3. absolute-form GET http://localhost:<up>/      -> expect the upstream's 200
#   4. CONNECT 127.0.0.1:<up> (IP, not allowlisted)  -> expect a refusal (403)
# Only names from /etc/hosts and IP literals are used, so no DNS query leaves the machine.
# Exit 3 = no pipelock binary (run scripts/pipelock-image.sh first); 1 = a check failed.
set -euo pipefail
BB_SCRIPT=pipelock-verify
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PL="${PIPELOCK:-$BB_CACHE_DIR/bin/pipelock}"
if [ ! -x "$PL" ]; then
  echo "[pipelock-verify] SKIP: no pipelock binary at $PL" >&2
  exit 3
fi
command -v python3 >/dev/null || bb_die "python3 needed for the loopback upstream"
command -v curl >/dev/null || bb_die "curl needed"

tmp="$(mktemp -d)"
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${BB_KEEP:-0}" = 1 ]; then echo "[pipelock-verify] kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])'; }
PPORT="$(free_port)"
UPORT="$(free_port)"

cat >"$tmp/pipelock.yaml" <<YAML
version: 1
mode: strict
api_allowlist:
  - "localhost"
forward_proxy:
  enabled: true
  max_tunnel_seconds: 3600
  idle_timeout_seconds: 600
dlp:
  include_defaults: true
trusted_domains:
  - "localhost"
ssrf:
  ip_allowlist:
    - "127.0.0.0/8"
logging:
  format: json
  output: stdout
  include_allowed: true
  include_blocked: true
YAML

bb_log "pipelock: $("$PL" version 2>&1 | head -n1)"
if ! "$PL" check --config "$tmp/pipelock.yaml" >"$tmp/check.out" 2>&1; then
  cat "$tmp/check.out" >&2
  bb_die "pipelock check rejected the config"
fi
bb_log "check: ok ($(tail -n1 "$tmp/check.out"))"

mkdir -p "$tmp/www" && echo upstream-ok >"$tmp/www/index.html"
python3 -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$UPORT" >"$tmp/upstream.log" 2>&1 &
pids+=($!)
"$PL" run --config "$tmp/pipelock.yaml" --listen "127.0.0.1:$PPORT" >"$tmp/pipelock.log" 2>&1 &
pids+=($!)

end=$((SECONDS + 20))
until curl -fsS -o /dev/null "http://127.0.0.1:$PPORT/health" 2>/dev/null; do
  if [ "$SECONDS" -ge "$end" ]; then tail -n 20 "$tmp/pipelock.log" >&2; bb_die "pipelock /health not up in 20s"; fi
  sleep 0.2
done
until curl -fsS -o /dev/null "http://127.0.0.1:$UPORT/" 2>/dev/null; do
  [ "$SECONDS" -lt "$end" ] || bb_die "upstream not up"
  sleep 0.2
done

fail=0
check() { # check NAME EXPECT_CODE CURL_ARGS...
  local name="$1" want="$2" got
  shift 2
  got="$(curl -sS -m 5 -o "$tmp/body" -w '%{http_code}' "$@" 2>"$tmp/curl.err" || true)"
  bb_log "$name: http_code=$got body=$(head -c 40 "$tmp/body" 2>/dev/null | tr -d '\n') err=$(tr -d '\n' <"$tmp/curl.err" | head -c 80)"
  if [ "$got" != "$want" ]; then bb_log "  FAIL: want $want"; fail=1; fi
}
check "health" 200 "http://127.0.0.1:$PPORT/health"
check "CONNECT allowed localhost" 200 -p -x "http://127.0.0.1:$PPORT" "http://localhost:$UPORT/"
check "absolute-form allowed localhost" 200 -x "http://127.0.0.1:$PPORT" "http://localhost:$UPORT/"
# curl reports the proxy's CONNECT answer in %{http_connect}; the final code is 000
got="$(curl -sS -m 5 -o /dev/null -w '%{http_connect}' -p -x "http://127.0.0.1:$PPORT" \
  "http://127.0.0.1:$UPORT/" 2>"$tmp/curl.err" || true)"
bb_log "CONNECT denied 127.0.0.1 (IP not allowlisted): connect_code=$got err=$(tr -d '\n' <"$tmp/curl.err" | head -c 80)"
[ "$got" = 403 ] || { bb_log "  FAIL: want 403"; fail=1; }

bb_log "pipelock log events:"
python3 - "$tmp/pipelock.log" <<'PY'
import json, sys
for line in open(sys.argv[1], errors="replace"):
    try:
        e = json.loads(line)
    except ValueError:
        continue
    keep = {k: e[k] for k in ("level", "event", "method", "url", "target", "scanner", "reason", "status") if k in e}
    print("  ", json.dumps(keep))
PY
[ "$fail" = 0 ] || bb_die "some checks failed (BB_KEEP=1 keeps $tmp)"
bb_log "ok"
