package plan

import (
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// l4Kinds are the route kinds below HTTP and the scheme their exposure is
// written with.
var l4Kinds = map[string]string{"TLSRoute": "tls", "TCPRoute": "tcp", "UDPRoute": "udp"}

// listenerIndex holds the Gateways and ListenerSets among a set of
// objects, by kind/namespace/name, so a TCP or UDP exposure can name the
// port clients connect to. A Gateway outside the set (one the stack does
// not manage) is not there, and its listener ports are reported as unknown.
type listenerIndex map[string]*unstructured.Unstructured

func indexGateways(objs []*unstructured.Unstructured) listenerIndex {
	idx := listenerIndex{}
	for _, o := range objs {
		if k := o.GetKind(); k == "Gateway" || k == "ListenerSet" {
			idx[k+"/"+o.GetNamespace()+"/"+o.GetName()] = o
		}
	}
	return idx
}

// port returns the listener's port, when the Gateway is in the set and
// names exactly one listener by that section name.
func (idx listenerIndex) port(ref ParentRef) (int64, bool) {
	gw := idx[ref.Kind+"/"+ref.Namespace+"/"+ref.Name]
	if gw == nil || ref.Section == "" {
		return 0, false
	}
	listeners, _, _ := sliceAt(gw.Object, "spec", "listeners")
	for _, l := range listeners {
		lm, _ := l.(map[string]any)
		if lm["name"] == ref.Section {
			return wholePort(lm["port"])
		}
	}
	return 0, false
}

// l4Exposures lists, for a TLSRoute, TCPRoute or UDPRoute, one statement
// per gateway it attaches to, hostname (TLS) and backend:
// "tls://db.example.com -> data/db:443", "tcp/5432 -> data/pg:5432". When
// the listener's port is not known to the plan, the text says so instead
// of guessing.
func l4Exposures(o *unstructured.Unstructured, gateways listenerIndex) []statement {
	scheme := l4Kinds[o.GetKind()]
	hosts, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "hostnames")
	rules, _, _ := sliceAt(o.Object, "spec", "rules")
	var out []statement
	for _, ref := range ParentRefs(o) {
		port, known := gateways.port(ref)
		from := fmt.Sprintf("%s %s/%s", parentKind(ref), ref.Namespace, ref.Name)
		if ref.Section != "" {
			from += " (listener " + ref.Section + ")"
		}
		var ports []string
		if known {
			ports = []string{fmt.Sprintf("%d/%s", port, map[bool]string{true: "udp", false: "tcp"}[scheme == "udp"])}
		}
		for _, front := range l4Fronts(scheme, hosts, ref, port, known) {
			for _, r := range rules {
				rule, _ := r.(map[string]any)
				for _, t := range backendTexts(o.GetNamespace(), rule) {
					s := statement{kind: "expose", text: front.text + " -> " + t, from: from, to: t,
						match: "listener " + orStar(ref.Section), ports: ports}
					if front.host != "" {
						s.hosts = []string{front.host}
					}
					out = append(out, s)
				}
			}
		}
	}
	return out
}

type l4Front struct{ text, host string }

// l4Fronts is what a client connects to: tls://HOST[:PORT] per SNI name,
// or tcp/PORT, udp/PORT.
func l4Fronts(scheme string, hosts []string, ref ParentRef, port int64, known bool) []l4Front {
	unknown := fmt.Sprintf(" (listener %s of %s %s/%s, port unknown)", orStar(ref.Section), parentKind(ref), ref.Namespace, ref.Name)
	if scheme != "tls" {
		if known {
			return []l4Front{{text: fmt.Sprintf("%s/%d", scheme, port)}}
		}
		return []l4Front{{text: scheme + unknown}}
	}
	var out []l4Front
	for _, h := range hosts {
		var b strings.Builder
		b.WriteString("tls://" + h)
		switch {
		case known && port != 443:
			fmt.Fprintf(&b, ":%d", port)
		case !known:
			b.WriteString(unknown)
		}
		out = append(out, l4Front{text: b.String(), host: h})
	}
	return out
}

// wholePort reads a port number as decoders leave it: int64 from the API
// server and the converter, float64 from a plain YAML or JSON decode.
func wholePort(v any) (int64, bool) {
	switch n := v.(type) {
	case int64:
		return n, n > 0
	case int:
		return int64(n), n > 0
	case float64:
		return int64(n), n > 0 && n == float64(int64(n))
	}
	return 0, false
}

// kindRefused explains why a listener does not accept a route kind (its
// allowedRoutes.kinds, or else its protocol's kinds), or returns "".
func kindRefused(listener map[string]any, kind string) string {
	kinds, found, _ := sliceAt(listener, "allowedRoutes", "kinds")
	if found && len(kinds) > 0 {
		for _, k := range kinds {
			if km, _ := k.(map[string]any); km["kind"] == kind {
				return ""
			}
		}
		return fmt.Sprintf("does not admit %s (allowedRoutes.kinds)", kind)
	}
	return protocolAdmits(listener, kind)
}

// protocolKinds are the route kinds a listener accepts by default, by its
// protocol, when allowedRoutes.kinds is not set (Gateway API's core
// support: the route kind that carries the protocol).
var protocolKinds = map[string][]string{
	"HTTP": {"HTTPRoute", "GRPCRoute"}, "HTTPS": {"HTTPRoute", "GRPCRoute"},
	"TLS": {"TLSRoute"}, "TCP": {"TCPRoute"}, "UDP": {"UDPRoute"},
}

// protocolAdmits explains why a listener without allowedRoutes.kinds
// refuses a route of this kind, or returns "" (also for a protocol it does
// not know, an implementation-specific one, about which it says nothing).
func protocolAdmits(listener map[string]any, kind string) string {
	protocol, _ := listener["protocol"].(string)
	accepted, known := protocolKinds[protocol]
	if !known {
		return ""
	}
	for _, k := range accepted {
		if k == kind {
			return ""
		}
	}
	return fmt.Sprintf("is a %s listener, which carries %s, not %s", protocol, strings.Join(accepted, " and "), kind)
}

// parentKind names a parent as the boundary text does: "gateway", or
// "ListenerSet".
func parentKind(ref ParentRef) string {
	if ref.Kind == "ListenerSet" {
		return "ListenerSet"
	}
	return "gateway"
}
