# shellcheck shell=bash
# `cluster.sh up`: start every daemon of the cluster, each with its state under $KUBE_STATE and
# its log in $LOGS/<name>.log, then wait for a Ready node. Source it; do not run it.

UP_DEADLINE_S="${BB_KUBE_UP_DEADLINE_S:-120}" # per wait, not in total
# Host sysctls the kubelet overwrites at start (it checks kernel defaults); `down` puts them back.
KUBELET_SYSCTLS=(vm.overcommit_memory vm.panic_on_oom kernel.panic kernel.panic_on_oops
  kernel.keys.root_maxkeys kernel.keys.root_maxbytes)
BRIDGE_RULE_COMMENT="bot-bottle kube pod bridge"

# daemon_start NAME BINARY ARGS...: runs BINARY detached (own session, survives this shell),
# records "pid binary" in $PIDS/NAME.pid for `down`.
daemon_start() {
  local name="$1"
  shift
  bb_log "starting $name"
  setsid "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  printf '%s %s\n' "$!" "$1" >"$PIDS/$name.pid"
}

# daemon_pid NAME: prints the pid of NAME if it is still that process.
daemon_pid() {
  local pid bin
  [ -f "$PIDS/$1.pid" ] || return 1
  read -r pid bin <"$PIDS/$1.pid" || return 1
  [ -n "$pid" ] && [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$bin")" ] || return 1
  printf '%s\n' "$pid"
}

# up_fail NAME REASON: shows the end of NAME's log and stops with a one-line reason.
up_fail() {
  echo "---- last lines of $LOGS/$1.log ----" >&2
  tail -n 25 "$LOGS/$1.log" >&2 2>/dev/null || true
  echo "----" >&2
  bb_die "$2 (log: $LOGS/$1.log; clean up with: scripts/kube/cluster.sh down)"
}

# wait_until NAME WHAT CMD...: polls CMD until it succeeds; fails early if daemon NAME died.
wait_until() {
  local name="$1" what="$2" end=$((SECONDS + UP_DEADLINE_S))
  shift 2
  until "$@" >/dev/null 2>&1; do
    daemon_pid "$name" >/dev/null || up_fail "$name" "$name exited while waiting for $what"
    [ "$SECONDS" -lt "$end" ] || up_fail "$name" "timed out after ${UP_DEADLINE_S}s waiting for $what"
    sleep 0.5
  done
}

up_host() {
  # Pod-to-pod traffic on the bridge must cross iptables, for Service replies and NetworkPolicy.
  modprobe br_netfilter 2>/dev/null || true
  [ -e /proc/sys/net/bridge/bridge-nf-call-iptables ] || bb_die "br_netfilter is not available in this kernel"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1 net.bridge.bridge-nf-call-ip6tables=1
  local s
  for s in "${KUBELET_SYSCTLS[@]}"; do
    printf '%s=%s\n' "$s" "$(sysctl -n "$s")"
  done >"$KUBE_STATE/sysctl.saved"
}

up_etcd() {
  daemon_start etcd /usr/bin/etcd --name bb-kube --data-dir "$KUBE_STATE/etcd" \
    --listen-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "https://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "bb-kube=http://127.0.0.1:$ETCD_PEER_PORT" \
    --listen-metrics-urls "" \
    --cert-file "$PKI/etcd-server.crt" --key-file "$PKI/etcd-server.key" \
    --client-cert-auth --trusted-ca-file "$PKI/ca.crt"
  wait_until etcd "etcd health" curl -fsS --cacert "$PKI/ca.crt" --cert "$PKI/etcd-client.crt" \
    --key "$PKI/etcd-client.key" "https://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

up_containerd() {
  local d="$KUBE_STATE/containerd"
  mkdir -p "$d" "$KUBE_STATE/cni/net.d" "$KUBE_STATE/cni/bin"
  # Only the plugins the cluster uses, in a bin dir of its own.
  local p
  for p in bridge host-local loopback; do
    ln -sf "/usr/lib/cni/$p" "$KUBE_STATE/cni/bin/$p"
  done
  # restrict_oom_score_adj: root here cannot lower oom_score_adj, and runc fails the sandbox
  # ("can't get final child's PID from pipe: EOF") unless containerd caps the value it asks for.
  cat >"$d/config.toml" <<TOML
version = 2
root = "$d/root"
state = "$d/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$d/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  disable_tcp_service = true
  stream_server_address = "127.0.0.1"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$KUBE_STATE/cni/bin"
    conf_dir = "$KUBE_STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
TOML
  # One bridge, addresses from the pod CIDR; no masquerade (nothing outside is reachable anyway),
  # hairpin so a pod can reach itself through its own Service.
  cat >"$KUBE_STATE/cni/net.d/10-bb-kube.conflist" <<JSON
{
  "cniVersion": "1.0.0",
  "name": "bb-kube",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$CNI_BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$KUBE_STATE/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
JSON
  daemon_start containerd /usr/bin/containerd --config "$d/config.toml"
  wait_until containerd "the containerd socket" ctr --address "$CONTAINERD_SOCK" version
  ctr --address "$CONTAINERD_SOCK" -n k8s.io images import "$PAUSE_TAR" >>"$LOGS/containerd.log" 2>&1 ||
    up_fail containerd "could not import the pause image $PAUSE_TAR"
}

up_apiserver() {
  local host_ip="$1"
  # The API server refuses a loopback advertise address: Pods reach it (through the
  # `kubernetes` Service) at the interface address.
  daemon_start kube-apiserver "$K8S_BIN/kube-apiserver" \
    --advertise-address "$host_ip" --bind-address 0.0.0.0 --secure-port "$API_PORT" \
    --etcd-servers "https://127.0.0.1:$ETCD_CLIENT_PORT" --etcd-cafile "$PKI/ca.crt" \
    --etcd-certfile "$PKI/etcd-client.crt" --etcd-keyfile "$PKI/etcd-client.key" \
    --client-ca-file "$PKI/ca.crt" \
    --tls-cert-file "$PKI/apiserver.crt" --tls-private-key-file "$PKI/apiserver.key" \
    --kubelet-client-certificate "$PKI/apiserver-kubelet-client.crt" \
    --kubelet-client-key "$PKI/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$PKI/ca.crt" --kubelet-preferred-address-types InternalIP \
    --requestheader-client-ca-file "$PKI/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$PKI/front-proxy-client.crt" \
    --proxy-client-key-file "$PKI/front-proxy-client.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --service-account-key-file "$PKI/sa.pub" --service-account-signing-key-file "$PKI/sa.key" \
    --authorization-mode Node,RBAC --enable-admission-plugins NodeRestriction \
    --allow-privileged=true --profiling=false --v=1
  wait_until kube-apiserver "the API server to be ready" kctl --request-timeout 5s get --raw /readyz
}

up_controllers() {
  # Without the controller-manager Pods hang: no default ServiceAccount, no kube-root-ca.crt.
  daemon_start kube-controller-manager "$K8S_BIN/kube-controller-manager" \
    --kubeconfig "$KUBE_STATE/controller-manager.kubeconfig" \
    --authentication-kubeconfig "$KUBE_STATE/controller-manager.kubeconfig" \
    --authorization-kubeconfig "$KUBE_STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10357 --leader-elect=false \
    --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt" \
    --use-service-account-credentials=true \
    --allocate-node-cidrs=true --cluster-cidr "$POD_CIDR" --node-cidr-mask-size "${POD_CIDR#*/}" \
    --service-cluster-ip-range "$SERVICE_CIDR" --profiling=false --v=1
  daemon_start kube-scheduler "$K8S_BIN/kube-scheduler" \
    --kubeconfig "$KUBE_STATE/scheduler.kubeconfig" \
    --authentication-kubeconfig "$KUBE_STATE/scheduler.kubeconfig" \
    --authorization-kubeconfig "$KUBE_STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 10359 --leader-elect=false --profiling=false --v=1
}

up_kubelet() {
  local host_ip="$1" k="$KUBE_STATE/kubelet" c
  mkdir -p "$k" "$KUBE_STATE/pod-logs"
  # Pods live under their own cgroup root, so `down` can find and stop every process they left.
  while read -r c; do mkdir -p "$c/bb-kube"; done < <(cgroup_dirs)
  # cgroup v1 host: cgroupfs driver, and v1 must be allowed explicitly. Image GC is off (100%)
  # because imported images cannot be pulled again; eviction thresholds are low so a small CI disk
  # does not taint the node.
  cat >"$k/config.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $host_ip
port: 10350
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10348
authentication:
  anonymous: { enabled: false }
  webhook: { enabled: true }
  x509: { clientCAFile: $PKI/ca.crt }
authorization: { mode: Webhook }
tlsCertFile: $PKI/kubelet-server.crt
tlsPrivateKeyFile: $PKI/kubelet-server.key
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
cgroupRoot: /bb-kube
failCgroupV1: false
failSwapOn: false
podLogsDir: $KUBE_STATE/pod-logs
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%
  nodefs.inodesFree: 1%
  imagefs.available: 1%
YAML
  daemon_start kubelet "$K8S_BIN/kubelet" --config "$k/config.yaml" \
    --kubeconfig "$KUBE_STATE/kubelet.kubeconfig" --root-dir "$k" --cert-dir "$k/pki" \
    --hostname-override "$NODE_NAME" --node-ip "$host_ip" --v=1
  wait_until kubelet "node $NODE_NAME to register" kctl get node "$NODE_NAME"
}

up_network() {
  # kube-proxy: iptables mode; it must not touch host conntrack sysctls or route_localnet.
  cat >"$KUBE_STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: { kubeconfig: $KUBE_STATE/kube-proxy.kubeconfig }
hostnameOverride: $NODE_NAME
mode: iptables
clusterCIDR: $POD_CIDR
healthzBindAddress: 127.0.0.1:10356
metricsBindAddress: 127.0.0.1:10349
oomScoreAdj: 0
nodePortAddresses: [primary]
iptables: { localhostNodePorts: false }
conntrack: { maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s }
YAML
  daemon_start kube-proxy "$K8S_BIN/kube-proxy" --config "$KUBE_STATE/kube-proxy.yaml" --v=1
  # kube-router: NetworkPolicy firewall only (no routing, no service proxy, no CNI config).
  daemon_start kube-router "$KUBE_ROUTER_BIN/kube-router" \
    --kubeconfig "$KUBE_STATE/kube-router.kubeconfig" --hostname-override "$NODE_NAME" \
    --run-firewall=true --run-router=false --run-service-proxy=false --run-loadbalancer=false \
    --enable-cni=false --service-cluster-ip-range "$SERVICE_CIDR" \
    --health-port 20344 --metrics-port 0 --v=1
  # Docker sets the FORWARD policy to DROP: accept pod bridge traffic, appended after the jump
  # to KUBE-ROUTER-FORWARD (which kube-router keeps first) so NetworkPolicies still apply.
  local dir
  for dir in -i -o; do
    iptables -C FORWARD "$dir" "$CNI_BRIDGE" -m comment --comment "$BRIDGE_RULE_COMMENT" -j ACCEPT 2>/dev/null ||
      iptables -A FORWARD "$dir" "$CNI_BRIDGE" -m comment --comment "$BRIDGE_RULE_COMMENT" -j ACCEPT
  done
  wait_until kube-proxy "kube-proxy health" curl -fsS http://127.0.0.1:10356/healthz
  wait_until kube-router "kube-router health" curl -fsS http://127.0.0.1:20344/healthz
  wait_until kube-router "its jump to KUBE-ROUTER-FORWARD" netpol_chains_in_place
}

netpol_chains_in_place() { iptables -S FORWARD | grep -q -- '-j KUBE-ROUTER-FORWARD'; }

node_ready() {
  [ "$(kctl get node "$NODE_NAME" -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}')" = True ]
}

cmd_up() {
  local t0=$SECONDS host_ip n
  [ "$(id -u)" = 0 ] || bb_die "run as root"
  for n in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [ -x "$K8S_BIN/$n" ] || bb_die "$K8S_BIN/$n missing: run scripts/kube/cluster.sh build first"
  done
  if [ ! -x "$KUBE_ROUTER_BIN/kube-router" ] || [ ! -f "$PAUSE_TAR" ]; then
    bb_die "kube-router or the pause image missing: run scripts/kube/cluster.sh build first"
  fi
  if cluster_status; then
    bb_log "cluster already up (KUBECONFIG=$ADMIN_KUBECONFIG)"
    return 0
  fi
  if [ -d "$KUBE_STATE" ]; then
    bb_log "state from an earlier cluster found in $KUBE_STATE: tearing it down first"
    cmd_down
  fi
  host_ip="$(kube_host_ip)"
  mkdir -p "$KUBE_STATE" "$LOGS" "$PIDS"
  chmod 700 "$KUBE_STATE"
  up_host
  pki_make "$host_ip"
  up_etcd
  up_containerd
  up_apiserver "$host_ip"
  up_controllers
  up_kubelet "$host_ip"
  up_network
  wait_until kubelet "node $NODE_NAME to be Ready" node_ready
  wait_until kube-controller-manager "the default ServiceAccount" kctl -n default get serviceaccount default
  bb_log "cluster up in $((SECONDS - t0))s: node $NODE_NAME Ready at $host_ip; KUBECONFIG=$ADMIN_KUBECONFIG"
}
