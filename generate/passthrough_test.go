package generate

import (
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
)

func compileString(t *testing.T, src string) ([]string, string) {
	t.Helper()
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		return nil, diags.Error()
	}
	objs, diags := Objects(in)
	if diags.HasErrors() {
		return nil, diags.Error()
	}
	var out []string
	for _, o := range objs {
		out = append(out, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName()+" "+o.GetAnnotations()["perimeter.dev/block"])
	}
	return out, ""
}

func TestPassthroughPolicy(t *testing.T) {
	const head = "perimeter { stack = \"s\" }\nnamespace \"shop\" {}\n"
	objs, errs := compileString(t, head+`policy "legacy" {
  yaml = <<EOT
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: legacy
  namespace: shop
spec:
  podSelector:
    matchExpressions: [{key: app, operator: In, values: [a, b]}]
  policyTypes: [Ingress]
EOT
}
`)
	if errs != "" || len(objs) != 1 || objs[0] != `NetworkPolicy shop/legacy policy "legacy"` {
		t.Fatalf("objects %q, errors %s", objs, errs)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: shop}\n", "Unsupported passthrough object"},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: other}\n", "not manage"},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x}\n", "Incomplete policy"},
		{"spec: [\n", "Invalid policy YAML"},
		// what only the API server caught before: the field path says where
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 999.0.0.0/99}}]}]\n",
			`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "999.0.0.0/99"`},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  egress: [{ports: [{port: 70000}]}]\n",
			`spec.egress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive`},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  egress: [{ports: [{port: 53, protocol: FOO}]}]\n",
			`spec.egress[0].ports[0].protocol: Unsupported value: "FOO": supported values: "TCP", "UDP", "SCTP"`},
		{"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {matchLabels: {\"bad key\": x}}\n  policyTypes: [Sideways]\n",
			`spec.podSelector.matchLabels: Invalid value: "bad key"`},
	} {
		_, errs := compileString(t, head+"policy \"p\" {\n  yaml = <<EOT\n"+bad.yaml+"EOT\n}\n")
		if !strings.Contains(errs, bad.want) {
			t.Errorf("%q: errors %q, want %q", bad.yaml, errs, bad.want)
		}
	}
}
