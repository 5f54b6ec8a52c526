#!/usr/bin/env bash
# One-stop machine setup: Docker engine, base image, test-agent image, pipelock image (in that order).
# Prints one summary line at the end. pipelock being unavailable (exit 3 of
# pipelock-image.sh: no pipelock binary or image was given, none is cached) is reported but
# not fatal unless BB_REQUIRE_PIPELOCK=1.
set -euo pipefail
BB_SCRIPT=setup
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"

t0=$SECONDS
bash "$here/docker-engine.sh"
bash "$here/base-image.sh"
bash "$here/test-agent-image.sh"
pl_status=0
bash "$here/pipelock-image.sh" || pl_status=$?
case "$pl_status" in
  0) pl="bot-bottle/pipelock:$(sed -n 's/^PIPELOCK_VERSION=\([^ #]*\).*/\1/p' "$here/pipelock-image.sh")" ;;
  3) [ "${BB_REQUIRE_PIPELOCK:-0}" = 1 ] && bb_die "pipelock unavailable and BB_REQUIRE_PIPELOCK=1"
     pl="pipelock UNAVAILABLE" ;;
  *) bb_die "pipelock-image.sh failed (exit $pl_status)" ;;
esac
bb_log "done in $((SECONDS - t0))s: engine $("$DOCKER" version --format '{{.Server.Version}}'), bot-bottle/base:bookworm, $pl"
