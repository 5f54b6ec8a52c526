#!/usr/bin/env bash
# Build pipelock (github.com/luckyPipewrench/pipelock, Go, no cgo) pinned by commit, leave the
# static binary at $BB_CACHE_DIR/bin/pipelock, and wrap it in a local image
# bot-bottle/pipelock:<version> built FROM scratch (entrypoint /pipelock, port 8888).
#
# Where the binary comes from, first match wins:
#   PIPELOCK_BIN=/path/to/pipelock   an existing static linux binary (checked, copied)
#   PIPELOCK_SRC=/path/to/checkout   `CGO_ENABLED=0 go build ./cmd/pipelock` in a checkout
#   (default)                        `go install .../cmd/pipelock@$PIPELOCK_COMMIT` via the
#                                    Go module proxy (v2 tags cannot be installed by tag: the
#                                    module path has no /v2, so pin the commit)
# Exit status 3 means "no pipelock source available here" (setup.sh reports it and goes on
# unless BB_REQUIRE_PIPELOCK=1); any other non-zero status is a real failure.
set -euo pipefail
BB_SCRIPT=pipelock-image
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PIPELOCK_MODULE=github.com/luckyPipewrench/pipelock
PIPELOCK_VERSION=2.3.0                                      # image tag, no leading v
PIPELOCK_COMMIT=7a3b7de4a5552b4e756eb930256468b7cbd616b1    # = tag v2.3.0 (2026-04-25)
RECIPE_REV=1 # bump when the Dockerfile below changes

IMAGE="bot-bottle/pipelock:$PIPELOCK_VERSION"
VDIR="$BB_CACHE_DIR/pipelock/$PIPELOCK_COMMIT"
BIN="$VDIR/pipelock"
STABLE="$BB_CACHE_DIR/bin/pipelock"
WANT="commit=$PIPELOCK_COMMIT rev=$RECIPE_REV"

mkdir -p "$VDIR" "$BB_CACHE_DIR/bin"

is_static() { # a static binary has no ELF interpreter
  [ -x "$1" ] && ! LC_ALL=C readelf -l "$1" 2>/dev/null | grep -q 'Requesting program interpreter'
}

# 1. binary
if [ -x "$BIN" ]; then
  bb_log "binary cached: $BIN"
elif [ -n "${PIPELOCK_BIN:-}" ]; then
  is_static "$PIPELOCK_BIN" || bb_die "PIPELOCK_BIN=$PIPELOCK_BIN is not a static executable"
  bb_log "using PIPELOCK_BIN=$PIPELOCK_BIN"
  install -m 0755 "$PIPELOCK_BIN" "$BIN"
else
  command -v go >/dev/null || bb_die "go not found on PATH"
  if [ -n "${PIPELOCK_SRC:-}" ]; then
    [ -d "$PIPELOCK_SRC/cmd/pipelock" ] || bb_die "PIPELOCK_SRC=$PIPELOCK_SRC has no cmd/pipelock"
    head="$(git -C "$PIPELOCK_SRC" rev-parse HEAD 2>/dev/null || echo unknown)"
    [ "$head" = "$PIPELOCK_COMMIT" ] || bb_log "warning: checkout HEAD $head != pinned $PIPELOCK_COMMIT"
    bb_log "go build ./cmd/pipelock in $PIPELOCK_SRC"
    (cd "$PIPELOCK_SRC" && CGO_ENABLED=0 go build -trimpath -o "$BIN.tmp" ./cmd/pipelock)
  else
    bb_log "go install $PIPELOCK_MODULE/cmd/pipelock@$PIPELOCK_COMMIT"
    gobin="$(mktemp -d)"
    if ! CGO_ENABLED=0 GOBIN="$gobin" go install -trimpath \
      "$PIPELOCK_MODULE/cmd/pipelock@$PIPELOCK_COMMIT" 2>"$gobin/err"; then
      if grep -qE '403|404|410|not available|not found|unknown revision' "$gobin/err"; then
        why="$(grep -oE '(403|404|410) [A-Za-z ]+' "$gobin/err" | head -n1)"
        rm -rf "$gobin"
        echo "[pipelock-image] UNAVAILABLE: the Go module proxy refuses $PIPELOCK_MODULE@${PIPELOCK_COMMIT:0:12} (${why:-not served});" >&2
        echo "[pipelock-image] give PIPELOCK_SRC=<checkout at that commit> or PIPELOCK_BIN=<static binary>" >&2
        exit 3
      fi
      sed 's/^/  go: /' "$gobin/err" | head -n 5 >&2
      rm -rf "$gobin"
      bb_die "go install failed"
    fi
    mv "$gobin/pipelock" "$BIN.tmp"
    rm -rf "$gobin"
  fi
  is_static "$BIN.tmp" || bb_die "built binary is not static (CGO_ENABLED=0 expected)"
  mv "$BIN.tmp" "$BIN"
fi
ln -sfn "$BIN" "$STABLE"
bb_log "binary: $STABLE -> $BIN ($("$BIN" version 2>/dev/null | head -n1 || echo 'version: ?'))"

# 2. image FROM scratch (build context: the binary and the host CA bundle)
"$DOCKER" info >/dev/null 2>&1 || bb_die "docker engine not answering: run scripts/docker-engine.sh first"
have="$("$DOCKER" image inspect -f '{{index .Config.Labels "bot-bottle.pipelock"}}' "$IMAGE" 2>/dev/null || true)"
if [ "$have" = "$WANT" ]; then
  bb_log "$IMAGE up to date ($WANT)"
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
LABEL bot-bottle.pipelock="$WANT" bot-bottle.pipelock-version="$PIPELOCK_VERSION"
EXPOSE 8888
USER 65534:65534
ENTRYPOINT ["/pipelock"]
CMD ["run", "--listen", "0.0.0.0:8888"]
DOCKERFILE
bb_log "docker build $IMAGE"
"$DOCKER" build -q -t "$IMAGE" "$ctx" >/dev/null
out="$("$DOCKER" run --rm --network none "$IMAGE" version 2>&1 | head -n1 || true)"
bb_log "ok: $IMAGE: $out"
