package overlay_test

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// compileAll compiles the intent once per environment.
func compileAll(t *testing.T, files map[string][]byte) []overlay.Environment {
	t.Helper()
	src, diags := hclspec.Parse(files)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	var envs []overlay.Environment
	for _, name := range hclspec.EnvironmentNames(src) {
		in, diags := hclspec.Decode(src, hclspec.Options{Env: name})
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		objs, diags := generate.Objects(in)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		envs = append(envs, overlay.Environment{Name: name, Objects: generate.ForOutput(objs)})
	}
	return envs
}

// build runs kustomize (krusty, as `kustomize build` does) on one overlay.
func build(t *testing.T, tree manifest.Tree, env string) map[string]string {
	t.Helper()
	fs := filesys.MakeFsInMemory()
	for p, b := range tree {
		if err := fs.WriteFile("/out/"+p, b); err != nil {
			t.Fatal(err)
		}
	}
	res, err := krusty.MakeKustomizer(krusty.MakeDefaultOptions()).Run(fs, "/out/overlays/"+env)
	if err != nil {
		t.Fatalf("kustomize build overlays/%s: %v", env, err)
	}
	out := map[string]string{}
	for _, r := range res.Resources() {
		m, err := r.Map()
		if err != nil {
			t.Fatal(err)
		}
		u := &unstructured.Unstructured{Object: m}
		out[id(u)] = canonical(t, m)
	}
	return out
}

func rendered(t *testing.T, objs []*unstructured.Unstructured) map[string]string {
	out := map[string]string{}
	for _, o := range objs {
		out[id(o)] = canonical(t, o.Object)
	}
	return out
}

func id(o *unstructured.Unstructured) string {
	return o.GetKind() + " " + o.GetNamespace() + "/" + o.GetName()
}

// canonical renders an object as JSON with sorted keys, so numbers and
// key order cannot make equal objects look different.
func canonical(t *testing.T, m map[string]any) string {
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	json.Unmarshal(b, &v)
	b, _ = json.Marshal(v)
	return string(b)
}

// equivalent checks the defining property: every overlay builds to exactly
// the objects render --env prints, field for field.
func equivalent(t *testing.T, envs []overlay.Environment) manifest.Tree {
	t.Helper()
	tree, err := overlay.Build(envs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range envs {
		got, want := build(t, tree, e.Name), rendered(t, e.Objects)
		for k, w := range want {
			if got[k] != w {
				t.Errorf("%s: %s differs\nkustomize: %s\nrender:    %s", e.Name, k, got[k], w)
			}
		}
		for k := range got {
			if _, ok := want[k]; !ok {
				t.Errorf("%s: kustomize builds %s, which render does not produce", e.Name, k)
			}
		}
	}
	return tree
}

func TestExamplesOverlaysEqualRender(t *testing.T) {
	dirs, _ := filepath.Glob("../../examples/*")
	checked := 0
	for _, dir := range dirs {
		paths, _ := filepath.Glob(filepath.Join(dir, "*.hcl"))
		files := map[string][]byte{}
		for _, p := range paths {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			files[filepath.Base(p)] = b
		}
		if len(files) == 0 {
			continue
		}
		src, _ := hclspec.Parse(files)
		if len(hclspec.EnvironmentNames(src)) == 0 {
			continue
		}
		t.Run(filepath.Base(dir), func(t *testing.T) {
			tree := equivalent(t, compileAll(t, files))
			again := equivalent(t, compileAll(t, files))
			for _, p := range tree.Paths() {
				if string(tree[p]) != string(again[p]) {
					t.Errorf("%s differs between two renders", p)
				}
			}
		})
		checked++
	}
	if checked == 0 {
		t.Fatal("no example with environments")
	}
}

// TestRandomIntentsOverlaysEqualRender generates intents whose environments
// differ in values, names and presence of objects, and checks the property.
func TestRandomIntentsOverlaysEqualRender(t *testing.T) {
	patches, extras := 0, 0
	for seed := int64(1); seed <= 40; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			src := randomIntent(rand.New(rand.NewSource(seed)))
			tree := equivalent(t, compileAll(t, map[string][]byte{"main.hcl": []byte(src)}))
			for _, p := range tree.Paths() {
				switch {
				case strings.Contains(p, "/patches/"):
					patches++
				case strings.HasPrefix(p, "overlays/") && !strings.HasSuffix(p, "kustomization.yaml"):
					extras++
				}
			}
		})
	}
	// the generator must exercise both ways environments differ
	if patches == 0 || extras == 0 {
		t.Fatalf("random intents made %d patches and %d overlay-only resources", patches, extras)
	}
	t.Logf("40 random intents: %d patches, %d overlay-only resources", patches, extras)
}

// randomIntent writes an intent with 2-4 environments that set variables
// used in hostnames, paths, ports, weights, CIDRs and object names.
func randomIntent(r *rand.Rand) string {
	var b strings.Builder
	b.WriteString("perimeter {\n  stack = \"rnd\"\n}\n")
	nEnv := 2 + r.Intn(3)
	nSvc := 1 + r.Intn(5)
	vars := []string{"domain", "suffix", "port", "weight", "block", "path"}
	for _, v := range vars {
		fmt.Fprintf(&b, "variable %q {}\n", v)
	}
	for e := 0; e < nEnv; e++ {
		fmt.Fprintf(&b, "environment \"env%d\" {\n  variables = {\n", e)
		fmt.Fprintf(&b, "    domain = \"%s.example.com\"\n", pick(r, "a", "b", "c"))
		fmt.Fprintf(&b, "    suffix = %q\n", pick(r, "x", "y", "x"))
		fmt.Fprintf(&b, "    port = %d\n", pickInt(r, 80, 8080, 443))
		fmt.Fprintf(&b, "    weight = %d\n", r.Intn(100))
		fmt.Fprintf(&b, "    block = \"%d.%d.0.0/16\"\n", 10+r.Intn(3), r.Intn(4))
		fmt.Fprintf(&b, "    path = %q\n", pick(r, "/a", "/b", "/a/b"))
		b.WriteString("  }\n}\n")
	}
	b.WriteString("gateway \"gw\" {\n  namespace = \"infra\"\n  implementation = \"istio\"\n}\n")
	nss := []string{"ns1", "ns2"}
	for _, ns := range nss {
		fmt.Fprintf(&b, "namespace %q {\n  default_deny = %s\n}\n", ns, pick(r, `["ingress"]`, `["ingress", "egress"]`, `[]`))
	}
	for i := 0; i < nSvc; i++ {
		fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = %q\n  selector = { app = \"s%d\" }\n  port = 80\n  target_port = %s\n}\n",
			i, nss[r.Intn(2)], i, pick(r, "var.port", "8080", "\"http\""))
	}
	for i := 0; i < 1+r.Intn(3); i++ {
		a, c := r.Intn(nSvc), r.Intn(nSvc)
		fmt.Fprintf(&b, "route \"r%d\" {\n  name = \"r%d-${var.suffix}\"\n  namespace = \"ns1\"\n  gateway = gateway.gw\n  hostnames = [\"r%d.${var.domain}\"]\n", i, i, i)
		fmt.Fprintf(&b, "  rule {\n    path = var.path\n    backends = [{ service = service.s%d, weight = var.weight }, { service = service.s%d, weight = 100 - var.weight }]\n  }\n}\n", a, c)
	}
	for i := 0; i < r.Intn(4); i++ {
		fmt.Fprintf(&b, "allow \"a%d\" {\n  from = service.s%d\n  to = %s\n}\n", i, r.Intn(nSvc),
			pick(r, "cidr(var.block)", fmt.Sprintf("service.s%d", r.Intn(nSvc))))
	}
	return b.String()
}

func pick(r *rand.Rand, options ...string) string { return options[r.Intn(len(options))] }

func pickInt(r *rand.Rand, options ...int) int { return options[r.Intn(len(options))] }
