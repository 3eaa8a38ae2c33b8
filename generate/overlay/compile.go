package overlay

import (
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// maxConcurrentEnvs bounds how many environments compile at once: each
// holds a decoded intent while it compiles.
const maxConcurrentEnvs = 4

// Compile compiles the intent once per declared environment, all at once
// up to maxConcurrentEnvs (the parsed files are only read). More
// environments than cores still run together so the cores stay busy to the
// end: three environments on two cores take 1.5 compiles, not 2.
// Diagnostics of all environments are returned together; on errors the
// environments are nil.
func Compile(src *hclspec.Sources, vars map[string]string) ([]Environment, hcl.Diagnostics) {
	names := hclspec.EnvironmentNames(src)
	envs := make([]Environment, len(names))
	diags := make([]hcl.Diagnostics, len(names))
	sem := make(chan struct{}, max(runtime.GOMAXPROCS(0), maxConcurrentEnvs))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int, name string) {
			defer wg.Done()
			defer func() { <-sem }()
			in, d := hclspec.Decode(src, hclspec.Options{Env: name, Vars: vars})
			if in != nil {
				objs, gd := generate.Objects(in)
				d = append(d, gd...)
				envs[i] = Environment{Name: name, Objects: objs}
			}
			diags[i] = d
		}(i, name)
	}
	wg.Wait()
	var all hcl.Diagnostics
	for _, d := range diags {
		all = append(all, d...)
	}
	if all.HasErrors() {
		return nil, all
	}
	return envs, all
}
