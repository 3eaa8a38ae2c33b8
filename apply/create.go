package apply

import (
	"context"
	"fmt"
	"slices"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// createOnly is the resourceVersion a planned create is sent with, to make
// it fail if the object appeared after the plan was made. Server-side apply
// has no create-only option, but the API server (generic registry
// Store.Update, v1.37) treats an apply to an absent object as a create and
// wipes the resourceVersion the request carried, while an apply to an
// existing object must carry that object's resourceVersion or fails with
// Conflict. This one is the largest int64: etcd revisions count up from 1
// and never reach it, so no existing object has it. A POST would be
// create-only too, but it records the fields under an Update operation,
// which later applies by the same manager would conflict with.
const createOnly = "9223372036854775807"

// create sends a planned create; it never merges into an object that
// appeared since the plan, whoever made it (two stacks write as the same
// field manager, so a plain apply would silently take the other's object).
func (r *runner) create(ctx context.Context, c plan.Change) error {
	obj := c.DesiredObject().DeepCopy()
	obj.SetResourceVersion(createOnly)
	made, err := r.c.ServerSideApply(ctx, obj, r.opts.Force)
	if err == nil {
		r.made(c, made)
		return nil
	}
	r.createFailed(err)
	if !apierrors.IsConflict(err) {
		return err
	}
	// A field conflict comes before the resourceVersion check: either
	// way the object exists now.
	live, gerr := r.c.Get(ctx, c.GVK(), c.Namespace, c.Name)
	if gerr != nil || live == nil {
		return err
	}
	return appearedError{owner: owner(live)}
}

// appearedError says a planned create found the object already there.
type appearedError struct{ owner string }

func (e appearedError) Error() string {
	return fmt.Sprintf("it appeared after the plan was made and %s; perimeter never takes over an object it did not create, so nothing was written to it. Rename the object in the intent or remove the existing one, then plan again", e.owner)
}

// owner says whose an object is: the stack its labels name, else the
// field managers that wrote it.
func owner(obj *unstructured.Unstructured) string {
	var managers []string
	for _, mf := range obj.GetManagedFields() {
		if !slices.Contains(managers, mf.Manager) {
			managers = append(managers, mf.Manager)
		}
	}
	slices.Sort(managers)
	by := ""
	if len(managers) > 0 {
		by = " (field managers: " + strings.Join(managers, ", ") + ")"
	}
	if st := obj.GetLabels()[ownership.LabelStack]; st != "" {
		return fmt.Sprintf("belongs to stack %q%s", st, by)
	}
	if by != "" {
		return "is not managed by perimeter: written by" + strings.TrimSuffix(strings.TrimPrefix(by, " (field managers:"), ")")
	}
	return "is not managed by perimeter"
}
