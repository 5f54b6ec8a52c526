#!/usr/bin/env bash
# A real single-node Kubernetes cluster built from package registries only (Debian apt and
# the Go module proxy), for the Kubernetes end-to-end suite. Runs as root.
#   build           install packages; build kube-* and kubectl, kube-router, pause (cached)
#   up              start etcd, containerd, control plane, kubelet, kube-proxy, kube-router
#   import IMAGE... copy Docker images into the cluster's containerd (imagePullPolicy: Never)
#   env             print `export KUBECONFIG=...` and `export BB_KUBECTL=...` lines
#   status          exit 0 if the API server answers and the node is Ready
#   down            stop everything `up` started, remove its state (keeps the build cache)
# Env: BB_KUBE_CACHE (default /var/cache/bot-bottle/kube), BB_KUBE_STATE (/var/lib/bot-bottle/kube).
set -euo pipefail
BB_SCRIPT=kube
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/kube/lib.sh
. "$here/lib.sh"
# shellcheck source=scripts/kube/build.sh
. "$here/build.sh"
# shellcheck source=scripts/kube/pki.sh
. "$here/pki.sh"
# shellcheck source=scripts/kube/up.sh
. "$here/up.sh"
# shellcheck source=scripts/kube/down.sh
. "$here/down.sh"

usage() { sed -n '2,11s/^# \{0,1\}//p' "${BASH_SOURCE[0]}" >&2; exit 2; }

cluster_status() {
  [ -f "$ADMIN_KUBECONFIG" ] && [ -x "$KUBECTL" ] || return 1
  kctl --request-timeout 5s get --raw /readyz >/dev/null 2>&1 && node_ready 2>/dev/null
}

cmd_status() {
  if cluster_status; then
    bb_log "up: API server ready, node $NODE_NAME Ready"
  else
    bb_log "not up (no ready API server or node $NODE_NAME not Ready)"
    return 1
  fi
}

cmd_env() {
  printf 'export KUBECONFIG=%q\nexport BB_KUBECTL=%q\n' "$ADMIN_KUBECONFIG" "$KUBECTL"
}

cmd_import() {
  [ "$#" -gt 0 ] || bb_die "usage: cluster.sh import IMAGE..."
  [ -S "$CONTAINERD_SOCK" ] || bb_die "cluster containerd not running ($CONTAINERD_SOCK): run cluster.sh up"
  bb_docker_up || bb_die "docker engine not answering: run scripts/setup.sh first"
  local img
  for img in "$@"; do
    "$DOCKER" image inspect "$img" >/dev/null 2>&1 || bb_die "no such Docker image: $img"
    bb_log "importing $img"
    "$DOCKER" save "$img" | ctr --address "$CONTAINERD_SOCK" -n k8s.io images import - >/dev/null ||
      bb_die "importing $img into the cluster failed"
  done
}

cmd="${1:-}"
[ "$#" -gt 0 ] && shift
case "$cmd" in
  build) cmd_build ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  env) cmd_env ;;
  import) cmd_import "$@" ;;
  *) usage ;;
esac
