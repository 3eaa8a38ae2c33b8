package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// Access is one request a run needs to make: a verb on a kind in a
// namespace ("" for cluster-scoped kinds).
type Access struct {
	Verb      string
	GVK       schema.GroupVersionKind
	Namespace string
}

// Authorizer is implemented by clusters that can say, before any write,
// whether the identity may make each request (a live cluster, through
// SelfSubjectAccessReview). Run then refuses a plan it could carry out
// only in part, instead of leaving a half-applied stack.
type Authorizer interface {
	// Denied returns the accesses the identity may not make, worded as
	// "verb resource in namespace ns", sorted.
	Denied(ctx context.Context, accesses []Access) ([]string, error)
	// Identity is the user the cluster knows the client as ("" if unknown).
	Identity(ctx context.Context) string
}

// DeniedError refuses a run the identity is not allowed to carry out in
// full; nothing was written.
type DeniedError struct {
	Identity string
	Denied   []string
}

// Error lists every request the identity may not make.
func (e *DeniedError) Error() string {
	who := "this identity"
	if e.Identity != "" {
		who = fmt.Sprintf("identity %q", e.Identity)
	}
	return fmt.Sprintf("refused before any write: %s may not make every request the plan needs, so applying it would leave the stack half applied; nothing was changed. Missing permissions (grant them, or apply with an identity that has them):\n  cannot %s",
		who, strings.Join(e.Denied, "\n  cannot "))
}

// preflight reads the ApplySet parent and, when c can tell, asks whether
// every request of the run is allowed, all at once (one round trip, not
// three); it refuses the run before any write when a request is not
// allowed. It returns the parent as read, for checkEnvironment and the
// parent's first write: a missing permission is reported before an
// error reading it.
func (r *runner) preflight(ctx context.Context) (parentRead, error) {
	parent := make(chan parentRead, 1)
	go func() {
		obj, err := r.c.Get(ctx, ownership.ParentGVK, r.p.StateNamespace, ownership.ParentName(r.p.Stack))
		parent <- parentRead{obj, err}
	}()
	az, ok := r.c.(Authorizer)
	if !ok {
		return <-parent, nil
	}
	// Creating the parent needs create, but only when it does not exist
	// yet: that review is asked alongside and counts only then.
	create := make(chan deniedOrErr, 1)
	go func() {
		d, err := az.Denied(ctx, []Access{with(Access{GVK: ownership.ParentGVK, Namespace: r.p.StateNamespace}, "create")})
		create <- deniedOrErr{d, err}
	}()
	denied, err := az.Denied(ctx, r.accesses())
	cur, cr := <-parent, <-create
	if err == nil && (cur.err != nil || cur.obj == nil) {
		denied, err = append(denied, cr.denied...), cr.err
		sort.Strings(denied)
	}
	if err != nil {
		return parentRead{}, fmt.Errorf("checking permissions before any write: %w; nothing was changed", err)
	}
	if len(denied) == 0 {
		return cur, nil
	}
	return parentRead{}, &DeniedError{Identity: az.Identity(ctx), Denied: denied}
}

// parentRead is the ApplySet parent as read before any write: nil when
// it does not exist, or the error reading it.
type parentRead struct {
	obj *unstructured.Unstructured
	err error
}

type deniedOrErr struct {
	denied []string
	err    error
}

// accesses are the requests the run makes: server-side apply (patch, and
// create for an object that does not exist yet) for creates and updates,
// delete for deletes, and reading and writing the ApplySet parent
// (creating it is asked apart, in preflight).
func (r *runner) accesses() []Access {
	var out []Access
	for _, c := range r.p.Changes {
		a := Access{GVK: c.GVK(), Namespace: c.Namespace}
		switch c.Action {
		case plan.Create:
			out = append(out, with(a, "create"), with(a, "patch"))
		case plan.Update:
			out = append(out, with(a, "patch"))
		case plan.Delete:
			out = append(out, with(a, "delete"))
		}
	}
	parent := Access{GVK: ownership.ParentGVK, Namespace: r.p.StateNamespace}
	out = append(out, with(parent, "get"), with(parent, "patch"))
	if r.opts.DeleteParent {
		out = append(out, with(parent, "delete"))
	}
	return out
}

func with(a Access, verb string) Access {
	a.Verb = verb
	return a
}
