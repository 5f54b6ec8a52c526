# shellcheck shell=bash
# `cluster.sh down`: stop everything `up` started and remove its state, leaving the build cache,
# the Docker engine and Docker's iptables rules alone. Safe when nothing runs. Source it.

# Stopped together, before the containers: nothing must restart a container or rewrite a rule.
CONTROL_DAEMONS=(kube-router kube-proxy kubelet kube-scheduler kube-controller-manager kube-apiserver)

# stop_pids PID...: TERM, up to 10 s grace for all of them together, then KILL.
stop_pids() {
  local pid end=$((SECONDS + 10)) alive
  kill -TERM "$@" 2>/dev/null || true
  while :; do
    alive=()
    for pid in "$@"; do
      # gone, or a zombie waiting for whichever process reaps it: either way stopped
      if [ -e "/proc/$pid" ] && ! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null; then
        alive+=("$pid")
      fi
    done
    [ "${#alive[@]}" -gt 0 ] || return 0
    if [ "$SECONDS" -ge "$end" ]; then
      kill -KILL "${alive[@]}" 2>/dev/null || true
      end=$((SECONDS + 5))
    fi
    sleep 0.2
  done
}

# stop_daemons NAME...: stops those of the named daemons that still run, all at once.
stop_daemons() {
  local n pid found=() names=()
  for n in "$@"; do
    if pid="$(daemon_pid "$n")"; then
      found+=("$pid")
      names+=("$n")
    fi
  done
  [ "${#found[@]}" -gt 0 ] || return 0
  bb_log "stopping ${names[*]}"
  stop_pids "${found[@]}"
}

# down_containers: with the cluster's containerd still up, kill and delete every task so the
# runc shims exit with them; then kill whatever is left in the pod cgroups.
down_containers() {
  local c=(ctr --address "$CONTAINERD_SOCK" -n k8s.io) id
  if daemon_pid containerd >/dev/null && "${c[@]}" version >/dev/null 2>&1; then
    for id in $("${c[@]}" tasks ls -q 2>/dev/null); do
      "${c[@]}" tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
    done
    for id in $("${c[@]}" tasks ls -q 2>/dev/null); do
      "${c[@]}" tasks delete -f "$id" >/dev/null 2>&1 || true
    done
  fi
  down_cgroups
}

# down_cgroups: the kubelet's cgroup root (/bb-kube) holds only pod processes.
down_cgroups() {
  local c pid dirs=()
  while read -r c; do
    if [ -d "$c/bb-kube" ]; then dirs+=("$c/bb-kube"); fi
  done < <(cgroup_dirs)
  [ "${#dirs[@]}" -gt 0 ] || return 0
  for pid in $(find "${dirs[@]}" -name cgroup.procs -exec cat {} + 2>/dev/null | sort -u); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  # rmdir fails while a dying process is still listed: retry briefly, deepest first
  local end=$((SECONDS + 10)) left
  while :; do
    find "${dirs[@]}" -depth -type d -exec rmdir {} + 2>/dev/null || true
    left="$(find "${dirs[@]}" -maxdepth 0 2>/dev/null || true)"
    [ -z "$left" ] && return 0
    [ "$SECONDS" -lt "$end" ] || break
    sleep 0.2
  done
  bb_log "warning: cgroups left behind: $(tr '\n' ' ' <<<"$left")"
}

# down_shims: shims of the cluster's containerd that outlived it (they carry its socket path).
down_shims() {
  local p
  for p in /proc/[0-9]*; do
    [ "$(readlink "$p/exe" 2>/dev/null)" = /usr/bin/containerd-shim-runc-v2 ] || continue
    tr '\0' ' ' <"$p/cmdline" 2>/dev/null | grep -qF -- "-address $CONTAINERD_SOCK " || continue
    stop_pids "${p#/proc/}"
  done
}

# down_mounts: everything mounted under the state dir (kubelet volumes, sandbox shm, netns,
# container rootfs), deepest first.
down_mounts() {
  local m
  [ -d "$KUBE_STATE" ] || return 0
  awk -v root="$KUBE_STATE" '$5 == root || index($5, root "/") == 1 { print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    done
}

# down_iptables_family SAVE RESTORE: removes the KUBE-* chains (kubelet, kube-proxy, kube-router)
# and every rule that jumps to them or carries our bridge comment, in one restore per table.
down_iptables_family() {
  local save="$1" restore="$2" t dump script
  for t in filter nat mangle raw; do
    dump="$("$save" -t "$t" 2>/dev/null)" || continue
    script="$(awk -v tag="$BRIDGE_RULE_COMMENT" '
      /^:KUBE-/ { chains[++n] = substr($1, 2) }
      /^-A / && $2 !~ /^KUBE-/ && (/ -j KUBE-/ || index($0, tag)) { sub(/^-A /, "-D "); print }
      END { for (i = 1; i <= n; i++) print "-F " chains[i]; for (i = 1; i <= n; i++) print "-X " chains[i] }
    ' <<<"$dump")"
    [ -n "$script" ] || continue
    printf '*%s\n%s\nCOMMIT\n' "$t" "$script" | "$restore" --noflush ||
      bb_log "warning: could not remove every KUBE-* rule from the $t table ($save)"
  done
}

down_network() {
  down_iptables_family iptables-save iptables-restore
  down_iptables_family ip6tables-save ip6tables-restore
  local s
  for s in $(ipset list -n 2>/dev/null | grep -E '^(inet6:)?(KUBE-|kube-router-)' || true); do
    ipset destroy "$s" 2>/dev/null || bb_log "warning: could not destroy ipset $s"
  done
  if ip link show "$CNI_BRIDGE" >/dev/null 2>&1; then
    ip link delete "$CNI_BRIDGE" || bb_log "warning: could not delete $CNI_BRIDGE"
  fi
}

cmd_down() {
  [ "$(id -u)" = 0 ] || bb_die "run as root"
  if [ -d "$PIDS" ]; then
    stop_daemons "${CONTROL_DAEMONS[@]}"
    down_containers
    stop_daemons containerd etcd
  fi
  down_cgroups
  down_shims
  down_mounts
  down_network
  if [ -f "$KUBE_STATE/sysctl.saved" ]; then
    sysctl -q -p "$KUBE_STATE/sysctl.saved" >/dev/null 2>&1 || bb_log "warning: could not restore kubelet-changed sysctls"
  fi
  rm -rf "$KUBE_STATE" 2>/dev/null || {
    down_mounts
    rm -rf "$KUBE_STATE" || bb_die "could not remove $KUBE_STATE"
  }
  bb_log "down: cluster stopped, $KUBE_STATE removed (build cache kept in $KUBE_CACHE)"
}
