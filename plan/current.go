package plan

import (
	"context"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// StaleError says the cluster moved since the plan was made.
type StaleError struct{ Reasons []string }

func (e *StaleError) Error() string {
	return "the plan is stale; run plan again:\n  " + strings.Join(e.Reasons, "\n  ")
}

// CheckCurrent verifies that the cluster is still as the plan read it:
// every object it read has the same UID and resourceVersion, no object it
// would create exists, and the stack owns nothing the plan did not see.
// It costs the same LIST requests as planning.
func CheckCurrent(ctx context.Context, r Reader, p *Plan, kinds []schema.GroupVersionKind, ownerSelector string, owned func(*unstructured.Unstructured) bool) error {
	req := Request{Kinds: kinds, OwnerSelector: ownerSelector, Owned: owned}
	for _, c := range p.Changes {
		if c.Action == Create {
			req.Desired = append(req.Desired, c.DesiredObject())
		}
	}
	live, err := listOwned(ctx, r, req)
	if err != nil {
		return err
	}
	var reasons []string
	problems, err := checkUnowned(ctx, r, req, live)
	if err != nil {
		return err
	}
	for _, pr := range problems {
		reasons = append(reasons, pr.Object+" now exists and is not owned by this stack")
	}
	seen := map[string]bool{}
	for _, c := range p.Changes {
		k := c.Kind + "/" + c.Namespace + "/" + c.Name
		seen[k] = true
		cur := live[k]
		switch {
		case c.Live == nil && cur != nil:
			reasons = append(reasons, c.ID()+" was created since the plan was made")
		case c.Live != nil && cur == nil:
			reasons = append(reasons, c.ID()+" was deleted since the plan was made")
		case c.Live != nil && string(cur.GetUID()) != c.Live.UID:
			reasons = append(reasons, c.ID()+" was replaced since the plan was made")
		case c.Live != nil && cur.GetResourceVersion() != c.Live.ResourceVersion:
			reasons = append(reasons, fmt.Sprintf("%s changed since the plan was made (resourceVersion %s, planned against %s)",
				c.ID(), cur.GetResourceVersion(), c.Live.ResourceVersion))
		}
	}
	for _, k := range sortedKeys(live) {
		if !seen[k] {
			reasons = append(reasons, id(live[k])+" joined the stack since the plan was made")
		}
	}
	if len(reasons) > 0 {
		return &StaleError{Reasons: reasons}
	}
	return nil
}
