#!/usr/bin/env bash
# Build bot-bottle/test-agent:bookworm, the coding-agent stand-in of the e2e suite
# (test/e2e/workday.test.ts): a debootstrap'ed Debian bookworm, as base-image.sh makes, with the
# tools an agent uses every day from Debian's own packages: git, python3 with pip, venv and
# requests, nodejs with npm, and a Java 17 JDK (the JDK, not the JRE: `java Main.java` runs a
# source file, which needs the compiler module). User `agent` (uid/gid 10001) is the default USER.
# The same image runs the suite's local servers (git http-backend, an npm registry, a PEP 503
# index, SSE), so both sides use clients and servers no one here wrote.
# Cache: the rootfs tarball and the .debs live under $BB_CACHE_DIR (shared with base-image.sh);
# the image is rebuilt only when it is missing or its label does not match the recipe.
set -euo pipefail
BB_SCRIPT=test-agent-image
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
MIRROR="${BB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# debootstrap's own resolver does not follow virtual packages (npm's node-* dependencies), so
# it lays the same minbase as base-image.sh and apt, in a chroot on the host, adds the rest
INCLUDE="ca-certificates,curl"
PACKAGES="git python3 python3-pip python3-venv python3-requests nodejs npm openjdk-17-jdk-headless"
RECIPE_REV=1 # bump when the Dockerfile below changes
IMAGE="bot-bottle/test-agent:$SUITE"
ROOTFS_IMAGE="bot-bottle/test-agent-rootfs:$SUITE"
AGENT_UID=10001
WANT="packages=$PACKAGES rev=$RECIPE_REV"

[ "$(id -u)" = 0 ] || bb_die "run as root"
"$DOCKER" info >/dev/null 2>&1 || bb_die "docker engine not answering: run scripts/docker-engine.sh first"

have="$("$DOCKER" image inspect -f '{{index .Config.Labels "bot-bottle.test-agent"}}' "$IMAGE" 2>/dev/null || true)"
if [ "$have" = "$WANT" ]; then
  bb_log "$IMAGE up to date"
  exit 0
fi
t0=$SECONDS

# 1. rootfs tarball (cached)
rootfs_dir="$BB_CACHE_DIR/rootfs"
tarball="$rootfs_dir/$SUITE-test-agent.tar"
stamp="$tarball.ok"
stamp_want="$SUITE minbase include=$INCLUDE packages=$PACKAGES"
mkdir -p "$rootfs_dir" "$BB_CACHE_DIR/debs" "$BB_LOG_DIR"
if [ ! -f "$tarball" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$stamp_want" ]; then
  work="$rootfs_dir/test-agent-work.$$"
  cleanup() {
    umount "$work/var/cache/apt/archives" "$work/proc" 2>/dev/null || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  log="$BB_LOG_DIR/debootstrap-test-agent.log"
  bb_log "debootstrap $SUITE minbase (+$INCLUDE) from $MIRROR, then apt: $PACKAGES (log: $log)"
  bb_debootstrap "$work" "$INCLUDE" "$log"
  # apt's downloads go to the shared .deb cache, so a rebuild fetches nothing again
  mount -t proc proc "$work/proc"
  mount --bind "$BB_CACHE_DIR/debs" "$work/var/cache/apt/archives"
  echo "deb $MIRROR $SUITE main" >"$work/etc/apt/sources.list"
  # shellcheck disable=SC2086 # a word list
  if ! { chroot "$work" apt-get update -q && chroot "$work" apt-get install -y -q --no-install-recommends $PACKAGES; } >>"$log" 2>&1; then
    tail -n 20 "$log" >&2
    bb_die "apt-get install in the rootfs failed"
  fi
  umount "$work/var/cache/apt/archives" "$work/proc"
  bb_pack_rootfs "$work" "$tarball" "$stamp" "$stamp_want"
  cleanup
  trap - EXIT
fi

# 2. rootfs image, labelled with the tarball's identity
bb_import_rootfs "$tarball" "$ROOTFS_IMAGE"

# 3. final image: the agent user and a check that every tool starts (no network: --network none)
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $ROOTFS_IMAGE
RUN groupadd -g $AGENT_UID agent \\
 && useradd -u $AGENT_UID -g $AGENT_UID -m -d /home/agent -s /bin/bash agent \\
 && git --version && python3 -c 'import requests, venv' && python3 -m pip --version \\
 && node --version && npm --version && java -version 2>&1 | head -n1 && command -v update-ca-certificates
ENV LANG=C.UTF-8
LABEL bot-bottle.test-agent="$WANT"
WORKDIR /home/agent
USER $AGENT_UID:$AGENT_UID
CMD ["/bin/bash"]
DOCKERFILE
bb_log "docker build $IMAGE"
old="$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)"
"$DOCKER" build -q --network none -t "$IMAGE" "$ctx" >/dev/null
new="$("$DOCKER" image inspect -f '{{.Id}}' "$IMAGE")"
# the build this one replaced, if nothing uses it any more
[ -n "$old" ] && [ "$old" != "$new" ] && { "$DOCKER" rmi "$old" >/dev/null 2>&1 || true; }

# shellcheck disable=SC2016 # expanded inside the container
out="$("$DOCKER" run --rm --network none "$IMAGE" sh -c \
  'echo "git $(git --version | cut -d" " -f3), python $(python3 -c "import sys; print(sys.version.split()[0])"), node $(node --version), npm $(npm --version), java $(java -version 2>&1 | head -n1 | cut -d\" -f2), uid $(id -u)"')"
size="$("$DOCKER" image inspect -f '{{.Size}}' "$IMAGE")"
bb_log "ok in $((SECONDS - t0))s: $IMAGE ($((size / 1000000)) MB): $out"
