#!/usr/bin/env bash
# Launch the demo bottle (stack `demo`, Pulumi.demo.yaml) on this machine's Docker engine:
# installs what the program needs, then `pulumi up`. Run it as root from anywhere; rerun it
# at will (a second run changes nothing). `bash scripts/demo.sh destroy` removes the bottle.
#
# Needs the Pulumi CLI with the docker 5.2.0 and tls 5.6.1 provider plugins, and a local
# pipelock image; where one is missing it says how to get it, in one line, and stops.
set -euo pipefail
BB_SCRIPT=demo
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/lib.sh
. "$here/lib.sh"
cd "$here/.."

action="${1:-up}"
case "$action" in up | destroy) ;; *) bb_die "usage: bash scripts/demo.sh [up|destroy]" ;; esac

PIPELOCK_IMAGE=bot-bottle/pipelock:2.3.0
PLUGINS="docker=5.2.0 tls=5.6.1"

# 1. the pulumi CLI and its plugins (scripts/pulumi-cli.sh leaves the CLI here)
PATH="$PATH:$BB_CACHE_DIR/pulumi/bin"
command -v pulumi >/dev/null ||
  bb_die "no pulumi CLI on PATH: run \`bash scripts/pulumi-cli.sh\` (builds v3.274.1 from the Go module proxy) or install it (https://www.pulumi.com/docs/install/), then rerun"
# read the list once: `grep -q` in a pipe would end pulumi early, and pipefail would call that a miss
plugins="$(pulumi plugin ls 2>/dev/null || true)"
for p in $PLUGINS; do
  name="${p%=*}" version="${p#*=}"
  grep -Eq "^$name +resource +$version " <<<"$plugins" ||
    bb_die "the pulumi $name provider v$version is missing: \`pulumi plugin install resource $name $version\`, then rerun"
done

# 2. packages, Docker engine, base image, the proxy's build context
if [ "$action" = up ]; then
  [ -d node_modules/@pulumi/pulumi ] && [ -d proxy/node_modules/mockttp ] || npm install --no-audit --no-fund
  bash scripts/setup.sh
  "$DOCKER" image inspect "$PIPELOCK_IMAGE" >/dev/null 2>&1 ||
    bb_die "no local image $PIPELOCK_IMAGE: \`PIPELOCK_BIN=<a pipelock 2.3.0 static binary> bash scripts/pipelock-image.sh\`, then rerun"
  npm run --silent build:proxy
fi

# 3. the stack: local state, the demo passphrase (Pulumi.demo.yaml says why it may be public)
mkdir -p .pulumi-state
export PULUMI_CONFIG_PASSPHRASE=bot-bottle-demo PULUMI_SKIP_UPDATE_CHECK=true
unset PULUMI_CONFIG_PASSPHRASE_FILE
pulumi stack select demo 2>/dev/null || pulumi stack init demo --secrets-provider passphrase
if [ "$action" = destroy ]; then
  pulumi destroy --yes --stack demo
  exit 0
fi
pulumi up --yes --stack demo
bb_log "try: docker exec bb-demo-agent curl -s https://api.github.com/repos/pulumi/pulumi  (allowed: the proxy adds the token; 502 on a machine without internet)"
bb_log "     docker exec bb-demo-agent curl -s https://example.com/                           (403 from the egress proxy)"
bb_log "what the agent can reach: pulumi stack output bottles --stack demo --json"
