package reach

import (
	"net/netip"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// FromLive: endpoints stand for the pods they select, every pair is
// evaluated, namespaces have their live labels, and what the intent could
// not know is known.
func TestFromLive(t *testing.T) {
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(`
perimeter {
  stack = "s"
}
namespace "shop" {
  default_deny = ["ingress"]
}
service "users" {
  namespace = "shop"
  selector  = { app = "users" }
  port      = 8080
}
service "ghost" {
  namespace = "shop"
  selector  = { app = "ghost" }
  port      = 80
}
allow "scrape" {
  from  = namespaces({ team = "tools" })
  to    = service.users
  ports = ["metrics"]
}
`)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	objs, ok := renderedPolicies(t, in)
	if !ok {
		t.Fatal("does not compile")
	}
	metrics := []NamedPort{{Name: "metrics", Port: 9102, Protocol: corev1.ProtocolTCP}}
	live := Objects{
		Namespaces: []Namespace{{Name: "tools", Labels: map[string]string{"team": "tools"}}, {Name: "shop"}},
		Pods: []*Pod{
			{Namespace: "shop", Name: "users-0", Labels: map[string]string{"app": "users"}, Ports: metrics, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.1")}},
			{Namespace: "shop", Name: "users-1", Labels: map[string]string{"app": "users"}, IPs: []netip.Addr{netip.MustParseAddr("10.0.0.2")}},
			{Namespace: "tools", Name: "prom", Labels: map[string]string{"app": "prom"}},
		},
	}
	w, err := FromLive(in, objs.Policies, live)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointNamespaces, NamespaceSelector: map[string]string{"team": "tools"}})
	to, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: in.Services[0]})
	v := w.Evaluate(from, to, Port{Number: 9102, Protocol: corev1.ProtocolTCP})
	if v.Unknown || v.Allowed || v.Pairs != (PairCounts{Allowed: 1, Denied: 1}) || v.To.Pod.Name != "users-1" {
		t.Errorf("9102: allowed %v unknown %v pairs %+v to %v; want users-0 allowed, users-1 (no metrics port) denied", v.Allowed, v.Unknown, v.Pairs, v.To)
	}
	ghost, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: in.Services[1]})
	v = w.Evaluate(from, ghost, Port{Number: 80, Protocol: corev1.ProtocolTCP})
	if len(v.NoPods) != 1 || v.NoPods[0] != "service.ghost" || v.Unknown || v.Allowed {
		t.Errorf("ghost: %+v; want denied, no pods for service.ghost", v)
	}
}
