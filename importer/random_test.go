package importer

import (
	"fmt"
	"math/rand"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRandomInputs imports randomly generated Services, Ingresses and
// NetworkPolicies and checks the properties the fixtures check: the intent
// compiles, its routes carry the Ingresses' host/path/backend tuples, its
// policies give the input's verdicts, and the output does not depend on
// input order.
func TestRandomInputs(t *testing.T) {
	n := 200
	if testing.Short() {
		n = 30
	}
	for seed := range n {
		rnd := rand.New(rand.NewSource(int64(seed)))
		objs := randomObjects(rnd)
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			res, err := Import(objs, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			out := compile(t, res.HCL)
			checkRoutes(t, objs, out, testOptions)
			checkBackendTLS(t, objs, out)
			checkVerdicts(t, objs, out)
			checkMigration(t, objs, compile(t, res.HCL, res.Migration))
			rnd.Shuffle(len(objs), func(i, j int) { objs[i], objs[j] = objs[j], objs[i] })
			again, err := Import(objs, testOptions)
			if err != nil || string(again.HCL) != string(res.HCL) || string(again.Migration) != string(res.Migration) {
				t.Fatalf("output depends on input order (%v)", err)
			}
		})
	}
}

var (
	randNamespaces = []string{"shop", "data"}
	randApps       = []string{"web", "api", "db"}
	randHosts      = []string{"", "a.example.com", "b.example.com"}
	randPaths      = []string{"/", "/api", "/api/v1"}
)

func pick[T any](rnd *rand.Rand, xs []T) T { return xs[rnd.Intn(len(xs))] }

func obj(m map[string]any) *unstructured.Unstructured { return &unstructured.Unstructured{Object: m} }

func randomObjects(rnd *rand.Rand) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, ns := range randNamespaces {
		for _, app := range randApps {
			if rnd.Intn(4) == 0 {
				continue
			}
			out = append(out, obj(map[string]any{"apiVersion": "v1", "kind": "Service",
				"metadata": map[string]any{"name": app, "namespace": ns},
				"spec": map[string]any{"selector": map[string]any{"app": app},
					"ports": []any{map[string]any{"port": int64(80), "targetPort": int64(8000 + rnd.Intn(3))}}}}))
		}
	}
	for i := range rnd.Intn(4) {
		out = append(out, randomIngress(rnd, i)...)
	}
	for i := range rnd.Intn(5) {
		out = append(out, randomPolicy(rnd, i))
	}
	return out
}

func randomIngress(rnd *rand.Rand, i int) []*unstructured.Unstructured {
	ns := pick(rnd, randNamespaces)
	host, path := pick(rnd, randHosts), pick(rnd, randPaths)
	pathType := pick(rnd, []string{"Prefix", "Exact", "ImplementationSpecific"})
	rule := func(app string) []any {
		return []any{map[string]any{"host": host, "http": map[string]any{"paths": []any{map[string]any{
			"path": path, "pathType": pathType,
			"backend": map[string]any{"service": map[string]any{"name": app, "port": map[string]any{"number": int64(80)}}}}}}}}
	}
	primary := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
		"metadata": map[string]any{"name": fmt.Sprintf("ing%d", i), "namespace": ns},
		"spec":     map[string]any{"rules": rule(pick(rnd, randApps))}}
	if rnd.Intn(4) == 0 {
		primary["spec"].(map[string]any)["defaultBackend"] = map[string]any{"service": map[string]any{"name": pick(rnd, randApps), "port": map[string]any{"number": int64(80)}}}
	}
	if rnd.Intn(3) == 0 {
		primary["metadata"].(map[string]any)["annotations"] = map[string]any{"nginx.ingress.kubernetes.io/rewrite-target": "/"}
	}
	if rnd.Intn(3) == 0 && host != "" {
		primary["spec"].(map[string]any)["tls"] = []any{map[string]any{"hosts": []any{host}, "secretName": "tls"}}
	}
	ann, _ := primary["metadata"].(map[string]any)["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
	}
	if k := pick(rnd, []string{"", "", "ssl-redirect", "force-ssl-redirect"}); k != "" {
		ann["nginx.ingress.kubernetes.io/"+k] = pick(rnd, []string{"true", "false"})
	}
	if rnd.Intn(4) == 0 {
		ann["nginx.ingress.kubernetes.io/enable-cors"] = "true"
		ann["nginx.ingress.kubernetes.io/cors-allow-origin"] = pick(rnd, []string{"*", "https://a.example.com", "https://*.example.com, ftp://x"})
	}
	if rnd.Intn(5) == 0 {
		ann["nginx.ingress.kubernetes.io/backend-protocol"] = "HTTPS"
		ann["nginx.ingress.kubernetes.io/proxy-ssl-verify"] = pick(rnd, []string{"on", "off"})
	}
	if len(ann) > 0 {
		primary["metadata"].(map[string]any)["annotations"] = ann
	}
	out := []*unstructured.Unstructured{obj(primary)}
	if rnd.Intn(2) == 0 {
		ann := map[string]any{"nginx.ingress.kubernetes.io/canary": "true"}
		if rnd.Intn(2) == 0 {
			ann["nginx.ingress.kubernetes.io/canary-weight"] = fmt.Sprint(rnd.Intn(101))
		}
		if rnd.Intn(2) == 0 {
			ann["nginx.ingress.kubernetes.io/canary-by-header"] = "X-Canary"
		}
		out = append(out, obj(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
			"metadata": map[string]any{"name": fmt.Sprintf("ing%d-canary", i), "namespace": ns, "annotations": ann},
			"spec":     map[string]any{"rules": rule(pick(rnd, randApps))}}))
	}
	return out
}

func randomPolicy(rnd *rand.Rand, i int) *unstructured.Unstructured {
	spec := map[string]any{"podSelector": randomSelector(rnd, true)}
	var types []any
	for _, dir := range []string{"Ingress", "Egress"} {
		if rnd.Intn(2) == 0 {
			continue
		}
		types = append(types, dir)
		var rules []any
		for range rnd.Intn(3) {
			rules = append(rules, randomRule(rnd, dir))
		}
		if len(rules) > 0 {
			spec[map[string]string{"Ingress": "ingress", "Egress": "egress"}[dir]] = rules
		}
	}
	if rnd.Intn(4) > 0 {
		spec["policyTypes"] = types
	}
	return obj(map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": fmt.Sprintf("pol%d", i), "namespace": pick(rnd, randNamespaces)}, "spec": spec})
}

func randomSelector(rnd *rand.Rand, allowEmpty bool) map[string]any {
	switch rnd.Intn(5) {
	case 0:
		if allowEmpty {
			return map[string]any{}
		}
	case 1:
		return map[string]any{"matchExpressions": []any{map[string]any{"key": "app", "operator": "In", "values": []any{"web", "api"}}}}
	case 2:
		return map[string]any{"matchLabels": map[string]any{"app": pick(rnd, randApps), "tier": "x"}}
	}
	return map[string]any{"matchLabels": map[string]any{"app": pick(rnd, randApps)}}
}

func randomRule(rnd *rand.Rand, dir string) map[string]any {
	var peers []any
	for range rnd.Intn(3) {
		switch rnd.Intn(5) {
		case 0:
			peers = append(peers, map[string]any{"ipBlock": map[string]any{"cidr": "10.0.0.0/8", "except": []any{"10.1.0.0/16"}}})
		case 1:
			peers = append(peers, map[string]any{"ipBlock": map[string]any{"cidr": "203.0.113.0/24"}})
		case 2:
			peers = append(peers, map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"kubernetes.io/metadata.name": pick(rnd, randNamespaces)}}})
		case 3:
			peers = append(peers, map[string]any{"podSelector": randomSelector(rnd, true)})
		default:
			peers = append(peers, map[string]any{"namespaceSelector": map[string]any{"matchLabels": map[string]any{"team": "x"}}, "podSelector": randomSelector(rnd, false)})
		}
	}
	var ports []any
	for range rnd.Intn(3) {
		p := map[string]any{"protocol": pick(rnd, []string{"TCP", "UDP"})}
		switch rnd.Intn(4) {
		case 0:
			p["port"] = int64(8000 + rnd.Intn(3))
		case 1:
			p["port"], p["endPort"] = int64(8000), int64(8001+rnd.Intn(3))
		case 2:
			p["port"] = "http"
		}
		ports = append(ports, p)
	}
	rule := map[string]any{}
	key := map[string]string{"Ingress": "from", "Egress": "to"}[dir]
	if peers != nil {
		rule[key] = peers
	}
	if ports != nil {
		rule["ports"] = ports
	}
	return rule
}
