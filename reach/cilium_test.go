package reach

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// An allow by name through Cilium: the CiliumNetworkPolicy admits the
// name (on its port) and DNS, the allow's NetworkPolicy isolates the rest.
func TestCiliumAllowByName(t *testing.T) {
	in, objs, ok := loadIntent(t, `
perimeter {
  stack       = "c"
  fqdn_egress = "cilium"
}

namespace "shop" {}

service "users" {
  namespace = "shop"
  selector  = { app = "users" }
  port      = 80
  dns       = false
}

allow "users pays" {
  from  = service.users
  to    = fqdn("api.stripe.com")
  ports = ["443/tcp"]
}
`)
	if !ok || len(objs.Cilium) != 1 {
		t.Fatalf("compiled: %v, %d CiliumNetworkPolicies", ok, len(objs.Cilium))
	}
	w, err := FromIntentObjects(in, objs)
	if err != nil {
		t.Fatal(err)
	}
	users := w.pods["service/users"]
	dns := &Pod{Namespace: "kube-system", Name: "dns", Labels: map[string]string{"k8s-app": "kube-dns"}}
	for _, tc := range []struct {
		name  string
		to    Peer
		port  Port
		allow bool
	}{
		{"the name on its port", NamePeer("API.stripe.com."), Port{Number: 443, Protocol: corev1.ProtocolTCP}, true},
		{"the name on another port", NamePeer("api.stripe.com"), Port{Number: 80, Protocol: corev1.ProtocolTCP}, false},
		{"another name", NamePeer("www.stripe.com"), Port{Number: 443, Protocol: corev1.ProtocolTCP}, false},
		{"DNS, through the proxy rule", PodPeer(dns), Port{Number: 53, Protocol: corev1.ProtocolUDP}, true},
	} {
		if users == nil {
			t.Fatal("no representative pod for service.users")
		}
		v := w.Evaluate(PodPeer(users), tc.to, tc.port)
		if v.Allowed != tc.allow || v.Unknown {
			t.Errorf("%s: allowed %v (unknown %v), want %v", tc.name, v.Allowed, v.Unknown, tc.allow)
		}
	}
}
