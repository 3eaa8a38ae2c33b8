package importer

import (
	"bytes"
	"flag"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

var update = flag.Bool("update", false, "rewrite expected.hcl and report.txt")

var testOptions = Options{Gateway: "infra/public:https", HTTPListener: "http", Stack: "imported"}

// optionsFor are the options a fixture is imported with: testOptions, but
// without the plain-HTTP listener when the input has Gateway objects to
// take it from.
func optionsFor(objs []*unstructured.Unstructured) Options {
	opts := testOptions
	for _, u := range objs {
		if u.GetKind() == "Gateway" {
			opts.HTTPListener = ""
		}
	}
	return opts
}

// TestFixtures imports every testdata/<case>/input.yaml and compares the HCL
// and the report with the expected files; the HCL must compile, and it must
// mean what the input means (routes and policy verdicts).
func TestFixtures(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/input.yaml")
	if err != nil || len(dirs) < 15 {
		t.Fatalf("want at least 15 fixtures, have %d (%v)", len(dirs), err)
	}
	for _, input := range dirs {
		dir := filepath.Dir(input)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			objs := readInput(t, input)
			res, err := Import(objs, optionsFor(objs))
			if err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join(dir, "expected.hcl"), res.HCL)
			golden(t, filepath.Join(dir, "report.txt"), []byte(ReportText(res.Report)))
			goldenOptional(t, filepath.Join(dir, MigrationFile), res.Migration)
			out := compile(t, res.HCL)
			checkRoutes(t, objs, out, optionsFor(objs))
			checkBackendTLS(t, objs, out)
			checkVerdicts(t, objs, out)
			checkMigration(t, objs, compile(t, res.HCL, res.Migration))
			checkL4Routes(t, objs, out)
		})
	}
}

// TestDeterministic imports each fixture's objects in shuffled orders and
// expects byte-identical HCL, and HCL that hclwrite.Format leaves alone.
func TestDeterministic(t *testing.T) {
	dirs, _ := filepath.Glob("testdata/*/input.yaml")
	rnd := rand.New(rand.NewSource(1))
	for _, input := range dirs {
		objs := readInput(t, input)
		first, err := Import(objs, optionsFor(objs))
		if err != nil {
			t.Fatal(err)
		}
		for range 5 {
			shuffled := slices.Clone(objs)
			rnd.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			again, err := Import(shuffled, optionsFor(objs))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.HCL, again.HCL) || !bytes.Equal(first.Migration, again.Migration) || ReportText(first.Report) != ReportText(again.Report) {
				t.Fatalf("%s: output depends on input order", input)
			}
		}
	}
}

func readInput(t *testing.T, path string) []*unstructured.Unstructured {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	return objs
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./importer -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test ./importer -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// goldenOptional is golden for a file the import writes only sometimes:
// when got is nil, the expected file must not exist.
func goldenOptional(t *testing.T, path string, got []byte) {
	t.Helper()
	if got != nil {
		golden(t, path, got)
		return
	}
	if *update {
		_ = os.Remove(path)
	} else if _, err := os.Stat(path); err == nil {
		t.Errorf("%s exists, but the import wrote no such file (run go test ./importer -update to accept)", path)
	}
}

// compile runs the imported HCL through the real pipeline: main.hcl and,
// when given, the migration file beside it.
func compile(t *testing.T, src []byte, migration ...[]byte) []*unstructured.Unstructured {
	t.Helper()
	sources := map[string][]byte{"main.hcl": src}
	for _, m := range migration {
		if m != nil {
			sources[MigrationFile] = m
		}
	}
	files, diags := hclspec.Parse(sources)
	if diags.HasErrors() {
		t.Fatalf("imported HCL does not parse: %s\n%s", diags.Error(), src)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatalf("imported HCL does not decode: %s\n%s", diags.Error(), src)
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatalf("imported HCL does not compile: %s\n%s", diags.Error(), src)
	}
	return objs
}
