#!/usr/bin/env bash
# Builds kube-router (its network-policy controller is the real NetworkPolicy
# dataplane of the packet tests, see docs/dataplane.md) from the Go module
# proxy, once, into a cache folder keyed by its version and the Go version,
# and installs the Debian packages it needs (iptables, ipset) when missing.
#
# Usage:
#   hack/kuberouter.sh           install packages and build if missing; print the folder
#   hack/kuberouter.sh --print   print the folder; exit 3 if not built yet
#
# The folder is the last (and only) line on stdout; everything else goes to
# stderr.
#
# Environment:
#   PERIMETER_KUBEROUTER_DIR  cache root instead of <repo>/.cache/kube-router
#
# kube-router v2.1.0 is the newest v2 the Go module proxy serves; security
# flaws are reported against it. It only ever runs inside the throwaway
# network namespace of the packet tests, never in the machine's own.
# A cold build takes about 3 minutes on 2 cores.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
version=v2.1.0
module=github.com/cloudnativelabs/kube-router/v2

mode=build
case "${1:-}" in
"") ;;
--print) mode=print ;;
-h | --help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "kuberouter.sh: unknown argument: $1 (try --help)" >&2
	exit 2
	;;
esac

log() { echo "kuberouter.sh: $*" >&2; }

# kube-router and the packet tests are Linux only; elsewhere there is
# nothing to build (the tests skip), and make test must not fail for it.
if [[ $(uname -s) != Linux ]]; then
	log "kube-router runs on Linux only: not built"
	exit 0
fi

# The Go version is part of the key: a toolchain bump rebuilds.
goversion="$(go env GOVERSION)"
hash="$(printf '%s %s %s' "$module" "$version" "$goversion" | sha256sum | cut -c1-12)"
cache_root="${PERIMETER_KUBEROUTER_DIR:-$root/.cache/kube-router}"
dir="$cache_root/$version-$hash"

# iptables and ipset come from Debian; kube-router shells out to both.
if [[ $mode == build ]] && ! { command -v iptables-save && command -v ipset; } >/dev/null 2>&1; then
	if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null 2>&1; then
		# Not fatal: without root the packet tests skip anyway.
		log "iptables and ipset are missing; the packet tests need them (Debian: apt-get install iptables ipset)"
	else
		log "installing iptables and ipset (apt-get)"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq >&2
		apt-get install -y -qq --no-install-recommends iptables ipset >&2
	fi
fi

if [[ -x "$dir/kube-router" ]]; then
	echo "$dir"
	exit 0
fi
if [[ $mode == print ]]; then
	log "not built yet: $dir (run hack/kuberouter.sh)"
	echo "$dir"
	exit 3
fi

mkdir -p "$cache_root"
cache_root="$(cd "$cache_root" && pwd)"
dir="$cache_root/$version-$hash"
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.lock"
	flock 9
	if [[ -x "$dir/kube-router" ]]; then
		echo "$dir"
		exit 0
	fi
fi

tmp="$(mktemp -d "$cache_root/.build-$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
log "building kube-router $version into $dir (about 3 minutes on 2 cores, once)"
start=$SECONDS
(
	cd "$tmp"
	export GOWORK=off GOFLAGS= CGO_ENABLED=0 GOBIN="$tmp"
	go install -trimpath -ldflags "-s -w" "$module/cmd/kube-router@$version"
)
"$tmp/kube-router" --version >&2 || true
chmod 0755 "$tmp"
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
	[[ -x "$dir/kube-router" ]] || {
		log "cannot move the build into $dir"
		exit 1
	}
fi
trap - EXIT
log "built in $((SECONDS - start)) s: $dir"
echo "$dir"
