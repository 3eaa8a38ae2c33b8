package plan

import (
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// releaser lets go of the content of the stack's live objects once they
// are planned. A member is read by planObject (against its desired
// object) and by the boundary summary, and after that only for what
// identifies it: the later reads of the same plan (the live lints, through
// the ListMemo that holds the very same objects) skip the stack's own
// objects by their labels, and a change keeps copies of what it shows.
// Holding every member whole until the plan is shown was a quarter of a
// plan's live heap (about 5 KB per NetworkPolicy).
type releaser struct {
	// liveRead is closed when the boundary summary has read the live
	// objects (readBoundary): nothing is released before.
	liveRead chan struct{}
	mu       sync.Mutex
	waiting  []*unstructured.Unstructured
}

// release hollows a planned member now, or once the summary has read the
// live objects.
func (r *releaser) release(live *unstructured.Unstructured) {
	if r == nil {
		return
	}
	select {
	case <-r.liveRead:
		hollow(live)
	default:
		r.mu.Lock()
		r.waiting = append(r.waiting, live)
		r.mu.Unlock()
	}
}

// flush hollows the members planned before the summary had read the live
// objects, waiting for it to have read them.
func (r *releaser) flush() {
	<-r.liveRead
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, o := range r.waiting {
		hollow(o)
	}
	r.waiting = nil
}

// hollow replaces a namespaced object's content with what identifies it:
// apiVersion, kind, and metadata's name, namespace, uid, resourceVersion
// and labels. The maps are replaced, not emptied, so a change that kept a
// value from the object still holds it as read. Cluster-scoped objects
// (namespaces, cluster policies) are few and kept whole.
func hollow(o *unstructured.Unstructured) {
	md, _ := o.Object["metadata"].(map[string]any)
	if md == nil || md["namespace"] == nil || md["namespace"] == "" {
		return
	}
	kept := make(map[string]any, 5)
	for _, k := range []string{"name", "namespace", "uid", "resourceVersion", "labels"} {
		if v, ok := md[k]; ok {
			kept[k] = v
		}
	}
	o.Object = map[string]any{"apiVersion": o.Object["apiVersion"], "kind": o.Object["kind"], "metadata": kept}
}
