package plan

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// listConcurrency bounds the ownership LISTs in flight: on a cluster tens
// of milliseconds away, two LISTs per kind one after the other cost more
// than the objects they return.
const listConcurrency = 8

// listed is the outcome of one ownership LIST.
type listed struct {
	objs   []*unstructured.Unstructured
	unread string
	err    error
}

// listAll sends listKind for every kind and selector at once (bounded)
// and returns the outcomes by kind, then selector, so that the caller
// treats them in the same order as one after the other.
func listAll(ctx context.Context, r Reader, rec *record, req Request, names []string) [][]listed {
	sels := selectors(req)
	out := make([][]listed, len(req.Kinds))
	sem := make(chan struct{}, listConcurrency)
	var wg sync.WaitGroup
	for i, gvk := range req.Kinds {
		out[i] = make([]listed, len(sels))
		for j, sel := range sels {
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				l := &out[i][j]
				l.objs, l.unread, l.err = listKind(ctx, r, rec, gvk, sel, names)
			}()
		}
	}
	wg.Wait()
	return out
}

// dropManagedFields removes the managedFields of the listed members once
// drift was computed from them: they are often half of a live object, and
// the boundary summary and the live lints that follow, with everything
// else a plan holds, set its peak memory. The objects are the plan's own
// reads (a ListMemo shares them only with the same plan's later reads).
func dropManagedFields(owned map[string]*unstructured.Unstructured) {
	for _, o := range owned {
		if md, ok := o.Object["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
	}
}
