#!/usr/bin/env bash
# Builds the local control plane binaries (kube-apiserver, etcd, kubectl)
# from the Go module proxy, once, into a cache folder keyed by the
# Kubernetes version and a hash of the tools module (hack/cptools).
#
# Usage:
#   hack/controlplane.sh           build if missing; print the folder
#   hack/controlplane.sh --print   print the folder; exit 3 if not built yet
#
# The folder is the last (and only) line on stdout; everything else goes
# to stderr. Use it as KUBEBUILDER_ASSETS for envtest.
#
# Environment:
#   PERIMETER_CONTROLPLANE_DIR  cache root to use instead of <repo>/.cache/controlplane
#                               (e.g. a folder outside the clone shared by several clones)
#
# The first build takes 5-10 minutes on 2 cores (about 850 CPU-seconds,
# 2.4 GB peak memory); with a warm Go build cache about 15 s. See
# docs/controlplane.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="$root/hack/cptools"

mode=build
case "${1:-}" in
"") ;;
--print) mode=print ;;
-h | --help)
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
	exit 0
	;;
*)
	echo "controlplane.sh: unknown argument: $1 (try --help)" >&2
	exit 2
	;;
esac

log() { echo "controlplane.sh: $*" >&2; }

# Versions come from the tools module itself, so there is one place to bump.
k8s_version="$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' "$tools/go.mod")"
if [[ ! "$k8s_version" =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
	log "cannot read the k8s.io/kubernetes version from $tools/go.mod"
	exit 1
fi
k8s_major="${BASH_REMATCH[1]}"
k8s_minor="${BASH_REMATCH[2]}"

# Unversioned builds report v0.0.0-master, which kubectl and version skew
# checks reject, so stamp the release version into both version packages.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
	ldflags+=" -X $pkg.gitVersion=$k8s_version"
	ldflags+=" -X $pkg.gitMajor=$k8s_major"
	ldflags+=" -X $pkg.gitMinor=$k8s_minor"
	ldflags+=" -X $pkg.gitTreeState=clean"
done

# The key changes whenever the tools module (versions, sums) or the build
# recipe changes, so an old build is never reused by mistake.
key_input="$(cat "$tools/go.mod" "$tools/go.sum"; echo "ldflags=$ldflags")"
hash="$(printf '%s' "$key_input" | sha256sum | cut -c1-12)"

cache_root="${PERIMETER_CONTROLPLANE_DIR:-$root/.cache/controlplane}"
dir="$cache_root/$k8s_version-$hash"
binaries=(kube-apiserver etcd kubectl)

has_binaries() {
	local b
	for b in "${binaries[@]}"; do
		[[ -x "$1/$b" ]] || return 1
	done
}

if has_binaries "$dir"; then
	echo "$dir"
	exit 0
fi
if [[ $mode == print ]]; then
	log "not built yet: $dir (run hack/controlplane.sh or make controlplane)"
	echo "$dir"
	exit 3
fi

mkdir -p "$cache_root"
cache_root="$(cd "$cache_root" && pwd)"
dir="$cache_root/$k8s_version-$hash"

# Serialise concurrent builds (e.g. several test packages starting at once):
# the second caller waits and then finds the folder complete.
if command -v flock >/dev/null 2>&1; then
	exec 9>"$cache_root/.lock"
	flock 9
	if has_binaries "$dir"; then
		echo "$dir"
		exit 0
	fi
fi

tmp="$(mktemp -d "$cache_root/.build-$k8s_version-$hash.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

log "building kube-apiserver, kubectl and etcd $k8s_version into $dir"
log "first build: 5-10 minutes on 2 cores (about 850 CPU-seconds, 2.4 GB of memory); later builds reuse the Go build cache"
start=$SECONDS
(
	cd "$tools"
	export GOWORK=off GOFLAGS="-mod=readonly" CGO_ENABLED=0
	# Several main packages with -o <dir>/ share one build graph and
	# write one binary each (named after the package; etcd's is "server").
	go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
		k8s.io/kubernetes/cmd/kube-apiserver \
		k8s.io/kubernetes/cmd/kubectl \
		go.etcd.io/etcd/server/v3
)
mv "$tmp/server" "$tmp/etcd"
chmod 0755 "$tmp"
"$tmp/kube-apiserver" --version >&2
"$tmp/etcd" --version | sed -n 1p >&2 # sed reads all input: no SIGPIPE under pipefail

has_binaries "$tmp" || {
	log "build did not produce all of: ${binaries[*]}"
	exit 1
}
# Atomic publish: the folder appears has_binaries or not at all.
if ! mv -T "$tmp" "$dir" 2>/dev/null; then
	has_binaries "$dir" || {
		log "cannot move the build into $dir"
		exit 1
	}
fi
trap - EXIT
log "built in $((SECONDS - start)) s: $dir"
echo "$dir"
