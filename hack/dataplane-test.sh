#!/usr/bin/env bash
# make dataplane-test: the compiled NetworkPolicies enforced by a real
# NetworkPolicy implementation (kube-router's policy controller) on real
# TCP/UDP packets in network namespaces, compared with package reach, for
# every example and for random intents. See docs/dataplane.md.
#
# Needs Linux and root. Installs iptables and ipset (apt-get) and builds
# kube-router into .cache/kube-router when missing (hack/kuberouter.sh).
# Prints, last, one line:
#   dataplane: N probes, A agree with reach, D disagree
# and exits non-zero when the tests fail or D > 0 (disagreements that
# docs/dataplane.md documents as kube-router's deviations are counted
# apart and do not fail the run). Extra arguments go to go test.
#
# hack/dataplane-test.sh --tally FILE runs nothing: it judges the summary
# that an earlier run wrote to FILE ($PERIMETER_DATAPLANE_SUMMARY), so CI
# prints the tally of the packet tests `make test` already ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

status=0
if [[ ${1:-} == --tally ]]; then
	summary="$2"
else
	hack/kuberouter.sh >/dev/null
	summary="$(mktemp)"
	trap 'rm -f "$summary"' EXIT
	start=$SECONDS
	PERIMETER_DATAPLANE_SUMMARY="$summary" go test -count=1 -timeout 20m ./internal/dataplane/ "$@" || status=$?
	echo "packet tests: $((SECONDS - start)) s on $(nproc) cores"
fi
line="$(cat "$summary")"
if [[ -z $line ]]; then
	echo "dataplane: no probes ran (see above)"
	exit 1
fi
echo "$line"
if [[ $line =~ ,\ ([0-9]+)\ disagree ]] && ((BASH_REMATCH[1] > 0)); then
	exit 1
fi
exit "$status"
