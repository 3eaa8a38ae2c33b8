package lint

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// engineFor evaluates connections between the intent's endpoints under the
// policies it compiles to; nil when the objects hold no valid policies.
func engineFor(in *hclspec.Intent, objs []*unstructured.Unstructured, t *reach.Typed) *reach.Intent {
	o, err := reach.FromObjectsWith(objs, t)
	if err != nil {
		return nil
	}
	w, err := reach.FromIntentObjects(in, o)
	if err != nil {
		return nil
	}
	return w
}

// outside is an address no policy of the stack names, to ask whether a pod
// is isolated at all.
var outside = reach.IPPeer(netip.MustParseAddr("192.0.2.1"))

// Isolated reports whether the engine closes a direction for the pods an
// endpoint stands for: some policy selects them for it.
func Isolated(w *reach.Intent, e hclspec.Endpoint, direction string) bool {
	p, err := w.Peer(e)
	if err != nil || p.Pod == nil {
		return false
	}
	port := reach.Port{Number: 1, Protocol: corev1.ProtocolTCP}
	if direction == "egress" {
		return w.Evaluate(p, outside, port).Egress.Isolated
	}
	return w.Evaluate(outside, p, port).Ingress.Isolated
}

// isolatedByAllow warns at the first allow that isolates a namespace or a
// workload for a direction no default_deny declared: from then on the
// other traffic of those pods in that direction is denied, which is rarely
// what the author of one allow had in mind.
func isolatedByAllow(in *hclspec.Intent, w *reach.Intent) []Finding {
	var out []Finding
	seen := map[string]bool{}
	report := func(a *hclspec.Allow, e hclspec.Endpoint, direction string) {
		key := direction + " " + subjectText(e)
		if seen[key] || declaredDeny(in, e, direction) || !Isolated(w, e, direction) {
			return
		}
		seen[key] = true
		r := a.Range
		out = append(out, Finding{Summary: "Allow isolates " + direction, Source: generate.Source(r), Range: &r, Block: a.Block,
			Detail: fmt.Sprintf("allow %q isolates %s for %s: their other %s is now denied. Add default_deny = [%q] to %s to say so, or allow what else they need.",
				a.Label, direction, subjectText(e), direction, direction, denyHome(e))})
	}
	for _, a := range in.Allows {
		for _, e := range a.From {
			report(a, e, "egress")
		}
		for _, e := range a.To {
			report(a, e, "ingress")
		}
	}
	return out
}

// declaredDeny reports whether a default_deny of the endpoint's namespace
// or service already closes the direction.
func declaredDeny(in *hclspec.Intent, e hclspec.Endpoint, direction string) bool {
	if ns := namespaceOf(in, e.Namespace); ns != nil && ((direction == "egress" && ns.DenyEgress) || (direction == "ingress" && ns.DenyIngress)) {
		return true
	}
	if e.Kind == hclspec.EndpointService {
		return (direction == "egress" && e.Service.DenyEgress) || (direction == "ingress" && e.Service.DenyIngress)
	}
	return false
}

func subjectText(e hclspec.Endpoint) string {
	switch e.Kind {
	case hclspec.EndpointService:
		return fmt.Sprintf("the pods of service.%s (%s)", e.Service.Label, e.Namespace)
	case hclspec.EndpointNamespace:
		return "every pod of namespace " + e.Namespace
	case hclspec.EndpointPods:
		return fmt.Sprintf("pods(%q, %s)", e.Namespace, labelsText(e.PodSelector))
	}
	return string(e.Kind)
}

func denyHome(e hclspec.Endpoint) string {
	if e.Kind == hclspec.EndpointService {
		return fmt.Sprintf("service %q or namespace %q", e.Service.Label, e.Namespace)
	}
	return fmt.Sprintf("namespace %q", e.Namespace)
}

// labelsText writes labels as {k=v, ...}, sorted.
func labelsText(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, k+"="+m[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}
