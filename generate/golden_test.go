package generate_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/examples"
	"github.com/perimeter-dev/perimeter/manifest"
)

var update = flag.Bool("update", false, "rewrite golden files")

// TestExamplesGolden renders every example in every environment and compares
// the YAML with examples/<name>/expected/<env>.yaml.
func TestExamplesGolden(t *testing.T) {
	cases, err := examples.Cases("../examples", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			got := render(t, c.Dir, c.Env)
			golden := filepath.Join(c.Dir, "expected", c.EnvName()+".yaml")
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
				t.Errorf("%s differs from %s; run go test ./generate -update and review the diff", c.Name(), golden)
			}
			if again := render(t, c.Dir, c.Env); !bytes.Equal(got, again) {
				t.Errorf("%s: two renders of the same intent differ", c.Name())
			}
		})
	}
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
	if err := manifest.WriteStream(&buf, generate.ForOutput(objs)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
