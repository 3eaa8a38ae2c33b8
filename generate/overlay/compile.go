package overlay

import (
	"fmt"
	"runtime"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// Render compiles every environment the intent declares, on every core,
// and lays out the tree, as Build would from the compiled environments,
// byte for byte. It holds less: as soon as an environment is compiled it
// is measured against the first one, and the objects it shares with it are
// let go. On errors in the intent the tree is nil and the diagnostics say
// why.
func Render(src *hclspec.Sources, opts hclspec.Options) (manifest.Tree, hcl.Diagnostics, error) {
	names := hclspec.EnvironmentNames(src)
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("no environments to render")
	}
	rs := make([]reduced, len(names))
	var first map[string]*unstructured.Unstructured
	firstDone := make(chan struct{})
	diags := compileEach(src, opts, names, func(i int, e Environment, failed bool) {
		if i == 0 {
			defer close(firstDone)
			if !failed {
				first = index(e.Objects)
				rs[0] = reduce(e, first)
			}
			return
		}
		<-firstDone
		if first != nil && !failed {
			rs[i] = reduce(e, first)
		}
	})
	if diags.HasErrors() {
		return nil, diags, nil
	}
	t, err := build(rs)
	return t, diags, err
}

// compileEach compiles the named environments, as many at once as there
// are cores, starting them in order, and hands each result to done from
// the environment's goroutine once its core is free for the next compile
// (failed: the environment's diagnostics hold errors).
func compileEach(src *hclspec.Sources, opts hclspec.Options, names []string, done func(i int, e Environment, failed bool)) hcl.Diagnostics {
	diags := make([]hcl.Diagnostics, len(names))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	if opts.Shared == nil && len(names) > 1 {
		opts.Shared = hclspec.NewShared(src) // most blocks are the same in every environment
	}
	for i, name := range names {
		sem <- struct{}{}
		wg.Go(func() {
			envOpts := opts
			envOpts.Env = name
			in, d := hclspec.Decode(src, envOpts)
			e := Environment{Name: name}
			if in != nil {
				objs, gd := generate.Objects(in)
				d = append(d, gd...)
				generate.ForOutput(objs)
				e.Objects = objs // nil on errors
			}
			<-sem // done may wait (Render's wait for the first environment); let the next compile start
			diags[i] = d
			done(i, e, d.HasErrors())
		})
	}
	wg.Wait()
	var all hcl.Diagnostics
	for _, d := range diags {
		all = append(all, d...)
	}
	return all
}
