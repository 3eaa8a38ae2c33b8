package plan

import (
	"context"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
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

// Trimmer is a Reader that lets planning trim the objects of its LISTs
// of the stack's members (see trimManagedFields), page by page where it
// reads through a PagedLister. A reader opts in by implementing it: one
// that wraps another (a ListMemo's, say) must see every LIST.
type Trimmer interface {
	// ListTrimmed is List that calls trim on every object it returns.
	ListTrimmed(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error)
}

// PagedLister lists page by page and calls trim on each object of a page
// before it reads the next, so that what trim drops of thousands of
// objects is never all in memory at once (a live cluster).
type PagedLister interface {
	ListPaged(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error)
}

// listMembers is a LIST of the stack's objects: trimmed when the reader
// opts in, else whole (a reader of rendered manifests holds no
// managedFields to trim).
func listMembers(ctx context.Context, r Reader, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	if t, ok := r.(Trimmer); ok {
		return t.ListTrimmed(ctx, gvk, namespace, selector, newMemberTrim())
	}
	return r.List(ctx, gvk, namespace, selector)
}

// trimManagedFields drops an object's managedFields at once when the
// drift walk would find nothing in them: every entry is perimeter's own
// (and decodes), a subresource's, or another manager's outside spec.
// Objects perimeter applied and nobody else touched, the common case at
// scale, then no longer carry their managedFields (about a third of a
// decoded NetworkPolicy) from the LIST to the end of planning. Whatever
// managedSpecs would report (another manager's spec fields, an entry
// that does not decode) keeps the managedFields for planAll, which
// decides exactly as before; a trimmed object plans as it would have
// (foreignFields of no other manager is empty whatever perimeter owns).
func trimManagedFields(o *unstructured.Unstructured) {
	md, ok := o.Object["metadata"].(map[string]any)
	if !ok || md["managedFields"] == nil {
		return
	}
	if _, others, err := managedSpecs(o); err != nil || len(others) > 0 {
		return
	}
	delete(md, "managedFields")
}

// newMemberTrim is what planning does to each member it lists:
// trimManagedFields, then the object's maps are rebuilt with one copy of
// each map key and of each short string value per LIST (internStrings).
// The JSON decoder allocates every key and string of every object anew:
// "apiVersion", "metadata", "podSelector", "TCP", the stack's labels...
// are 5,000 copies each in a LIST of 5,000 policies, which the members
// keep for the whole plan. One trim serves one LIST (it is not safe for
// concurrent use).
func newMemberTrim() func(*unstructured.Unstructured) {
	in := interner{keys: map[string]string{}, values: map[string]any{}}
	return func(o *unstructured.Unstructured) {
		trimManagedFields(o)
		o.Object = in.tree(o.Object).(map[string]any)
	}
}

// internMax is the longest string value internStrings shares: longer
// ones (UIDs, digests, names) are rarely repeated.
const internMax = 24

// interner shares map keys and short string values between objects.
type interner struct {
	keys   map[string]string
	values map[string]any // the boxed string, so each is boxed once
}

// tree is v with its maps rebuilt on shared keys and short strings; v's
// maps are left as they were (and become garbage).
func (in interner) tree(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			ik, ok := in.keys[k]
			if !ok {
				in.keys[k], ik = k, k
			}
			out[ik] = in.tree(e)
		}
		return out
	case []any:
		for i, e := range t {
			t[i] = in.tree(e)
		}
		return t
	case string:
		if len(t) > internMax {
			return v
		}
		iv, ok := in.values[t]
		if !ok {
			in.values[t], iv = v, v
		}
		return iv
	}
	return v
}
