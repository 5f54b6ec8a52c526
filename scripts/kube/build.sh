# shellcheck shell=bash
# `cluster.sh build`: Debian packages, then Kubernetes and kube-router from the Go module
# proxy, then the pause image tarball. Source it (from cluster.sh); do not run it.
# Every result is cached under $KUBE_CACHE keyed by version, so a warm build takes seconds.

KUBE_APT_PACKAGES=(etcd-server containerd runc containernetworking-plugins conntrack ipset
  iptables iproute2 openssl gcc libc6-dev ca-certificates util-linux)
K8S_COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# build_module_dir NAME: a throwaway module of our own under the cache, to build from.
build_module_dir() {
  local dir="$KUBE_CACHE/src/$1"
  mkdir -p "$dir"
  printf '%s\n' "$dir"
}

# build_k8s: kube-* and kubectl. k8s.io/kubernetes replaces its k8s.io/<staging> modules with
# ./staging/... paths, which only work inside its own tree; a main module of ours requires it
# and points each staging module at its published v0.x tag instead.
build_k8s() {
  local c missing=0
  for c in "${K8S_COMMANDS[@]}"; do [ -x "$K8S_BIN/$c" ] || missing=1; done
  if [ "$missing" = 0 ]; then
    bb_log "kubernetes $K8S_VERSION cached in $K8S_BIN"
    return 0
  fi
  local dir modfile log="$KUBE_CACHE/build-k8s.log"
  dir="$(build_module_dir "k8s-$K8S_VERSION")"
  bb_log "fetching k8s.io/kubernetes@$K8S_VERSION from the module proxy"
  modfile="$(cd "$dir" && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" |
    sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')"
  [ -f "$modfile" ] || bb_die "could not download k8s.io/kubernetes@$K8S_VERSION"
  {
    echo "module bot-bottle.local/kube-build"
    echo
    echo "go $(sed -n 's/^go \([0-9.]*\)$/\1/p' "$modfile")"
    echo
    echo "require k8s.io/kubernetes $K8S_VERSION"
    echo
    echo "replace ("
    sed -n 's|^[[:space:]]*\(k8s\.io/[a-z0-9-]*\) => \./staging/.*|\t\1 => \1 '"$K8S_STAGING_VERSION"'|p' "$modfile"
    echo ")"
  } >"$dir/go.mod"
  grep -q '=> k8s.io/api ' "$dir/go.mod" || bb_die "no staging replacements found in $modfile"
  # Imports make `go mod tidy` record every module the commands need, once.
  {
    echo "//go:build tools"
    echo
    echo "package tools"
    echo
    echo "import ("
    for c in "${K8S_COMMANDS[@]}"; do echo "	_ \"k8s.io/kubernetes/cmd/$c\""; done
    echo ")"
  } >"$dir/tools.go"
  # Same version stamps as the upstream release build (hack/lib/version.sh), so components and
  # kubectl agree on the version and do not warn about skew.
  local minor ldflags="-s -w" pkg
  minor="$(cut -d. -f2 <<<"$K8S_VERSION")"
  for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $pkg.gitVersion=$K8S_VERSION -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
    ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
  done
  bb_log "building ${K8S_COMMANDS[*]} $K8S_VERSION (about 12 min cold on 2 cores; log: $log)"
  mkdir -p "$K8S_BIN.tmp"
  local pkgs=()
  for c in "${K8S_COMMANDS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  if ! (cd "$dir" && go mod tidy && CGO_ENABLED=0 nice -n 10 go build -trimpath \
    -tags providerless -ldflags "$ldflags" -o "$K8S_BIN.tmp/" "${pkgs[@]}") >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    bb_die "building kubernetes $K8S_VERSION failed (log: $log)"
  fi
  rm -rf "$K8S_BIN" && mv "$K8S_BIN.tmp" "$K8S_BIN"
  bb_log "built: $("$K8S_BIN/kubectl" version --client 2>/dev/null | head -n1)"
}

# build_kube_router: used only as the NetworkPolicy firewall.
build_kube_router() {
  if [ -x "$KUBE_ROUTER_BIN/kube-router" ]; then
    bb_log "kube-router $KUBE_ROUTER_VERSION cached in $KUBE_ROUTER_BIN"
    return 0
  fi
  local dir log="$KUBE_CACHE/build-kube-router.log"
  dir="$(build_module_dir "kube-router-$KUBE_ROUTER_VERSION")"
  printf 'module bot-bottle.local/kube-router-build\n\ngo 1.22\n\nrequire %s %s\n' \
    "$KUBE_ROUTER_MODULE" "$KUBE_ROUTER_VERSION" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/kube-router"\n' \
    "$KUBE_ROUTER_MODULE" >"$dir/tools.go"
  bb_log "building kube-router $KUBE_ROUTER_VERSION (log: $log)"
  mkdir -p "$KUBE_ROUTER_BIN.tmp"
  if ! (cd "$dir" && go mod tidy && CGO_ENABLED=0 nice -n 10 go build -trimpath -ldflags "-s -w" \
    -o "$KUBE_ROUTER_BIN.tmp/" "$KUBE_ROUTER_MODULE/cmd/kube-router") >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    bb_die "building kube-router $KUBE_ROUTER_VERSION failed (log: $log)"
  fi
  rm -rf "$KUBE_ROUTER_BIN" && mv "$KUBE_ROUTER_BIN.tmp" "$KUBE_ROUTER_BIN"
}

# build_pause: the sandbox image, from the pause.c shipped in the k8s.io/kubernetes module,
# written as an OCI image tarball that `ctr images import` loads (no Docker, no registry).
build_pause() {
  if [ -f "$PAUSE_TAR" ]; then
    bb_log "pause image cached in $PAUSE_TAR"
    return 0
  fi
  local src work
  src="$(cd "$KUBE_CACHE/src/k8s-$K8S_VERSION" && go list -m -f '{{.Dir}}' k8s.io/kubernetes)/build/pause/linux/pause.c"
  [ -f "$src" ] || bb_die "pause.c not found in the k8s.io/kubernetes module"
  work="$(mktemp -d)"
  # shellcheck disable=SC2064 # expand now: $work is local
  trap "rm -rf '$work'" EXIT
  mkdir -p "$work/rootfs" "$work/oci/blobs/sha256"
  gcc -Os -Wall -Werror -static -DVERSION="$K8S_VERSION" -o "$work/rootfs/pause" "$src"
  strip "$work/rootfs/pause"
  tar --numeric-owner --owner=0 --group=0 --mtime=@0 -C "$work/rootfs" -cf "$work/layer.tar" pause
  oci_blob() { # oci_blob FILE: moves FILE into the blob store, prints "sha256:<hex> <size>"
    local sum size
    sum="$(sha256sum "$1" | cut -d' ' -f1)"
    size="$(stat -c %s "$1")"
    mv "$1" "$work/oci/blobs/sha256/$sum"
    printf 'sha256:%s %s\n' "$sum" "$size"
  }
  local layer diffid config manifest arch
  arch="$(dpkg --print-architecture)" # Debian and OCI agree on amd64/arm64
  diffid="sha256:$(sha256sum "$work/layer.tar" | cut -d' ' -f1)"
  layer="$(oci_blob "$work/layer.tar")"
  printf '{"architecture":"%s","os":"linux","config":{"Entrypoint":["/pause"],"User":"65535:65535"},"rootfs":{"type":"layers","diff_ids":["%s"]}}' \
    "$arch" "$diffid" >"$work/config.json"
  config="$(oci_blob "$work/config.json")"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"%s","size":%s}]}' \
    "${config% *}" "${config#* }" "${layer% *}" "${layer#* }" >"$work/manifest.json"
  manifest="$(oci_blob "$work/manifest.json")"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"platform":{"architecture":"%s","os":"linux"},"annotations":{"io.containerd.image.name":"%s","org.opencontainers.image.ref.name":"%s"}}]}' \
    "${manifest% *}" "${manifest#* }" "$arch" "$PAUSE_IMAGE" "${PAUSE_IMAGE##*:}" >"$work/oci/index.json"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$work/oci/oci-layout"
  mkdir -p "$(dirname "$PAUSE_TAR")"
  tar --numeric-owner --owner=0 --group=0 -C "$work/oci" -cf "$PAUSE_TAR.tmp" .
  mv "$PAUSE_TAR.tmp" "$PAUSE_TAR"
  rm -rf "$work"
  trap - EXIT
  bb_log "built pause image $PAUSE_IMAGE ($PAUSE_TAR)"
}

cmd_build() {
  local t0=$SECONDS
  [ "$(id -u)" = 0 ] || bb_die "run as root"
  bb_apt_install "${KUBE_APT_PACKAGES[@]}"
  command -v go >/dev/null || bb_die "go not found on PATH"
  mkdir -p "$KUBE_CACHE"
  build_k8s
  build_kube_router
  build_pause
  bb_log "build done in $((SECONDS - t0))s"
}
