#!/usr/bin/env bash
# Check a running cluster end to end: two Pods from a locally built image, a ClusterIP Service,
# pod -> Service traffic, then NetworkPolicy enforcement (deny blocks it, an allow rule for the
# client opens it again). Uses its own namespace and removes it. Exit 0 when all checks pass.
#   scripts/kube/verify.sh [IMAGE]   (default bot-bottle/base:bookworm, imported if needed)
set -euo pipefail
BB_SCRIPT=kube-verify
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/kube/lib.sh
. "$here/lib.sh"

IMAGE="${1:-bot-bottle/base:bookworm}"
NS=bb-kube-verify
DEADLINE_S=60

bash "$here/cluster.sh" status >/dev/null || bb_die "cluster not up: run scripts/kube/cluster.sh up"
k() { kctl -n "$NS" "$@"; }
trap 'kctl delete namespace "$NS" --wait=false >/dev/null 2>&1 || true' EXIT

# The kubelet names images without a registry part docker.io/[library/]<name>.
case "$IMAGE" in
  */*) if [[ "${IMAGE%%/*}" == *[.:]* ]]; then ref="$IMAGE"; else ref="docker.io/$IMAGE"; fi ;;
  *) ref="docker.io/library/$IMAGE" ;;
esac
if ! ctr --address "$CONTAINERD_SOCK" -n k8s.io images ls -q | grep -qxF "$ref"; then
  bash "$here/cluster.sh" import "$IMAGE"
fi

kctl delete namespace "$NS" --ignore-not-found --wait=true >/dev/null
kctl create namespace "$NS" >/dev/null
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Pod
metadata: { name: server, labels: { app: server } }
spec:
  containers:
  - name: server
    image: $IMAGE
    imagePullPolicy: Never
    command: [node, -e, "require('http').createServer((q, r) => r.end('hello from server')).listen(8080)"]
    ports: [{ containerPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: client, labels: { app: client } }
spec:
  containers:
  - name: client
    image: $IMAGE
    imagePullPolicy: Never
    command: [sleep, infinity]
---
apiVersion: v1
kind: Service
metadata: { name: server }
spec:
  selector: { app: server }
  ports: [{ port: 80, targetPort: 8080 }]
YAML
k wait --for=condition=Ready pod/server pod/client --timeout="${DEADLINE_S}s" >/dev/null ||
  bb_die "pods not Ready within ${DEADLINE_S}s: $(k get pods -o wide --no-headers | tr '\n' ';')"
svc_ip="$(k get service server -o 'jsonpath={.spec.clusterIP}')"
bb_log "pods Ready; service server at $svc_ip"

fetch() { k exec client -- curl -sS --max-time 2 "http://$svc_ip/"; }
# expect_fetch ok|blocked: polls until the client sees the expected outcome.
expect_fetch() {
  local end=$((SECONDS + DEADLINE_S)) out
  while :; do
    if out="$(fetch 2>&1)"; then
      [ "$1" = ok ] && [ "$out" = "hello from server" ] && return 0
    else
      [ "$1" = blocked ] && return 0
    fi
    [ "$SECONDS" -lt "$end" ] || bb_die "client -> $svc_ip: wanted $1 within ${DEADLINE_S}s, last: $out"
    sleep 1
  done
}

# server_policy NAME [RULES]: an ingress NetworkPolicy on the server Pod; no RULES denies all.
server_policy() {
  k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: $1 }
spec:
  podSelector: { matchLabels: { app: server } }
  policyTypes: [Ingress]
  ${2:-}
YAML
}

expect_fetch ok
bb_log "ok: client -> Service $svc_ip:80 answered"

server_policy server-deny-all
t0=$SECONDS
expect_fetch blocked
bb_log "ok: deny-all NetworkPolicy blocks client -> Service (enforced after $((SECONDS - t0))s)"

server_policy server-allow-client \
  'ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 8080 }] }]'
expect_fetch ok
bb_log "ok: allow-from-client NetworkPolicy lets it through again"
bb_log "all checks passed"
