package apply

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/perimeter-dev/perimeter/plan"
)

// retake applies an object whose plan shows fields other field managers
// took over (plan.Change.RepairsDrift): a server-side apply with force, so
// perimeter owns them again and their values are the intent's, whose
// metadata.resourceVersion is rv, the version the plan read (or the one
// the removal of added fields left). The API server applies it only to
// that version (409 otherwise), so force takes back exactly what the plan
// showed, from the object the plan showed it on, or nothing. It returns
// why it failed, or "".
func (r *runner) retake(ctx context.Context, c plan.Change, rv string) string {
	obj := c.DesiredObject().DeepCopy()
	obj.SetResourceVersion(rv)
	_, err := r.c.ServerSideApply(ctx, obj, true)
	switch {
	case err == nil:
		return ""
	case apierrors.IsConflict(err):
		done := "nothing was applied"
		if len(c.Removals) > 0 {
			done = "the intent was not applied (the fields other managers added, " + strings.Join(c.Removals, ", ") + ", were removed)"
		}
		return fmt.Sprintf("the object changed since the plan was made (resourceVersion %s): the fields other managers took over (%s) were not taken back and %s; run plan again",
			c.Live.ResourceVersion, strings.Join(driftPaths(c), ", "), done)
	}
	return explain(err)
}

// driftPaths are the fields the plan shows as changed by another manager.
func driftPaths(c plan.Change) []string {
	var out []string
	for _, f := range c.Fields {
		if f.Drift && f.Manager != "" {
			out = append(out, f.Path)
		}
	}
	return out
}
