package plan

import (
	"context"
	"fmt"
	"sort"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
)

// Namespace is a namespace block as planning needs it. Whether the stack
// creates it, adopts it or only uses it depends on the live cluster, so it
// is decided here and not when the intent is compiled.
type Namespace struct {
	// Object is the Namespace apply sends when the stack creates or adopts
	// it: declared labels, ownership labels, origin annotations.
	Object *unstructured.Unstructured
	// Create is false when a missing namespace is an error (create = false).
	Create bool
	// Adopt makes an existing namespace the stack did not create a member.
	Adopt bool
}

// NamespaceState says why the plan leaves a namespace as it is.
type NamespaceState string

// Namespace states.
const (
	// NotOwned: the namespace exists and the stack did not create it; it
	// is used as it is, never labelled, taken over or deleted.
	NotOwned NamespaceState = "exists, not owned"
	// Left: the stack owns the namespace and no longer wants it, but it
	// holds objects the stack does not own, so it is not deleted.
	Left NamespaceState = "left"
)

// NamespaceNote is a namespace the plan uses or leaves without changing it.
type NamespaceNote struct {
	Name   string         `json:"name"`
	State  NamespaceState `json:"state"`
	Detail string         `json:"detail,omitempty"`
	Source string         `json:"source,omitempty"` // file:line of the namespace block
	Block  string         `json:"block,omitempty"`
	// UID is the namespace as it was read (NotOwned): apply refuses the
	// plan if it has been deleted or replaced since.
	UID string `json:"uid,omitempty"`
}

// NamespaceGVK is the kind of namespaces.
var NamespaceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}

// namespacePlan is what planning the namespace blocks decided.
type namespacePlan struct {
	// desired are the namespaces planned like any other object: owned
	// ones, ones to create and ones to adopt.
	desired []*unstructured.Unstructured
	adopted map[string]*unstructured.Unstructured // key -> the live namespace taken over
	created map[string]bool                       // names of the namespaces the plan creates
	notes   []NamespaceNote
	// problems are missing create = false namespaces and refused adoptions.
	problems []Problem
}

// planNamespaces decides, for each namespace block, whether the plan
// creates, adopts, updates or only uses its namespace. It costs one LIST
// of namespaces, and none when the stack owns them all.
func planNamespaces(ctx context.Context, r Reader, req Request, owned map[string]*unstructured.Unstructured) (*namespacePlan, error) {
	np := &namespacePlan{adopted: map[string]*unstructured.Unstructured{}, created: map[string]bool{}}
	live := &namespaceCache{r: r}
	for _, ns := range req.Namespaces {
		cur, isOwned := owned[key(ns.Object)], true
		if cur == nil {
			var err error
			if cur, err = live.get(ctx, ns.Object.GetName()); err != nil {
				return nil, err
			}
			isOwned = false
		}
		switch {
		case cur != nil && cur.GetDeletionTimestamp() != nil:
			np.problems = append(np.problems, nsProblem(ns.Object, terminating))
		case isOwned:
			np.desired = append(np.desired, ns.Object) // planned like any member
		default:
			np.decide(ns, cur)
		}
	}
	p, err := stateNamespaceProblem(ctx, r, req, live)
	if p != nil {
		np.problems = append(np.problems, *p)
	}
	return np, err
}

// decide plans a namespace the stack does not own; cur is nil when it does
// not exist.
func (np *namespacePlan) decide(ns Namespace, cur *unstructured.Unstructured) {
	obj := ns.Object
	switch {
	case cur == nil && !ns.Create:
		np.problems = append(np.problems, nsProblem(obj, "does not exist, and the namespace block says create = false: it must be created by whoever owns it (or remove create = false to let the stack create it)."))
	case cur == nil:
		np.desired = append(np.desired, obj)
		np.created[obj.GetName()] = true
	case ns.Adopt && cur.GetLabels()[ownership.LabelApplySetPartOf] != "":
		np.problems = append(np.problems, nsProblem(obj, fmt.Sprintf("already belongs to an ApplySet (%s=%s%s); adopt never takes over a namespace another stack or tool owns.",
			ownership.LabelApplySetPartOf, cur.GetLabels()[ownership.LabelApplySetPartOf], stackOf(cur))))
	case ns.Adopt:
		np.desired = append(np.desired, obj)
		np.adopted[key(obj)] = cur
	default:
		np.notes = append(np.notes, NamespaceNote{Name: obj.GetName(), State: NotOwned, UID: string(cur.GetUID()),
			Source: annotation(obj, ownership.AnnotationSource), Block: annotation(obj, ownership.AnnotationBlock),
			Detail: notOwnedDetail(obj, cur)})
	}
}

// stateNamespaceProblem refuses a plan whose ApplySet parent would go into
// a namespace that does not exist and that no namespace block creates:
// apply could not record the stack's ownership anywhere.
func stateNamespaceProblem(ctx context.Context, r Reader, req Request, live *namespaceCache) (*Problem, error) {
	if isRendered(r) || len(req.Desired)+len(req.Namespaces) == 0 {
		return nil, nil // nothing to apply, or nothing to apply it to
	}
	for _, ns := range req.Namespaces {
		if ns.Object.GetName() == req.StateNamespace {
			return nil, nil // created, adopted or used like any namespace block
		}
	}
	cur, err := live.get(ctx, req.StateNamespace)
	if apierrors.IsForbidden(err) {
		// whether it exists cannot be read; apply says so if it does not,
		// when recording the parent, before anything else is written
		return nil, nil
	}
	if err != nil || cur != nil {
		return nil, err
	}
	return &Problem{Object: "Namespace " + req.StateNamespace,
		Detail: "holds the stack's ApplySet parent (state_namespace) but does not exist; declare a namespace block for it, so the stack creates it, or create it."}, nil
}

// terminating explains why nothing can be planned into a namespace being
// deleted: the API server refuses new objects in it.
const terminating = "is being deleted, and the API server accepts no new objects in it; plan again once it is gone (the stack then creates it anew, unless create = false)."

func nsProblem(obj *unstructured.Unstructured, detail string) Problem {
	return Problem{Object: id(obj), Source: annotation(obj, ownership.AnnotationSource),
		Block: annotation(obj, ownership.AnnotationBlock), Detail: detail}
}

func stackOf(obj *unstructured.Unstructured) string {
	if st := obj.GetLabels()[ownership.LabelStack]; st != "" {
		return fmt.Sprintf(", stack %q", st)
	}
	return ""
}

// namespaceCache lists namespaces once, when first asked.
type namespaceCache struct {
	r      Reader
	byName map[string]*unstructured.Unstructured
	byGet  bool // listing is forbidden: namespaces are read one by one
}

func (c *namespaceCache) get(ctx context.Context, name string) (*unstructured.Unstructured, error) {
	if c.byName == nil && !c.byGet {
		var err error
		c.byName, err = listNamespaces(ctx, c.r)
		if apierrors.IsForbidden(err) {
			// an identity with rights in some namespaces only: read the
			// ones the plan needs one by one, if it may
			c.byGet, c.byName = true, map[string]*unstructured.Unstructured{}
		} else if err != nil {
			return nil, err
		}
	}
	if ns, ok := c.byName[name]; ok || !c.byGet {
		return ns, nil
	}
	objs, err := getNamespaces(ctx, c.r, []string{name}, "")
	if err != nil {
		return nil, err
	}
	c.byName[name] = nil
	if len(objs) > 0 {
		c.byName[name] = objs[0]
	}
	return c.byName[name], nil
}

// listNamespaces reads every namespace, by name.
func listNamespaces(ctx context.Context, r Reader) (map[string]*unstructured.Unstructured, error) {
	objs, err := r.List(ctx, NamespaceGVK, "", "")
	if err != nil {
		return nil, err
	}
	out := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		out[o.GetName()] = o
	}
	return out, nil
}

// notOwnedDetail says how the namespace is used, and which declared labels
// it lacks: namespaces({...}) selectors in the intent assume them, and the
// stack will not set them without adopt = true.
func notOwnedDetail(desired, live *unstructured.Unstructured) string {
	detail := "used as it is: never labelled, taken over or deleted (adopt = true makes it a member)"
	var missing []string
	for k, v := range desired.GetLabels() {
		if isOwnershipLabel(k) {
			continue
		}
		if got, ok := live.GetLabels()[k]; !ok || got != v {
			missing = append(missing, k+"="+v)
		}
	}
	if len(missing) == 0 {
		return detail
	}
	sort.Strings(missing)
	return detail + "; it lacks the declared labels " + strings.Join(missing, ", ")
}

func isOwnershipLabel(k string) bool {
	return k == ownership.LabelManagedBy || k == ownership.LabelStack || k == ownership.LabelApplySetPartOf
}
