#!/usr/bin/env bash
# Does the engine let a container on an `internal` network resolve names through the host?
# Points the host's resolver at a canary on loopback (scripts/dns-canary.js) for the moment two
# containers start on an internal network, then has each look up a name of its own:
#   plain:  the engine's defaults. Its name reaching the canary means the engine forwards
#           queries from the host's namespace (CVE-2024-29018, Docker before 26.0.0 / 25.0.4 /
#           23.0.11, Debian 12's docker.io 20.10 included): leaking without the mitigation.
#   sealed: as a bottle's agent and proxy run (`--dns 127.0.0.1`, components/constants.ts
#           NO_OUTSIDE_RESOLVER). Its name reaching the canary is a failure of the mitigation.
# Prints one line with the verdict and writes it to $BB_CACHE_DIR/engine-dns (leaks | sealed).
# Exit 1 if the sealed container leaked. Restores the host's resolver on every exit.
# Usage: engine-dns-check.sh INTERNAL_NETWORK IMAGE (an image with busybox at /bin/busybox)
set -euo pipefail
BB_SCRIPT=engine-dns-check
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

net="${1:?usage: engine-dns-check.sh INTERNAL_NETWORK IMAGE}"
image="${2:?usage: engine-dns-check.sh INTERNAL_NETWORK IMAGE}"
canary_addr="${BB_DNS_CANARY_ADDR:-127.53.0.1}"
sfx="bbdns$$"
work="$(mktemp -d)"
mounted=()
canary_pid=""

restore() {
  local m
  for m in "${mounted[@]}"; do umount "$m" 2>/dev/null || true; done
  mounted=()
}
cleanup() {
  restore
  [ -n "$canary_pid" ] && kill "$canary_pid" 2>/dev/null || true
  "$DOCKER" rm -f "$sfx-plain" "$sfx-sealed" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

node "$here/dns-canary.js" --listen "$canary_addr" --seconds 120 >"$work/canary.log" 2>"$work/canary.err" &
canary_pid=$!
end=$((SECONDS + 10))
until grep -q '"event":"listening"' "$work/canary.log" 2>/dev/null; do
  kill -0 "$canary_pid" 2>/dev/null || bb_die "dns canary did not start: $(cat "$work/canary.err")"
  [ "$SECONDS" -lt "$end" ] || bb_die "dns canary did not listen within 10s"
  sleep 0.1
done

# The engine reads the host's resolver when a container's sandbox starts: point every file it
# may read (systemd-resolved's too) at the canary only while the two containers start.
echo "nameserver $canary_addr" >"$work/resolv.conf"
for f in /etc/resolv.conf /run/systemd/resolve/resolv.conf; do
  [ -e "$f" ] || continue
  mount --bind "$work/resolv.conf" "$f"
  mounted+=("$f")
done
[ "${#mounted[@]}" -gt 0 ] || bb_die "no /etc/resolv.conf to point at the canary"
"$DOCKER" run -d --name "$sfx-plain" --network "$net" "$image" /bin/busybox sleep 60 >/dev/null
# the client warns that a loopback resolver "may fail in containers": failing is the point
"$DOCKER" run -d --name "$sfx-sealed" --network "$net" --dns 127.0.0.1 "$image" /bin/busybox sleep 60 >/dev/null 2>"$work/run.err" ||
  bb_die "cannot start the sealed probe: $(cat "$work/run.err")"
restore

label="leak-$sfx"
for who in plain sealed; do
  # through the engine's resolver, as any program in the container would
  "$DOCKER" exec "$sfx-$who" /bin/busybox nslookup "$who-$label.probe.test" >/dev/null 2>&1 || true
done
# the plain container's query, if it is forwarded at all, arrives within a second or two
end=$((SECONDS + 5))
until grep -q "plain-$label" "$work/canary.log" || [ "$SECONDS" -ge "$end" ]; do sleep 0.2; done

if grep -q "sealed-$label" "$work/canary.log"; then
  echo leaks-sealed >"$BB_CACHE_DIR/engine-dns"
  bb_die "a container with --dns 127.0.0.1 on an internal network had its query forwarded to the host's resolver: bottles are not sealed on this engine"
fi
if grep -q "plain-$label" "$work/canary.log"; then
  echo leaks >"$BB_CACHE_DIR/engine-dns"
  bb_log "engine forwards DNS of internal-only containers to a loopback host resolver (CVE-2024-29018); bottles set dns 127.0.0.1 and stay sealed: their query did not arrive"
else
  echo sealed >"$BB_CACHE_DIR/engine-dns"
  bb_log "engine does not forward DNS of internal-only containers to the host's resolver; neither query arrived"
fi
