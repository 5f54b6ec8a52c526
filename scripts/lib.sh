# shellcheck shell=bash
# Shared helpers for scripts/*.sh. Source it; do not run it.
#
# Docker client choice: every script calls "$DOCKER", which is Debian's client
# /usr/bin/docker (20.10, same release as the dockerd it talks to) when present.
# The newer client at /usr/local/bin/docker (28.x) also works: it negotiates the
# API down to the daemon's 1.41 by itself, so DOCKER_API_VERSION is not needed.
# Both talk to the daemon on /var/run/docker.sock (DOCKER_HOST is pinned below).

BB_CACHE_DIR="${BB_CACHE_DIR:-/var/cache/bot-bottle}"
BB_LOG_DIR="${BB_LOG_DIR:-/var/log/bot-bottle}"
export DOCKER_HOST="${BB_DOCKER_HOST:-unix:///var/run/docker.sock}"
unset DOCKER_CONTEXT
# The legacy builder needs no network and no buildx plugin.
export DOCKER_BUILDKIT=0
export DEBIAN_FRONTEND=noninteractive

if [ -z "${DOCKER:-}" ]; then
  if [ -x /usr/bin/docker ]; then DOCKER=/usr/bin/docker; else DOCKER=docker; fi
fi

bb_log() { printf '[%s] %s\n' "${BB_SCRIPT:-bot-bottle}" "$*"; }
bb_die() { printf '[%s] ERROR: %s\n' "${BB_SCRIPT:-bot-bottle}" "$*" >&2; exit 1; }

# bb_pkg_missing PKG... : prints the packages that are not installed.
bb_pkg_missing() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
      printf '%s\n' "$p"
    fi
  done
}

# bb_apt_install PKG... : installs missing packages; runs apt-get update only if needed.
bb_apt_install() {
  local missing
  missing="$(bb_pkg_missing "$@")"
  [ -z "$missing" ] && return 0
  bb_log "installing: $(tr "\n" " " <<<"$missing")"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

bb_docker_up() { "$DOCKER" info >/dev/null 2>&1; }
