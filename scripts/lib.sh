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

# bb_debootstrap WORK INCLUDE LOG : a minbase Debian of $SUITE from $MIRROR in WORK, .debs cached.
bb_debootstrap() {
  command -v debootstrap >/dev/null || bb_die "debootstrap missing: run scripts/docker-engine.sh first"
  if ! debootstrap --variant=minbase --include="$2" --cache-dir="$BB_CACHE_DIR/debs" \
    "$SUITE" "$1" "$MIRROR" >"$3" 2>&1; then
    tail -n 20 "$3" >&2
    bb_die "debootstrap failed"
  fi
}

# bb_pack_rootfs WORK TARBALL STAMP STAMP_WANT : slim WORK down (package lists and downloaded
# .debs are not needed at run time), pack it as TARBALL and record what it was built from.
bb_pack_rootfs() {
  rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/archives/*.deb \
    "$1"/var/cache/apt/*.bin "$1"/var/log/*.log "$1"/tmp/*
  bb_log "packing rootfs tarball"
  tar --numeric-owner --xattrs -C "$1" -cf "$2.tmp" .
  mv "$2.tmp" "$2"
  echo "$4" >"$3"
}

# bb_import_rootfs TARBALL IMAGE : `docker import` TARBALL as IMAGE unless IMAGE is of that tarball already.
bb_import_rootfs() {
  local tar_id have
  tar_id="$(stat -c '%s-%Y' "$1")"
  have="$("$DOCKER" image inspect -f '{{index .Config.Labels "bot-bottle.rootfs"}}' "$2" 2>/dev/null || true)"
  if [ "$have" != "$tar_id" ]; then
    bb_log "docker import $2"
    "$DOCKER" import --change "LABEL bot-bottle.rootfs=$tar_id" --change 'CMD ["/bin/bash"]' "$1" "$2" >/dev/null
  fi
}
