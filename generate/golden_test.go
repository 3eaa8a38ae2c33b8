package generate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestExamplesGolden renders every example in every environment and compares
// the YAML with examples/<name>/expected/<env>.yaml.
func TestExamplesGolden(t *testing.T) {
	dirs, err := filepath.Glob("../examples/*")
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, dir := range dirs {
		if hcl, _ := filepath.Glob(filepath.Join(dir, "*.hcl")); len(hcl) == 0 {
			continue
		}
		found++
		src, diags := hclspec.ReadDir(dir)
		if diags.HasErrors() {
			t.Fatalf("%s: %s", dir, diags.Error())
		}
		envs := hclspec.EnvironmentNames(src)
		if len(envs) == 0 {
			envs = []string{""}
		}
		for _, env := range envs {
			name := filepath.Base(dir) + "/" + envName(env)
			t.Run(name, func(t *testing.T) {
				got := render(t, dir, env)
				golden := filepath.Join(dir, "expected", envName(env)+".yaml")
				if *update {
					if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
						t.Fatal(err)
					}
					if err := os.WriteFile(golden, got, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run go test ./generate -update)", err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s differs from %s; run go test ./generate -update and review the diff", name, golden)
				}
				if again := render(t, dir, env); !bytes.Equal(got, again) {
					t.Errorf("%s: two renders of the same intent differ", name)
				}
			})
		}
	}
	if found < 3 {
		t.Fatalf("found %d examples, want at least 3", found)
	}
}

func envName(env string) string {
	if env == "" {
		return "default"
	}
	return env
}

func render(t *testing.T, dir, env string) []byte {
	t.Helper()
	in, _, diags := hclspec.Load(dir, hclspec.Options{Env: env})
	if diags.HasErrors() {
		t.Fatalf("%s: %s", dir, diags.Error())
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatalf("%s: %s", dir, diags.Error())
	}
	var buf bytes.Buffer
	if err := manifest.WriteStream(&buf, objs); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
