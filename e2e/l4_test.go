package e2e

import (
	"strings"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// TestL4ObjectsRejected sends TLS, TCP and UDP routes and listeners that
// the Gateway API v1 CRDs refuse; each is a case hclspec rejects at
// validate time (named in the comment), so perimeter never gets that far.
func TestL4ObjectsRejected(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	ns := c.Namespace(t)
	cases := []struct {
		name string
		obj  runtime.Object
		want string
	}{{
		// hclspec: "Missing required argument" (tls_route hostnames)
		name: "TLSRoute without hostnames",
		obj:  tlsRoute(ns, "no-hosts", nil),
		want: "spec.hostnames",
	}, {
		// hclspec: "Route without backend"
		name: "TCPRoute without backends",
		obj:  &gatewayv1.TCPRoute{TypeMeta: l4Type("TCPRoute"), ObjectMeta: metav1.ObjectMeta{Name: "no-backends", Namespace: ns}, Spec: gatewayv1.TCPRouteSpec{Rules: []gatewayv1.TCPRouteRule{{}}}},
		want: "backendRefs",
	}, {
		// hclspec: "Missing tls_mode". (With a tls block but no mode the
		// CRD defaults the mode to Terminate; perimeter always writes it.)
		name: "TLS listener without mode",
		obj:  gatewayWith(ns, "no-mode", gatewayv1.Listener{Name: "tls", Port: 443, Protocol: gatewayv1.TLSProtocolType}),
		want: "tls mode must be set for protocol TLS",
	}, {
		// hclspec: "Missing certificates" (tls_mode = "terminate")
		name: "TLS terminate listener without certificates",
		obj: gatewayWith(ns, "no-certs", gatewayv1.Listener{Name: "tls", Port: 443, Protocol: gatewayv1.TLSProtocolType,
			TLS: &gatewayv1.ListenerTLSConfig{Mode: ptr.To(gatewayv1.TLSModeTerminate)}}),
		want: "certificateRefs or options must be specified when mode is Terminate",
	}, {
		// hclspec: "Unexpected hostname"
		name: "TCP listener with a hostname",
		obj:  gatewayWith(ns, "tcp-host", gatewayv1.Listener{Name: "pg", Port: 5432, Protocol: gatewayv1.TCPProtocolType, Hostname: ptr.To(gatewayv1.Hostname("db.example.com"))}),
		want: "hostname must not be specified for protocols ['TCP', 'UDP']",
	}, {
		// hclspec: "Unexpected certificates"
		name: "UDP listener with TLS",
		obj: gatewayWith(ns, "udp-tls", gatewayv1.Listener{Name: "dns", Port: 53, Protocol: gatewayv1.UDPProtocolType,
			TLS: &gatewayv1.ListenerTLSConfig{CertificateRefs: []gatewayv1.SecretObjectReference{{Name: "cert"}}}}),
		want: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
	}, {
		// hclspec: "Duplicate listener port"
		name: "two TCP listeners on one port",
		obj: &gatewayv1.Gateway{TypeMeta: l4Type("Gateway"), ObjectMeta: metav1.ObjectMeta{Name: "dup-port", Namespace: ns},
			Spec: gatewayv1.GatewaySpec{GatewayClassName: "test", Listeners: []gatewayv1.Listener{
				{Name: "pg", Port: 5432, Protocol: gatewayv1.TCPProtocolType}, {Name: "pg-again", Port: 5432, Protocol: gatewayv1.TCPProtocolType}}}},
		want: "Combination of port, protocol and hostname must be unique for each listener",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := toUnstructured(t, tc.obj)
			for _, dryRun := range []bool{true, false} {
				_, err := a.apply(o, dryRun)
				if !apierrors.IsInvalid(err) {
					t.Fatalf("apply (dry-run %v) %s: got %v, want an Invalid error", dryRun, describe(o), err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("apply (dry-run %v): message %q does not contain %q", dryRun, err, tc.want)
				}
			}
			if err := a.get(o); !apierrors.IsNotFound(err) {
				t.Errorf("get after rejection: %v; want NotFound", err)
			}
		})
	}
}

// TestL4IntentAccepted compiles an intent with every L4 listener and route
// form perimeter has (TLS passthrough and terminate listeners, TCP and UDP
// listeners, weighted and cross-namespace backends, a ListenerSet on the
// managed Gateway, which then allows it) and applies it for real: the API
// server keeps every field as sent.
func TestL4IntentAccepted(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	gwNS, appNS := c.Namespace(t), c.Namespace(t)
	src := strings.NewReplacer("GWNS", gwNS, "APPNS", appNS).Replace(l4Intent)
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	kinds := map[string]bool{}
	for _, o := range generate.ForOutput(objs) {
		kinds[o.GetKind()] = true
		live, err := a.apply(o, false)
		if err != nil {
			t.Fatalf("apply rejected %s: %v", describe(o), err)
		}
		if diff := subsetDiff("", o.Object, live.Object); diff != "" {
			t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
		}
	}
	for _, k := range []string{"Gateway", "ListenerSet", "TLSRoute", "TCPRoute", "UDPRoute", "ReferenceGrant", "NetworkPolicy"} {
		if !kinds[k] {
			t.Errorf("the intent compiled to no %s", k)
		}
	}
}

const l4Intent = `
perimeter {
  stack = "l4"
}
namespace "app" {
  name         = "APPNS"
  default_deny = ["ingress"]
}
gateway "edge" {
  namespace      = "GWNS"
  implementation = "istio"
  manage {
    class = "istio"
    listener "pass" {
      protocol = "TLS"
      port     = 443
      hostname = "*.example.com"
      tls_mode = "passthrough"
    }
    listener "term" {
      protocol     = "TLS"
      port         = 8443
      tls_mode     = "terminate"
      certificates = ["edge-cert"]
    }
    listener "pg" {
      protocol = "TCP"
      port     = 5432
    }
    listener "dns" {
      protocol = "UDP"
      port     = 53
    }
  }
}
service "db" {
  namespace = "APPNS"
  selector  = { app = "db" }
  port      = 5432
}
service "db2" {
  namespace = "APPNS"
  selector  = { app = "db2" }
  port      = 5432
}
service "dns" {
  namespace   = "APPNS"
  selector    = { app = "dns" }
  port        = 53
  target_port = 5353
  protocol    = "udp"
}
tls_route "pass" {
  gateway   = gateway.edge
  listener  = "pass"
  hostnames = ["db.example.com", "*.db.example.com"]
  backend   = service.db
}
tls_route "term" {
  namespace = "GWNS"
  gateway   = gateway.edge
  listener  = "term"
  hostnames = ["db.internal.example"]
  backend   = service.db
}
tcp_route "pg" {
  gateway  = gateway.edge
  listener = "pg"
  backends = [{ service = service.db, weight = 90 }, { service = service.db2, weight = 10 }]
}
udp_route "dns" {
  gateway  = gateway.edge
  listener = "dns"
  backend  = service.dns
}
listener_set "team" {
  namespace = "APPNS"
  gateway   = gateway.edge
  listener "redis" {
    protocol = "TCP"
    port     = 6379
  }
}
tcp_route "redis" {
  gateway  = listener_set.team
  listener = "redis"
  backend  = service.db
}
`

func l4Type(kind string) metav1.TypeMeta {
	return metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: kind}
}

func tlsRoute(ns, name string, hosts []gatewayv1.Hostname) *gatewayv1.TLSRoute {
	port := gatewayv1.PortNumber(443)
	return &gatewayv1.TLSRoute{TypeMeta: l4Type("TLSRoute"), ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gatewayv1.TLSRouteSpec{Hostnames: hosts, Rules: []gatewayv1.TLSRouteRule{{
			BackendRefs: []gatewayv1.BackendRef{{BackendObjectReference: gatewayv1.BackendObjectReference{Name: "db", Port: &port}}},
		}}}}
}

func gatewayWith(ns, name string, l gatewayv1.Listener) *gatewayv1.Gateway {
	return &gatewayv1.Gateway{TypeMeta: l4Type("Gateway"), ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: gatewayv1.GatewaySpec{GatewayClassName: "test", Listeners: []gatewayv1.Listener{l}}}
}
