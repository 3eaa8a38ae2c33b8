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
// byte for byte. It holds less: every environment is decoded first, so
// that nothing of Render refers to src's syntax trees while the objects
// are generated (a caller that lets go of src too lets them be collected);
// as soon as an environment's objects are generated they are measured
// against the first environment's, and the ones they share are let go. On
// errors in the intent the tree is nil and the diagnostics say why.
func Render(src *hclspec.Sources, opts hclspec.Options) (manifest.Tree, hcl.Diagnostics, error) {
	names := hclspec.EnvironmentNames(src)
	if len(names) == 0 {
		return nil, nil, fmt.Errorf("no environments to render")
	}
	intents, diags := decodeEach(src, opts, names)
	if afterDecode != nil {
		afterDecode()
	}
	rs := make([]reduced, len(names))
	var first map[string]*unstructured.Unstructured
	firstDone := make(chan struct{})
	generateEach(intents, names, diags, func(i int, e Environment, failed bool) {
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
	var all hcl.Diagnostics
	for _, d := range diags {
		all = append(all, d...)
	}
	if all.HasErrors() {
		return nil, all, nil
	}
	t, err := build(rs)
	return t, all, err
}

// afterDecode, when set (by tests), runs once every environment is decoded.
var afterDecode func()

// decodeEach decodes the named environments, as many at once as there are
// cores, sharing the blocks that are the same in every environment; the
// intents are nil where decoding gave none.
func decodeEach(src *hclspec.Sources, opts hclspec.Options, names []string) ([]*hclspec.Intent, []hcl.Diagnostics) {
	intents := make([]*hclspec.Intent, len(names))
	diags := make([]hcl.Diagnostics, len(names))
	if opts.Shared == nil && len(names) > 1 {
		opts.Shared = hclspec.NewShared(src) // most blocks are the same in every environment
	}
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			envOpts := opts
			envOpts.Env = name
			intents[i], diags[i] = hclspec.Decode(src, envOpts)
		})
	}
	wg.Wait()
	return intents, diags
}

// generateEach generates the objects of the decoded environments, as many
// at once as there are cores, starting them in order, adds the generator's
// diagnostics to each environment's, and hands each result to done from
// the environment's goroutine once its core is free for the next one
// (failed: the environment's diagnostics hold errors). An intent is let go
// once its objects are generated.
func generateEach(intents []*hclspec.Intent, names []string, diags []hcl.Diagnostics, done func(i int, e Environment, failed bool)) {
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, name := range names {
		sem <- struct{}{}
		wg.Go(func() {
			e := Environment{Name: name}
			if in := intents[i]; in != nil {
				intents[i] = nil
				objs, gd := generate.Objects(in)
				diags[i] = append(diags[i], gd...)
				generate.ForOutput(objs)
				e.Objects = objs // nil on errors
			}
			<-sem // done may wait (Render's wait for the first environment); let the next one start
			done(i, e, diags[i].HasErrors())
		})
	}
	wg.Wait()
}
