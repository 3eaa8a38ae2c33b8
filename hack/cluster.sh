#!/usr/bin/env bash
# Runs the local control plane (hack/cluster) in the background.
#
# Usage:
#   hack/cluster.sh start    build what is missing, start, wait until ready,
#                            print how to use it (no-op if already running)
#   hack/cluster.sh stop     stop it (SIGTERM, then SIGKILL after 30 s)
#   hack/cluster.sh status   exit 0 and print the usage if running, 1 if not
#
# State lives in .cache/cluster/ (PERIMETER_CLUSTER_DIR overrides it):
# kubeconfig, pid, usage.txt, cluster.log, controlplane.log.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="${PERIMETER_CLUSTER_DIR:-$root/.cache/cluster}"
mkdir -p "$state"
state="$(cd "$state" && pwd)"
pidfile="$state/pid"

log() { echo "cluster.sh: $*" >&2; }

# pid of the running cluster program, if any.
running_pid() {
	local pid
	[[ -f $pidfile ]] || return 1
	pid="$(cat "$pidfile" 2>/dev/null)" || return 1
	[[ $pid =~ ^[0-9]+$ ]] || return 1
	kill -0 "$pid" 2>/dev/null || return 1
	# Not a recycled pid: the program is ours.
	[[ "$(readlink "/proc/$pid/exe" 2>/dev/null || echo perimeter-cluster)" == *cluster* ]] || return 1
	echo "$pid"
}

start() {
	if running_pid >/dev/null && [[ -f $state/kubeconfig ]]; then
		log "already running"
		cat "$state/usage.txt"
		return 0
	fi
	rm -f "$state/kubeconfig" "$state/usage.txt"
	# Build the binaries first, in the foreground, so the first run shows
	# its progress (5-10 minutes once; seconds afterwards).
	"$root/hack/controlplane.sh" >/dev/null
	(cd "$root" && go build -o "$state/perimeter-cluster" ./hack/cluster)
	# setsid: its own session, so a Ctrl-C in this terminal does not reach it.
	(cd "$root" && exec setsid "$state/perimeter-cluster" -dir "$state" \
		</dev/null >"$state/cluster.log" 2>&1) &
	local launcher=$!
	local deadline=$((SECONDS + 120))
	until [[ -f $state/usage.txt && -f $state/kubeconfig ]]; do
		if ((SECONDS > deadline)); then
			log "not ready after 120 s; see $state/cluster.log and $state/controlplane.log"
			stop || true
			return 1
		fi
		if ! kill -0 "$launcher" 2>/dev/null && ! running_pid >/dev/null; then
			log "the control plane exited while starting:"
			cat "$state/cluster.log" >&2
			return 1
		fi
		sleep 0.2
	done
	cat "$state/usage.txt"
}

stop() {
	local pid
	if ! pid="$(running_pid)"; then
		log "not running"
		rm -f "$pidfile" "$state/kubeconfig" "$state/usage.txt"
		return 0
	fi
	kill -TERM "$pid"
	local deadline=$((SECONDS + 30))
	while kill -0 "$pid" 2>/dev/null; do
		if ((SECONDS > deadline)); then
			log "still running after 30 s: SIGKILL (its reaper stops etcd and kube-apiserver)"
			kill -KILL "$pid" 2>/dev/null || true
			break
		fi
		sleep 0.2
	done
	rm -f "$pidfile" "$state/kubeconfig" "$state/usage.txt"
	log "stopped (pid $pid)"
}

status() {
	if running_pid >/dev/null; then
		cat "$state/usage.txt"
		return 0
	fi
	log "not running"
	return 1
}

case "${1:-}" in
start) start ;;
stop) stop ;;
status) status ;;
*)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 2
	;;
esac
