package importer

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/perimeter-dev/perimeter/manifest"
)

// FuzzImport feeds arbitrary YAML to the importer: it may refuse the input,
// but must not panic, and HCL it writes must compile (a user commits it).
func FuzzImport(f *testing.F) {
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	for _, in := range inputs {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// policies an API server would refuse: reported, never written
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {matchExpressions: [{key: app, operator: In, values: [a]}]}\n  ingress: [{from: [{ipBlock: {cidr: 999.0.0.0/99}}], ports: [{port: 70000, protocol: FOO}]}]\n"))
	f.Add([]byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: a}\nspec:\n  podSelector: {}\n  policyTypes: [Sideways]\n  egress: [{ports: [{port: http, endPort: 90}], to: [{ipBlock: {cidr: 10.0.0.1/8, except: [11.0.0.0/8]}, podSelector: {}}]}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := manifest.Decode(b)
		if err != nil {
			return
		}
		res, err := Import(objs, testOptions)
		if err == nil {
			compile(t, res.HCL, res.Migration)
		}
	})
}
