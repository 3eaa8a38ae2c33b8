package importer

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/reach"
)

// checkL4Routes: the TLS, TCP and UDP routes the import compiles to are
// exactly what ingress-nginx forwarded, worked out from the input on its
// own: per ssl-passthrough Ingress host, its "/" (or first) path's backend
// by SNI on the TLS listener; per entry of the tcp-services and
// udp-services ConfigMaps, its service port on the port's listener. An
// entry whose Service port speaks the other protocol is left out (the
// report says why); one whose Service is not in the input gets a
// placeholder with the entry's port.
func checkL4Routes(t *testing.T, in, out []*unstructured.Unstructured) {
	t.Helper()
	services := map[string]*corev1.Service{}
	for _, u := range in {
		if u.GetKind() == "Service" {
			s := &corev1.Service{}
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s))
			services[cmp.Or(s.Namespace, "default")+"/"+s.Name] = s
		}
	}
	want := map[string]bool{}
	for _, u := range in {
		switch u.GetKind() {
		case "Ingress":
			passthroughTuples(t, u, services, want)
		case "ConfigMap":
			servicesTuples(t, u, services, want)
		}
	}
	routes, err := reach.L4RoutesOf(out)
	must(t, err)
	got := map[string]bool{}
	for _, r := range routes {
		for _, p := range r.ParentRefs {
			for _, b := range r.Backends {
				ns := string(ptrOr(b.Namespace, r.Namespace))
				target := fmt.Sprintf("%s/%s:%d", ns, b.Name, *b.Port)
				hosts := r.Hostnames
				if len(hosts) == 0 {
					got[fmt.Sprintf("%s|%s|%s", r.Kind, *p.SectionName, target)] = true
				}
				for _, h := range hosts {
					got[fmt.Sprintf("%s|%s|%s|%s", r.Kind, h, *p.SectionName, target)] = true
				}
			}
		}
	}
	if w, g := sortedSet(want), sortedSet(got); !slices.Equal(w, g) {
		t.Errorf("L4 routes differ from what ingress-nginx forwarded:\n input:  %q\n routes: %q", w, g)
	}
}

func passthroughTuples(t *testing.T, u *unstructured.Unstructured, services map[string]*corev1.Service, want map[string]bool) {
	in := &netv1.Ingress{}
	must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, in))
	a := in.Annotations
	if !isTrue(a["nginx.ingress.kubernetes.io/ssl-passthrough"]) || isTrue(a["nginx.ingress.kubernetes.io/canary"]) {
		return
	}
	ns := cmp.Or(in.Namespace, "default")
	for _, r := range in.Spec.Rules {
		if r.Host == "" || r.HTTP == nil || len(r.HTTP.Paths) == 0 {
			continue
		}
		p := r.HTTP.Paths[0]
		for _, x := range r.HTTP.Paths {
			if x.Path == "/" || x.Path == "" {
				p = x
				break
			}
		}
		if port, ok := servicePort(services, ns, p.Backend.Service.Name, p.Backend.Service.Port, corev1.ProtocolTCP); ok {
			want[fmt.Sprintf("TLSRoute|%s|%s|%s/%s:%d", r.Host, DefaultTLSListener, ns, p.Backend.Service.Name, port)] = true
		}
	}
}

func servicesTuples(t *testing.T, u *unstructured.Unstructured, services map[string]*corev1.Service, want map[string]bool) {
	cm := &corev1.ConfigMap{}
	must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, cm))
	kind, proto := map[string]string{"tcp-services": "TCPRoute", "udp-services": "UDPRoute"}[cm.Name], corev1.ProtocolTCP
	if kind == "" {
		return
	}
	listener := "tcp-"
	if kind == "UDPRoute" {
		proto, listener = corev1.ProtocolUDP, "udp-"
	}
	for port, v := range cm.Data {
		target, _, err := parseServiceEntry(v)
		if p, perr := strconv.Atoi(port); err != nil || perr != nil || p < 1 || p > 65535 {
			continue
		}
		if n, ok := servicePort(services, target.ns, target.name, target.port, proto); ok {
			want[fmt.Sprintf("%s|%s%s|%s/%s:%d", kind, listener, port, target.ns, target.name, n)] = true
		}
	}
}

// servicePort resolves a backend port of a Service in the input speaking
// protocol; ok is false when there is none.
func servicePort(services map[string]*corev1.Service, ns, name string, port netv1.ServiceBackendPort, protocol corev1.Protocol) (int32, bool) {
	s := services[ns+"/"+name]
	if s == nil { // the import writes a placeholder service block with the number
		return port.Number, port.Number != 0
	}
	for _, p := range s.Spec.Ports {
		if (port.Name != "" && p.Name == port.Name) || (port.Name == "" && p.Port == port.Number) {
			return p.Port, cmp.Or(p.Protocol, corev1.ProtocolTCP) == protocol
		}
	}
	return 0, false
}

// TestParseServiceEntry reads the value format of ingress-nginx's
// tcp-services and udp-services ConfigMaps.
func TestParseServiceEntry(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"data/postgres:5432", "data/postgres:5432 []"},
		{"data/postgres:sql", "data/postgres:sql []"},
		{"data/postgres:5432:PROXY", "data/postgres:5432 [decode]"},
		{"data/postgres:5432::PROXY", "data/postgres:5432 [encode]"},
		{"data/postgres:5432:PROXY:PROXY", "data/postgres:5432 [decode encode]"},
		{"postgres:5432", "error"},
		{"data/postgres", "error"},
		{"data/postgres:70000", "error"},
		{"data/postgres:5432:HAPROXY", "error"},
		{"Data/postgres:5432", "error"},
		{"data/postgres:5432:PROXY:PROXY:x", "error"},
	} {
		target, flags, err := parseServiceEntry(tc.in)
		got := "error"
		if err == nil {
			port := target.port.Name
			if port == "" {
				port = fmt.Sprint(target.port.Number)
			}
			got = fmt.Sprintf("%s/%s:%s %v", target.ns, target.name, port, flags)
		}
		if got != tc.want && !(tc.want == "error" && strings.HasPrefix(got, "error")) {
			t.Errorf("%q: got %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestServicesConfigMaps reads the ConfigMaps the controller's arguments
// name, in both argument forms, with $(POD_NAMESPACE) resolved.
func TestServicesConfigMaps(t *testing.T) {
	u := &unstructured.Unstructured{Object: map[string]any{
		"kind": "Deployment", "metadata": map[string]any{"name": "ingress-nginx-controller", "namespace": "edge"},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{"containers": []any{
			map[string]any{"name": "controller", "args": []any{
				"/nginx-ingress-controller", "--tcp-services-configmap=$(POD_NAMESPACE)/tcp", "--udp-services-configmap", "other/udp",
			}},
		}}}},
	}}
	tcp, udp := ServicesConfigMaps([]*unstructured.Unstructured{u})
	if tcp != "edge/tcp" || udp != "other/udp" {
		t.Errorf("got %q, %q; want edge/tcp, other/udp", tcp, udp)
	}
	if tcp, udp := ServicesConfigMaps(nil); tcp != "" || udp != "" {
		t.Errorf("no controller: got %q, %q", tcp, udp)
	}
}
