package reach_test

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"text/template"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/reach"
)

// conformanceProbes is the number of probes in the standard-channel
// conformance tests of sigs.k8s.io/network-policy-api v0.3.0: every one
// must be in the translation.
const conformanceProbes = 380

// conformanceCase is one translated conformance test (testdata/conformance).
type conformanceCase struct {
	Test      string   `json:"test"`
	Manifests []string `json:"manifests"`
	Steps     []struct {
		Name string   `json:"name"`
		Do   []doItem `json:"do"`
	} `json:"steps"`
}

// doItem is a probe or a change, as the conformance test makes it.
type doItem map[string]string

// TestConformanceTruthTable evaluates every probe of the network-policy-api
// conformance suite's standard-channel tests (Admin tier, Baseline tier and
// their integration with NetworkPolicy) with package reach, over the
// suite's own base manifests and policies read from the module, applying
// the changes each test makes between its probes.
func TestConformanceTruthTable(t *testing.T) {
	root := moduleDir(t, "sigs.k8s.io/network-policy-api")
	files, err := filepath.Glob("testdata/conformance/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no translated conformance tests: %v", err)
	}
	total, passed := 0, 0
	for _, f := range files {
		var c conformanceCase
		readYAML(t, f, &c)
		t.Run(c.Test, func(t *testing.T) {
			w := newWorld(t, filepath.Join(root, "conformance"), c.Manifests)
			for _, s := range c.Steps {
				for _, d := range s.Do {
					if probe, ok := d["probe"]; ok {
						total++
						if err := w.probe(probe); err != nil {
							t.Errorf("%s: %s: %v", s.Name, probe, err)
							continue
						}
						passed++
						continue
					}
					if err := w.change(d); err != nil {
						t.Fatalf("%s: %v: %v", s.Name, d, err)
					}
				}
			}
		})
	}
	t.Logf("conformance (sigs.k8s.io/network-policy-api v0.3.0, standard channel): %d tests, %d/%d probes agree", len(files), passed, total)
	if total != conformanceProbes {
		t.Errorf("the translation holds %d probes, the suite %d", total, conformanceProbes)
	}
}

// world is the cluster state a conformance test runs against.
type world struct {
	namespaces map[string]map[string]string // short name -> labels
	pods       map[string]*reach.Pod        // short ns/pod -> pod
	order      []string
	cnps       []cnp.ClusterNetworkPolicy
	nps        []networkingv1.NetworkPolicy
}

const nsPrefix = "network-policy-conformance-"

func newWorld(t *testing.T, dir string, policyFiles []string) *world {
	w := &world{namespaces: map[string]map[string]string{}, pods: map[string]*reach.Pod{}}
	for _, u := range decodeFile(t, filepath.Join(dir, "base", "manifests.yaml")) {
		if hostNetwork, _, _ := unstructured.NestedBool(u.Object, "spec", "template", "spec", "hostNetwork"); hostNetwork {
			continue // node peers are experimental; such pods are never subjects or pod peers
		}
		switch u.GetKind() {
		case "Namespace":
			w.namespaces[strings.TrimPrefix(u.GetName(), nsPrefix)] = u.GetLabels()
		case "StatefulSet":
			var s appsv1.StatefulSet
			convert(t, u, &s)
			w.addPods(&s)
		}
	}
	for _, f := range policyFiles {
		for _, u := range decodeFile(t, filepath.Join(dir, f)) {
			switch u.GetKind() {
			case "ClusterNetworkPolicy":
				var p cnp.ClusterNetworkPolicy
				convert(t, u, &p)
				w.cnps = append(w.cnps, p)
			case "NetworkPolicy":
				var p networkingv1.NetworkPolicy
				convert(t, u, &p)
				w.nps = append(w.nps, p)
			default:
				t.Fatalf("%s: unexpected %s", f, u.GetKind())
			}
		}
	}
	return w
}

// addPods adds a StatefulSet's pods (NAME-0, NAME-1, ...) with the
// template's labels and container ports, and an address each.
func (w *world) addPods(s *appsv1.StatefulSet) {
	replicas := int32(1)
	if s.Spec.Replicas != nil {
		replicas = *s.Spec.Replicas
	}
	var ports []reach.NamedPort
	for _, c := range s.Spec.Template.Spec.Containers {
		for _, p := range c.Ports {
			proto := p.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			ports = append(ports, reach.NamedPort{Name: p.Name, Port: p.ContainerPort, Protocol: proto})
		}
	}
	for i := range replicas {
		key := strings.TrimPrefix(s.Namespace, nsPrefix) + "/" + s.Name + "-" + strconv.Itoa(int(i))
		labels := map[string]string{}
		for k, v := range s.Spec.Template.Labels {
			labels[k] = v
		}
		// what the StatefulSet controller adds to each pod
		labels["statefulset.kubernetes.io/pod-name"] = s.Name + "-" + strconv.Itoa(int(i))
		labels["apps.kubernetes.io/pod-index"] = strconv.Itoa(int(i))
		ip := netip.AddrFrom4([4]byte{10, 244, byte(len(w.order) / 200), byte(len(w.order)%200 + 10)})
		w.pods[key] = &reach.Pod{Namespace: s.Namespace, Name: s.Name + "-" + strconv.Itoa(int(i)), Labels: labels, IPs: []netip.Addr{ip}, Ports: ports}
		w.order = append(w.order, key)
	}
}

// probe evaluates "ns/pod -> ns/pod PORT/PROTO allow|deny".
func (w *world) probe(s string) error {
	var from, to, port, want string
	if _, err := fmt.Sscanf(s, "%s -> %s %s %s", &from, &to, &port, &want); err != nil {
		return fmt.Errorf("cannot read the probe: %v", err)
	}
	src, dst := w.pods[from], w.pods[to]
	num, proto, ok := strings.Cut(port, "/")
	n, err := strconv.Atoi(num)
	if src == nil || dst == nil || !ok || err != nil {
		return fmt.Errorf("unknown pod or port")
	}
	e, err := w.engine()
	if err != nil {
		return err
	}
	v := e.Evaluate(reach.PodPeer(src), reach.PodPeer(dst), reach.Port{Number: int32(n), Protocol: corev1.Protocol(strings.ToUpper(proto))})
	got := "deny"
	if v.Allowed {
		got = "allow"
	}
	if v.Unknown || got != want {
		return fmt.Errorf("reach says %s (unknown: %v), the suite expects %s; egress %+v, ingress %+v", got, v.Unknown, want, v.Egress.Tiers, v.Ingress.Tiers)
	}
	return nil
}

func (w *world) engine() (*reach.Engine, error) {
	var nss []reach.Namespace
	for name, l := range w.namespaces {
		nss = append(nss, reach.Namespace{Name: nsPrefix + name, Labels: l})
	}
	var pods []*reach.Pod
	for _, k := range w.order {
		pods = append(pods, w.pods[k])
	}
	e, err := reach.New(w.nps, nss, pods)
	if err != nil {
		return nil, err
	}
	return e, e.AddClusterPolicies(w.cnps)
}

func decodeFile(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// The suite renders its manifests as Go templates (host ports of the
	// experimental node tests).
	tmpl, err := template.New(path).Parse(string(b))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, struct{ HostNetworkPorts []int }{[]int{34345, 34346, 34347, 34348, 34349, 34350, 34351, 34352}}); err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(buf.Bytes())
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return objs
}

func convert(t *testing.T, u *unstructured.Unstructured, into any) {
	t.Helper()
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, into); err != nil {
		t.Fatalf("%s %s: %v", u.GetKind(), u.GetName(), err)
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.UnmarshalStrict(b, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

// moduleDir is where the Go module cache holds the required version of
// module (downloaded on demand, as the test control plane does).
func moduleDir(t *testing.T, module string) string {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
	dir := strings.TrimSpace(string(out))
	if err == nil && dir == "" {
		if err = exec.Command("go", "mod", "download", module).Run(); err == nil {
			out, err = exec.Command("go", "list", "-m", "-f", "{{.Dir}}", module).Output()
			dir = strings.TrimSpace(string(out))
		}
	}
	if err != nil || dir == "" {
		t.Fatalf("locating %s: %v", module, err)
	}
	return dir
}
