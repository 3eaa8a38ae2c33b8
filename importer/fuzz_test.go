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
