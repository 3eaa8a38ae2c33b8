// Package examples lists the example intents under examples/ and the
// environments each declares, so tests over "every example in every
// environment" share one definition of that set.
package examples

import (
	"fmt"
	"path/filepath"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// Case is one example in one environment.
type Case struct {
	Dir string // the example's directory
	Env string // "" when the example declares no environments
}

// Name is "<example>/<env>", with "default" for no environment.
func (c Case) Name() string { return filepath.Base(c.Dir) + "/" + c.EnvName() }

// EnvName is the environment, or "default" when there is none.
func (c Case) EnvName() string {
	if c.Env == "" {
		return "default"
	}
	return c.Env
}

// Cases returns every example below root (a directory holding *.hcl files)
// in every environment it declares, in sorted order. It fails when fewer
// than min examples exist, so a moved folder cannot make tests pass empty.
func Cases(root string, min int) ([]Case, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "*"))
	if err != nil {
		return nil, err
	}
	var out []Case
	found := 0
	for _, dir := range dirs {
		if hcl, _ := filepath.Glob(filepath.Join(dir, "*.hcl")); len(hcl) == 0 {
			continue
		}
		found++
		src, diags := hclspec.ReadDir(dir)
		if diags.HasErrors() {
			return nil, fmt.Errorf("%s: %s", dir, diags.Error())
		}
		envs := hclspec.EnvironmentNames(src)
		if len(envs) == 0 {
			envs = []string{""}
		}
		for _, env := range envs {
			out = append(out, Case{Dir: dir, Env: env})
		}
	}
	if found < min {
		return nil, fmt.Errorf("found %d examples under %s, want at least %d", found, root, min)
	}
	return out, nil
}
