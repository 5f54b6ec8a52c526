#!/usr/bin/env bash
# Wrap an existing pipelock into the local image bot-bottle/pipelock:<version> (FROM scratch,
# entrypoint /pipelock, port 8888, USER 65534). This script never builds pipelock: the project
# holds no pipelock code, no binary and no recipe that builds one. Give it what exists:
#
#   PIPELOCK_BIN=/path/to/pipelock          a static linux binary (checked, cached, wrapped)
#   PIPELOCK_LOCAL_IMAGE=<ref>              a pipelock image already loaded into the local engine
#                                           (e.g. ghcr.io/luckypipewrench/pipelock:2.3.0 from
#                                           `docker load`), re-labelled with USER 65534
#   (neither)                               the binary cached by an earlier PIPELOCK_BIN run, or
#                                           a bot-bottle/pipelock:<version> image already present
#
# Whatever the source, `pipelock version` (which prints to stderr) must report exactly
# PIPELOCK_VERSION: a build without pipelock's version flags says 0.1.0-dev and is refused.
# Exit 3 means "pipelock unavailable here" (nothing given, nothing cached): setup.sh reports it
# and goes on unless BB_REQUIRE_PIPELOCK=1. Any other non-zero status is a real failure.
set -euo pipefail
BB_SCRIPT=pipelock-image
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIPELOCK_VERSION=2.3.0 # image tag, no leading v; pipelock v2.3.0 is commit 7a3b7de4a555
RECIPE_REV=2           # bump when the Dockerfiles below change

IMAGE="bot-bottle/pipelock:$PIPELOCK_VERSION"
VDIR="$BB_CACHE_DIR/pipelock/$PIPELOCK_VERSION"
BIN="$VDIR/pipelock"
STABLE="$BB_CACHE_DIR/bin/pipelock"

unavailable() {
  echo "[pipelock-image] UNAVAILABLE: $1" >&2
  echo "[pipelock-image] give PIPELOCK_BIN=<static pipelock $PIPELOCK_VERSION binary> or PIPELOCK_LOCAL_IMAGE=<local image>" >&2
  exit 3
}

is_static() { # a static binary has no ELF interpreter
  [ -x "$1" ] && ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# check_version WHAT OUTPUT: OUTPUT is what `pipelock version` printed (stdout and stderr)
check_version() {
  local got
  got="$(printf '%s\n' "$2" | sed -n 's/^pipelock version v\{0,1\}\([^ ]*\).*/\1/p' | head -n1)"
  [ -n "$got" ] || bb_die "$1: \`pipelock version\` printed no version line; is it pipelock?"
  if [ "$got" = "0.1.0-dev" ]; then
    bb_die "$1 reports 0.1.0-dev: built without pipelock's version flags, so it cannot be told apart from any other build; give a release build of $PIPELOCK_VERSION"
  fi
  [ "$got" = "$PIPELOCK_VERSION" ] || bb_die "$1 reports version $got, not the pinned $PIPELOCK_VERSION; give a $PIPELOCK_VERSION binary or change PIPELOCK_VERSION with components/constants.ts"
  bb_log "$1: pipelock $got"
}

image_version() { "$DOCKER" run --rm --network none --entrypoint /pipelock "$1" version 2>&1 || true; }

have_label() { "$DOCKER" image inspect -f '{{index .Config.Labels "bot-bottle.pipelock"}}' "$1" 2>/dev/null || true; }

# build_image CONTEXT WANT: the Dockerfile in CONTEXT becomes $IMAGE, labelled WANT
build_image() {
  bb_log "docker build $IMAGE"
  "$DOCKER" build -q -t "$IMAGE" "$1" >/dev/null
  check_version "$IMAGE" "$(image_version "$IMAGE")"
  bb_log "ok: $IMAGE ($2)"
}

# 1. an image already in the local engine
if [ -n "${PIPELOCK_LOCAL_IMAGE:-}" ]; then
  bb_docker_up || bb_die "docker engine not answering: run scripts/docker-engine.sh first"
  id="$("$DOCKER" image inspect -f '{{.Id}}' "$PIPELOCK_LOCAL_IMAGE" 2>/dev/null)" ||
    bb_die "PIPELOCK_LOCAL_IMAGE=$PIPELOCK_LOCAL_IMAGE is not in the local engine (nothing is pulled); \`docker load\` it first"
  check_version "PIPELOCK_LOCAL_IMAGE=$PIPELOCK_LOCAL_IMAGE" "$(image_version "$PIPELOCK_LOCAL_IMAGE")"
  want="version=$PIPELOCK_VERSION from=$id rev=$RECIPE_REV"
  [ "$(have_label "$IMAGE")" = "$want" ] && { bb_log "$IMAGE up to date ($want)"; exit 0; }
  ctx="$(mktemp -d)"
  trap 'rm -rf "$ctx"' EXIT
  cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM $id
LABEL bot-bottle.pipelock="$want" bot-bottle.pipelock-version="$PIPELOCK_VERSION"
USER 65534:65534
DOCKERFILE
  build_image "$ctx" "$want"
  exit 0
fi

# 2. a binary: given now, or cached from an earlier run
if [ -n "${PIPELOCK_BIN:-}" ]; then
  is_static "$PIPELOCK_BIN" || bb_die "PIPELOCK_BIN=$PIPELOCK_BIN is not a static executable"
  check_version "PIPELOCK_BIN=$PIPELOCK_BIN" "$("$PIPELOCK_BIN" version 2>&1 || true)"
  mkdir -p "$VDIR" "$BB_CACHE_DIR/bin"
  install -m 0755 "$PIPELOCK_BIN" "$BIN.tmp"
  mv "$BIN.tmp" "$BIN"
elif [ -x "$BIN" ]; then
  check_version "cached $BIN" "$("$BIN" version 2>&1 || true)"
elif bb_docker_up && "$DOCKER" image inspect "$IMAGE" >/dev/null 2>&1; then
  check_version "$IMAGE" "$(image_version "$IMAGE")"
  bb_log "$IMAGE present; no binary given, kept as it is"
  exit 0
else
  unavailable "no pipelock binary or image given, none cached at $BIN, no local $IMAGE"
fi
mkdir -p "$BB_CACHE_DIR/bin"
ln -sfn "$BIN" "$STABLE"

# 3. the image FROM scratch (build context: the binary and the host CA bundle)
bb_docker_up || bb_die "docker engine not answering: run scripts/docker-engine.sh first"
want="version=$PIPELOCK_VERSION sha256=$(sha256sum "$BIN" | cut -c1-16) rev=$RECIPE_REV"
if [ "$(have_label "$IMAGE")" = "$want" ]; then
  bb_log "$IMAGE up to date ($want)"
  exit 0
fi
ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
cp "$BIN" "$ctx/pipelock"
cp /etc/ssl/certs/ca-certificates.crt "$ctx/ca-certificates.crt"
cat >"$ctx/Dockerfile" <<DOCKERFILE
FROM scratch
COPY pipelock /pipelock
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
LABEL bot-bottle.pipelock="$want" bot-bottle.pipelock-version="$PIPELOCK_VERSION"
EXPOSE 8888
USER 65534:65534
ENTRYPOINT ["/pipelock"]
CMD ["run", "--listen", "0.0.0.0:8888"]
DOCKERFILE
build_image "$ctx" "$want"
