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
// would create exists, the stack owns nothing the plan did not see, the
// namespaces it uses without owning them are still there, and those it
// deletes still hold nothing the stack does not own.
// It costs the same LIST requests as planning.
func CheckCurrent(ctx context.Context, r Reader, p *Plan, kinds []schema.GroupVersionKind, ownerSelector string, owned func(*unstructured.Unstructured) bool) error {
	req := Request{Stack: p.Stack, StateNamespace: p.StateNamespace, Kinds: kinds, OwnerSelector: ownerSelector, Owned: owned}
	var intentNamespaces []string
	if p.Scope != nil {
		intentNamespaces = p.Scope.ObjectNamespaces
	}
	for _, c := range p.Changes {
		if c.Action == Create {
			req.Desired = append(req.Desired, c.DesiredObject())
		}
	}
	// every object the plan sends is of a kind the stack may own
	all := req
	all.Desired = nil
	for _, c := range p.Changes {
		if c.Desired != nil {
			all.Desired = append(all.Desired, c.DesiredObject())
		}
	}
	m, err := listOwned(ctx, r, all, intentNamespaces)
	if err != nil {
		return err
	}
	live := m.owned
	var reasons []string
	problems, err := checkUnowned(ctx, r, req, live)
	if err != nil {
		return err
	}
	for _, pr := range problems {
		reasons = append(reasons, pr.Object+" now exists and is not owned by this stack")
	}
	nsReasons, err := namespacesCurrent(ctx, r, p, ownerSelector)
	if err != nil {
		return err
	}
	reasons = append(reasons, nsReasons...)
	seen := map[string]bool{}
	for _, c := range p.Changes {
		if c.Adopt {
			continue // not a member yet: namespacesCurrent checks it
		}
		k := c.Kind + "/" + c.Namespace + "/" + c.Name
		seen[k] = true
		cur := live[k]
		switch {
		case c.Live == nil && cur != nil:
			reasons = append(reasons, c.ID()+" was created since the plan was made")
		case c.Live != nil && cur == nil:
			reasons = append(reasons, left(ctx, r, c))
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

// namespacesCurrent checks what the plan assumed about namespaces it does
// not own (used as they are, or adopted) and about those it deletes.
func namespacesCurrent(ctx context.Context, r Reader, p *Plan, ownerSelector string) ([]string, error) {
	var reasons []string
	live := &namespaceCache{r: r}
	for _, c := range p.Changes {
		switch {
		case c.Kind != NamespaceGVK.Kind:
		case c.Action == Delete:
			held, err := foreign(ctx, r, p.Stack, p.StateNamespace, ownerSelector, c.Name)
			if err != nil {
				return nil, err
			}
			if len(held) > 0 {
				reasons = append(reasons, fmt.Sprintf("%s now holds objects this stack does not own (%s)", c.ID(), strings.Join(held, ", ")))
			}
		case c.Adopt:
			cur, err := live.get(ctx, c.Name)
			if err != nil {
				return nil, err
			}
			reasons = append(reasons, compareLive(c.ID(), c.Live, cur)...)
		}
	}
	for _, n := range p.Namespaces {
		if n.UID == "" {
			continue
		}
		cur, err := live.get(ctx, n.Name)
		if err != nil {
			return nil, err
		}
		switch {
		case cur == nil:
			reasons = append(reasons, "Namespace "+n.Name+" was deleted since the plan was made")
		case string(cur.GetUID()) != n.UID:
			reasons = append(reasons, "Namespace "+n.Name+" was deleted and created again since the plan was made")
		}
	}
	return reasons, nil
}

// compareLive says how an object read for the plan has changed since.
func compareLive(id string, planned *LiveRef, cur *unstructured.Unstructured) []string {
	switch {
	case cur == nil:
		return []string{id + " was deleted since the plan was made"}
	case planned == nil:
		return nil
	case string(cur.GetUID()) != planned.UID:
		return []string{id + " was replaced since the plan was made"}
	case cur.GetResourceVersion() != planned.ResourceVersion:
		return []string{fmt.Sprintf("%s changed since the plan was made (resourceVersion %s, planned against %s)",
			id, cur.GetResourceVersion(), planned.ResourceVersion)}
	}
	return nil
}

// Getter reads one object, nil when it does not exist. A Reader that is
// one (a live cluster) lets a refusal say what became of an object that is
// no longer among the stack's.
type Getter interface {
	Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error)
}

// left says what became of an object the plan read as the stack's and
// that the stack no longer owns: deleted, replaced by someone else's, or
// still there without the stack's ownership labels.
func left(ctx context.Context, r Reader, c Change) string {
	g, ok := r.(Getter)
	if !ok {
		return c.ID() + " is no longer among the stack's objects"
	}
	cur, err := g.Get(ctx, c.GVK(), c.Namespace, c.Name)
	switch {
	case err != nil:
		return fmt.Sprintf("%s is no longer among the stack's objects (reading it: %v)", c.ID(), err)
	case cur == nil:
		return c.ID() + " was deleted since the plan was made"
	case string(cur.GetUID()) != c.Live.UID:
		return c.ID() + " was deleted since the plan was made, and another object of that name, not the stack's, exists now"
	}
	return c.ID() + " still exists but no longer carries this stack's ownership labels: they were changed or removed since the plan was made"
}
