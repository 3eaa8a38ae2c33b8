package plan

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// sharesWholeListener reports whether a route kind takes all of a
// listener's connections: TCPRoute and UDPRoute have no hostnames or
// matches, so two of them on one listener cannot share it.
func sharesWholeListener(kind string) bool { return kind == "TCPRoute" || kind == "UDPRoute" }

// listenerClaim warns that other, a live route of the same L4 kind, is
// attached to the listener route attaches to. Gateway API gives a TCP or
// UDP listener's connections to one route, the oldest by creation time
// (then by namespace/name), so one of the two gets no traffic; which one
// is said when the live objects tell.
func listenerClaim(route, other *unstructured.Unstructured, parent, listener string, others []*unstructured.Unstructured) Warning {
	return warn(route, "Listener already claimed",
		"%s %s/%s is attached to listener %q of %s too. %s, so %s",
		other.GetKind(), other.GetNamespace(), other.GetName(), listener, parent, oldestRule(route.GetKind()), loser(route, other, others))
}

// oldestRule is how Gateway API picks among routes of a TCP or UDP listener.
func oldestRule(kind string) string {
	return fmt.Sprintf("Gateway API gives all of a %s listener's connections to one route, the oldest by creation time (then by namespace/name)", protocolOfKind(kind))
}

// pendingL4Claims warns about TCPRoutes and UDPRoutes sharing a listener
// that hostnameClaims does not see: two the plan creates (neither is in
// the cluster yet; the warning goes on the later by namespace/name), and
// routes on a ListenerSet's listener with a live one.
func pendingL4Claims(desired, live []*unstructured.Unstructured) []Warning {
	var out []Warning
	for _, route := range desired {
		if !sharesWholeListener(route.GetKind()) {
			continue
		}
		for _, ref := range ParentRefs(route) {
			parent := fmt.Sprintf("%s %s/%s", ref.Kind, ref.Namespace, ref.Name)
			for _, other := range desired {
				if other != route && other.GetKind() == route.GetKind() && nsName(other) < nsName(route) &&
					liveCopy(route, live) == nil && liveCopy(other, live) == nil && onSameListener(other, ref) {
					out = append(out, warn(route, "Listener already claimed",
						"%s %s/%s, which this plan creates too, is attached to listener %q of %s. %s, so one of the two routes will not receive traffic (which one depends on the order they are created in).",
						other.GetKind(), other.GetNamespace(), other.GetName(), ref.Section, parent, oldestRule(route.GetKind())))
				}
			}
			if ref.Kind != "ListenerSet" {
				continue // live routes on a Gateway's listener: hostnameClaims
			}
			for _, other := range live {
				if other.GetKind() == route.GetKind() && nsName(other) != nsName(route) && onSameListener(other, ref) {
					out = append(out, listenerClaim(route, other, parent, ref.Section, live))
				}
			}
		}
	}
	return out
}

// onSameListener reports whether route attaches to the listener ref names
// (or, ref naming none, to the same parent).
func onSameListener(route *unstructured.Unstructured, ref ParentRef) bool {
	for _, p := range ParentRefs(route) {
		if p.Kind == ref.Kind && p.Namespace == ref.Namespace && p.Name == ref.Name && (p.Section == "" || ref.Section == "" || p.Section == ref.Section) {
			return true
		}
	}
	return false
}

func protocolOfKind(kind string) string {
	if kind == "UDPRoute" {
		return "UDP"
	}
	return "TCP"
}

// loser says which of the two routes will not receive traffic: this one
// when it is not in the cluster yet (it will be the newer), else the newer
// of the two live copies; when their creation times are equal, the later
// by namespace/name.
func loser(route, other *unstructured.Unstructured, others []*unstructured.Unstructured) string {
	live := liveCopy(route, others)
	if live == nil {
		return fmt.Sprintf("this route, created after it, will not receive traffic while %s %s/%s exists.",
			other.GetKind(), other.GetNamespace(), other.GetName())
	}
	a, b := live.GetCreationTimestamp(), other.GetCreationTimestamp()
	if a.IsZero() || b.IsZero() {
		return "one of the two routes will not receive traffic (a creation time is not known)."
	}
	routeOlder := a.Before(&b) || (a.Equal(&b) && nsName(live) < nsName(other))
	if routeOlder {
		return fmt.Sprintf("%s %s/%s, created after this route, does not receive traffic.", other.GetKind(), other.GetNamespace(), other.GetName())
	}
	return fmt.Sprintf("this route, created after %s %s/%s, does not receive traffic.", other.GetKind(), other.GetNamespace(), other.GetName())
}

// liveCopy finds the live object of route among the listed routes.
func liveCopy(route *unstructured.Unstructured, others []*unstructured.Unstructured) *unstructured.Unstructured {
	for _, o := range others {
		if key(o) == key(route) {
			return o
		}
	}
	return nil
}

// nsName is the namespace/name Gateway API breaks creation-time ties by.
func nsName(o *unstructured.Unstructured) string { return o.GetNamespace() + "/" + o.GetName() }
