#!/usr/bin/env bash
# Install Debian's Docker engine (docker.io 20.10) and debootstrap, start dockerd if
# the socket does not answer, and check once per dockerd start that an `internal`
# network really has no way out, and whether its DNS leaks without a bottle's mitigation
# (engine-dns-check.sh). Idempotent; a second run takes about a second.
set -euo pipefail
BB_SCRIPT=docker-engine
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

DEADLINE_S="${BB_DOCKERD_DEADLINE_S:-60}"
CANARY_IMAGE="bot-bottle/canary:busybox"

[ "$(id -u)" = 0 ] || bb_die "run as root"
mkdir -p "$BB_CACHE_DIR" "$BB_LOG_DIR"

# 1. packages (apt-get update only when something is missing)
bb_apt_install docker.io containerd runc iptables debootstrap ca-certificates busybox-static
[ -x /usr/sbin/dockerd ] || bb_die "dockerd missing after install"

# 2. engine
if bb_docker_up; then
  bb_log "dockerd already answering"
else
  if pgrep -x dockerd >/dev/null 2>&1; then
    bb_log "dockerd process exists but does not answer yet; waiting"
  else
    bb_log "starting dockerd (log: $BB_LOG_DIR/dockerd.log)"
    setsid nohup /usr/sbin/dockerd >>"$BB_LOG_DIR/dockerd.log" 2>&1 </dev/null &
  fi
  end=$((SECONDS + DEADLINE_S))
  until bb_docker_up; do
    if [ "$SECONDS" -ge "$end" ]; then
      tail -n 20 "$BB_LOG_DIR/dockerd.log" >&2 || true
      bb_die "dockerd did not answer within ${DEADLINE_S}s"
    fi
    sleep 0.3
  done
  bb_log "dockerd up"
fi
server="$("$DOCKER" version --format '{{.Server.Version}} (API {{.Server.APIVersion}})')"
bb_log "client $DOCKER, server $server"

# 3. canary image: busybox-static imported, no registry needed
if ! "$DOCKER" image inspect "$CANARY_IMAGE" >/dev/null 2>&1; then
  bb_log "building $CANARY_IMAGE from busybox-static"
  tmp="$(mktemp -d)"
  mkdir -p "$tmp/bin" "$tmp/www"
  cp /bin/busybox "$tmp/bin/busybox"
  ln -s busybox "$tmp/bin/sh"
  echo canary >"$tmp/www/index.html"
  tar --numeric-owner --owner=0 --group=0 -C "$tmp" -c . |
    "$DOCKER" import --change 'CMD ["/bin/busybox","sh"]' - "$CANARY_IMAGE" >/dev/null
  rm -rf "$tmp"
fi

# 4. verify `internal` isolation and DNS once per dockerd start (BB_VERIFY=1 forces it)
stamp="$BB_CACHE_DIR/engine-verified"
dpid="$(cat /var/run/docker.pid 2>/dev/null || echo none)"
if [ "${BB_VERIFY:-0}" != 1 ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$dpid" ]; then
  bb_log "internal-network isolation already verified for dockerd pid $dpid"
  exit 0
fi

sfx="bbv$$"
cleanup() {
  "$DOCKER" rm -f "$sfx-out" "$sfx-in" >/dev/null 2>&1 || true
  "$DOCKER" network rm "$sfx-outnet" "$sfx-intnet" >/dev/null 2>&1 || true
}
trap cleanup EXIT
bb_log "verifying internal network isolation"
"$DOCKER" network create "$sfx-outnet" >/dev/null
"$DOCKER" network create --internal "$sfx-intnet" >/dev/null
httpd=(/bin/busybox httpd -f -p 8080 -h /www)
"$DOCKER" run -d --name "$sfx-out" --network "$sfx-outnet" "$CANARY_IMAGE" "${httpd[@]}" >/dev/null
"$DOCKER" run -d --name "$sfx-in" --network "$sfx-intnet" --network-alias canary-int \
  "$CANARY_IMAGE" "${httpd[@]}" >/dev/null
out_ip="$("$DOCKER" inspect -f "{{(index .NetworkSettings.Networks \"$sfx-outnet\").IPAddress}}" "$sfx-out")"
probe() { # probe NETWORK HOST: succeeds if a fresh container there gets the canary page
  # (busybox-static's wget segfaults in a bare image; nc does not)
  "$DOCKER" run --rm --network "$1" "$CANARY_IMAGE" /bin/busybox sh -c \
    "printf 'GET / HTTP/1.0\r\n\r\n' | /bin/busybox nc -w 2 $2 8080" 2>/dev/null | grep -q '^canary'
}
# positive controls (poll: the canaries need a moment to listen)
end=$((SECONDS + 20))
until probe "$sfx-outnet" "$out_ip"; do
  [ "$SECONDS" -lt "$end" ] || bb_die "canary on a normal network did not answer"
  sleep 0.3
done
probe "$sfx-intnet" canary-int ||
  bb_die "container on the internal network cannot reach its neighbour by alias"
# the real check: internal -> canary on another network must fail
if probe "$sfx-intnet" "$out_ip"; then
  bb_die "a container on an --internal network reached $out_ip on another network"
fi
bb_log "ok: internal network reaches its neighbour, cannot reach canary $out_ip on another network"
# 5. DNS: does a name looked up on an internal network reach the host's resolver?
bash "$(dirname "${BASH_SOURCE[0]}")/engine-dns-check.sh" "$sfx-intnet" "$CANARY_IMAGE"
echo "$dpid" >"$stamp"
