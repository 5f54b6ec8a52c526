#!/usr/bin/env bash
# Build the Pulumi CLI (github.com/pulumi/pulumi/pkg/v3/cmd/pulumi) from the Go module proxy,
# pinned by version, and install it as $BB_PULUMI_DIR/pulumi
# (default /var/cache/bot-bottle/pulumi/bin). Skips the build when the binary there already
# reports the pinned version. Prints one line at the end.
#
# pkg/v3's go.mod carries `replace` directives (sdk/v3 => ../sdk, a clipboard fork), and
# `go install module@version` refuses modules with replaces. So the build goes through a
# throwaway main module that requires pkg/v3 and sdk/v3 at the same version and repeats the
# replace that is not a local path.
#
# The Node.js language host (pulumi-language-nodejs) and resource providers are not built
# here: the module proxy does not serve them.
set -euo pipefail
BB_SCRIPT=pulumi-cli
# shellcheck source=scripts/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

PULUMI_VERSION=v3.274.1
CLIPBOARD_REPLACE=github.com/atotto/clipboard=github.com/tgummerer/clipboard@v0.0.0-20241001131231-d02d263e614e

BB_PULUMI_DIR="${BB_PULUMI_DIR:-$BB_CACHE_DIR/pulumi/bin}"
BIN="$BB_PULUMI_DIR/pulumi"

have="$("$BIN" version 2>/dev/null || true)"
if [ "$have" = "$PULUMI_VERSION" ]; then
  bb_log "pulumi $PULUMI_VERSION already at $BIN"
  exit 0
fi

GO="$(command -v go || true)"
[ -z "$GO" ] && [ -x /usr/local/go/bin/go ] && GO=/usr/local/go/bin/go
[ -n "$GO" ] || bb_die "go not found on PATH or at /usr/local/go/bin/go"

mkdir -p "$BB_PULUMI_DIR"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

t0=$SECONDS
(
  cd "$work"
  "$GO" mod init bot-bottle/pulumi-cli >/dev/null 2>&1
  "$GO" mod edit \
    -require="github.com/pulumi/pulumi/pkg/v3@$PULUMI_VERSION" \
    -require="github.com/pulumi/pulumi/sdk/v3@$PULUMI_VERSION" \
    -replace="$CLIPBOARD_REPLACE"
  # Resolves the package's dependencies and fills go.sum.
  "$GO" get "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$PULUMI_VERSION" 2>"$work/get.log" \
    || { cat "$work/get.log" >&2; exit 1; }
  nice -n 10 "$GO" build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION" \
    -o "$BIN.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
)
got="$("$BIN.tmp" version)"
[ "$got" = "$PULUMI_VERSION" ] || bb_die "built binary reports '$got', expected $PULUMI_VERSION"
mv -f "$BIN.tmp" "$BIN"
bb_log "pulumi $PULUMI_VERSION built in $((SECONDS - t0))s: $BIN"
