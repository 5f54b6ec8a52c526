#!/usr/bin/env bash
# Build bot-bottle/base:bookworm: a debootstrap'ed Debian bookworm (minbase + ca-certificates,
# curl) imported with `docker import`, plus the host's node binary and a non-root user
# `agent` (uid/gid 10001, the image's default USER). No registry or image pull needed.
# Cache: the rootfs tarball and the .debs live under $BB_CACHE_DIR; the image is rebuilt
# only when it is missing or its labels do not match the node version / recipe revision.
set -euo pipefail
BB_SCRIPT=base-image
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SUITE=bookworm
MIRROR="${BB_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
INCLUDE="ca-certificates,curl"
RECIPE_REV=1 # bump when the Dockerfile below changes
IMAGE="bot-bottle/base:$SUITE"
ROOTFS_IMAGE="bot-bottle/base-rootfs:$SUITE"
AGENT_UID=10001

[ "$(id -u)" = 0 ] || bb_die "run as root"
"$DOCKER" info >/dev/null 2>&1 || bb_die "docker engine not answering: run scripts/docker-engine.sh first"
NODE_BIN="$(command -v node)" || bb_die "node not found on PATH"
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" --version)"
WANT="node=$NODE_VERSION rev=$RECIPE_REV"

have="$("$DOCKER" image inspect -f '{{index .Config.Labels "bot-bottle.base"}}' "$IMAGE" 2>/dev/null || true)"
if [ "$have" = "$WANT" ]; then
  bb_log "$IMAGE up to date ($WANT)"
  exit 0
fi

# 1. rootfs tarball (cached)
rootfs_dir="$BB_CACHE_DIR/rootfs"
tarball="$rootfs_dir/$SUITE-minbase.tar"
stamp="$tarball.ok"
stamp_want="$SUITE minbase include=$INCLUDE"
mkdir -p "$rootfs_dir" "$BB_CACHE_DIR/debs"
if [ ! -f "$tarball" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$stamp_want" ]; then
  work="$rootfs_dir/work.$$"
  trap 'rm -rf "$work"' EXIT
  bb_log "debootstrap $SUITE minbase (+$INCLUDE) from $MIRROR (log: $BB_LOG_DIR/debootstrap.log)"
  mkdir -p "$BB_LOG_DIR"
  bb_debootstrap "$work" "$INCLUDE" "$BB_LOG_DIR/debootstrap.log"
  bb_pack_rootfs "$work" "$tarball" "$stamp" "$stamp_want"
  rm -rf "$work"
  trap - EXIT
fi

# 2. rootfs image, labelled with the tarball's identity
bb_import_rootfs "$tarball" "$ROOTFS_IMAGE"

# 3. final image: node + agent user (build context holds only the node binary)
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$NODE_BIN" "$ctx/node"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $ROOTFS_IMAGE
COPY node /usr/local/bin/node
RUN groupadd -g $AGENT_UID agent \\
 && useradd -u $AGENT_UID -g $AGENT_UID -m -d /home/agent -s /bin/bash agent \\
 && chmod 0755 /usr/local/bin/node \\
 && node --version && curl --version >/dev/null && command -v update-ca-certificates >/dev/null
ENV LANG=C.UTF-8
LABEL bot-bottle.base="$WANT" bot-bottle.node-version="$NODE_VERSION"
WORKDIR /home/agent
USER $AGENT_UID:$AGENT_UID
CMD ["/bin/bash"]
DOCKERFILE
bb_log "docker build $IMAGE (node $NODE_VERSION)"
"$DOCKER" build -q -t "$IMAGE" -t "$IMAGE-node-$NODE_VERSION" "$ctx" >/dev/null
# dangling old builds of this tag are removed to keep the disk tidy
"$DOCKER" image prune -f --filter "label=bot-bottle.node-version" >/dev/null 2>&1 || true

# shellcheck disable=SC2016 # expanded inside the container
out="$("$DOCKER" run --rm --network none "$IMAGE" sh -c \
  'echo "node $(node --version), $(curl --version | head -n1 | cut -d" " -f1-2), uid $(id -u), $(command -v update-ca-certificates)"')"
bb_log "ok: $IMAGE: $out"
