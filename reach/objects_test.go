package reach

import (
	"net/netip"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// TestFromObjects builds an engine from YAML as kubectl would print it:
// a namespace, two pods with container ports and IPs, and a policy with a
// named port.
func TestFromObjects(t *testing.T) {
	docs := []string{`
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {team: web}}`, `
apiVersion: v1
kind: Pod
metadata: {namespace: web, name: api, labels: {app: api}}
spec:
  containers:
  - name: c
    ports: [{name: http, containerPort: 8080}]
status: {podIP: 10.1.0.5}`, `
apiVersion: v1
kind: Pod
metadata: {namespace: web, name: client, labels: {app: client}}
spec: {containers: [{name: c}]}
status: {podIPs: [{ip: 10.1.0.6}]}`, `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {namespace: web, name: api}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: web}}, podSelector: {matchLabels: {app: client}}}]
    ports: [{port: http}]`}
	var objs []*unstructured.Unstructured
	for _, d := range docs {
		u := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(d), &u.Object); err != nil {
			t.Fatal(err)
		}
		objs = append(objs, u)
	}
	o, err := FromObjects(objs)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(o.Policies, o.Namespaces, o.Pods)
	if err != nil {
		t.Fatal(err)
	}
	api, client := o.Pods[0], o.Pods[1]
	if api.IPs[0] != netip.MustParseAddr("10.1.0.5") || client.IPs[0] != netip.MustParseAddr("10.1.0.6") {
		t.Fatalf("pod IPs: %v %v", api.IPs, client.IPs)
	}
	for _, tc := range []struct {
		port Port
		want bool
	}{{Port{Number: 8080}, true}, {Port{Name: "http"}, true}, {Port{Number: 8081}, false}, {Port{Number: 8080, Protocol: "UDP"}, false}} {
		v := e.Evaluate(PodPeer(client), PodPeer(api), tc.port)
		if v.Allowed != tc.want {
			t.Errorf("client -> api on %s: got %v, want %v", tc.port, v.Allowed, tc.want)
		}
	}
	if v := e.Evaluate(IPPeer(netip.MustParseAddr("192.0.2.1")), PodPeer(api), Port{Number: 8080}); v.Allowed {
		t.Errorf("outside -> api allowed: %+v", v)
	}
	if v := e.Evaluate(PodPeer(api), PodPeer(client), Port{Number: 1}); !v.Allowed || v.Egress.Isolated || v.Ingress.Isolated {
		t.Errorf("api -> client should be open: %+v", v)
	}
}
