# shellcheck shell=bash
# Shared settings and helpers for scripts/kube/*.sh. Source it; do not run it.
# shellcheck disable=SC2034 # the settings are used by the files that source this one
# Everything the cluster owns lives under $KUBE_STATE (removed by `down`); the built
# binaries live under $KUBE_CACHE (kept, keyed by version).

# shellcheck source=scripts/lib.sh
. "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/lib.sh"

K8S_VERSION=v1.37.2
K8S_STAGING_VERSION=v0.37.2 # the k8s.io/<staging> modules are tagged v0.<minor>.<patch>
KUBE_ROUTER_MODULE=github.com/cloudnativelabs/kube-router/v2
KUBE_ROUTER_VERSION=v2.1.0 # the only release the module proxy serves

KUBE_CACHE="${BB_KUBE_CACHE:-$BB_CACHE_DIR/kube}"
KUBE_STATE="${BB_KUBE_STATE:-/var/lib/bot-bottle/kube}"
K8S_BIN="$KUBE_CACHE/k8s-$K8S_VERSION/bin"
KUBE_ROUTER_BIN="$KUBE_CACHE/kube-router-$KUBE_ROUTER_VERSION/bin"
PAUSE_TAR="$KUBE_CACHE/pause-$K8S_VERSION/pause.tar"
PAUSE_IMAGE="registry.k8s.io/pause:bot-bottle-$K8S_VERSION"
KUBECTL="$K8S_BIN/kubectl"

# Network layout. Ports are off the defaults so a cluster elsewhere on the host does not clash.
POD_CIDR="${BB_KUBE_POD_CIDR:-10.244.0.0/24}"
SERVICE_CIDR="${BB_KUBE_SERVICE_CIDR:-10.96.0.0/16}"
SERVICE_IP_API=10.96.0.1 # first address of SERVICE_CIDR: the `kubernetes` Service
CNI_BRIDGE=bbkube0
ETCD_CLIENT_PORT=23790
ETCD_PEER_PORT=23800
API_PORT=16443
NODE_NAME="${BB_KUBE_NODE_NAME:-bb-node}"

# Paths inside the state dir.
PKI="$KUBE_STATE/pki"
LOGS="$KUBE_STATE/logs"
PIDS="$KUBE_STATE/pids"
CONTAINERD_SOCK="$KUBE_STATE/containerd/containerd.sock"
ADMIN_KUBECONFIG="$KUBE_STATE/admin.kubeconfig"

# Go: the machine's module proxy only (no `direct` fallback to source hosts), build cache kept
# across runs.
GOPROXY="$(go env GOPROXY 2>/dev/null | sed -e 's/[,|]direct$//' -e 's/^direct$/off/')"
export GOPROXY
export GOFLAGS="-mod=mod -buildvcs=false"
export GOTOOLCHAIN=local

# kube_host_ip: the address the API server advertises (it refuses loopback): the source
# address of the default route, else the first global address.
kube_host_ip() {
  local ip
  ip="$(ip -4 route get 1.1.1.1 2>/dev/null | sed -n 's/.* src \([0-9.]*\).*/\1/p' | head -n1)"
  [ -n "$ip" ] || ip="$(ip -4 -o addr show scope global | awk '{sub(/\/.*/, "", $4); print $4; exit}')"
  [ -n "$ip" ] || bb_die "no non-loopback IPv4 address on this host"
  printf '%s\n' "$ip"
}

# cgroup_dirs: the mount point of every cgroup hierarchy (v1 controllers and the v2 tree), one a line.
cgroup_dirs() { awk '$3 == "cgroup" || $3 == "cgroup2" { print $2 }' /proc/mounts; }

kctl() { "$KUBECTL" --kubeconfig "$ADMIN_KUBECONFIG" "$@"; }
