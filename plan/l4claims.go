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
func listenerClaim(route, other, gw *unstructured.Unstructured, listener string, others []*unstructured.Unstructured) Warning {
	return warn(route, "Listener already claimed",
		"%s %s/%s is attached to listener %q of Gateway %s/%s too. Gateway API gives all of a %s listener's connections to one route, the oldest by creation time (then by namespace/name), so %s",
		other.GetKind(), other.GetNamespace(), other.GetName(), listener, gw.GetNamespace(), gw.GetName(), protocolOfKind(route.GetKind()),
		loser(route, other, others))
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
