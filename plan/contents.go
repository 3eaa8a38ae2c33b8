package plan

import (
	"context"
	"errors"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
)

// ContentReader is implemented by readers that can tell what a namespace
// holds (a live cluster). Without it, the stack never deletes a namespace:
// deleting one deletes everything in it.
type ContentReader interface {
	// Foreign returns objects in namespace that do not match selector
	// (the stack's members), at most one per namespaced kind the cluster
	// serves, as "Kind namespace/name", sorted. skip names objects to
	// leave out as "Kind/name".
	Foreign(ctx context.Context, namespace, selector string, skip []string) ([]string, error)
}

// foreign lists what namespace holds that the stack does not own. The
// stack's own ApplySet parent does not count: destroy removes it last;
// nor does its lock, held by the run that asks (and released after it).
func foreign(ctx context.Context, r Reader, stack, stateNamespace, selector, namespace string) ([]string, error) {
	cr, ok := r.(ContentReader)
	if !ok {
		return nil, errors.New("what it holds cannot be read from this target")
	}
	var skip []string
	if namespace == stateNamespace {
		skip = append(skip, ownership.ParentGVK.Kind+"/"+ownership.ParentName(stack), "Lease/"+ownership.LockName(stack))
	}
	return cr.Foreign(ctx, namespace, selector, skip)
}

// leaveNonEmpty turns the deletion of an owned namespace that holds objects
// the stack does not own into a no-op (it stays a member, so a later
// destroy removes it once it is empty) and a note saying why. Look-alikes
// (alike) count as objects the stack does not own, whatever their labels.
func leaveNonEmpty(ctx context.Context, r Reader, req Request, changes []Change, alike []*unstructured.Unstructured) ([]Change, []NamespaceNote) {
	held := make([][]string, len(changes))
	errs := make([]error, len(changes))
	var g errgroup.Group
	g.SetLimit(namespacesConcurrency)
	for i, c := range changes {
		if c.Action != Delete || c.Kind != NamespaceGVK.Kind {
			continue
		}
		g.Go(func() error {
			held[i], errs[i] = foreign(ctx, r, req.Stack, req.StateNamespace, req.OwnerSelector, c.Name)
			return nil // an unreadable namespace is kept, with the reason (leftDetail)
		})
	}
	g.Wait()
	var notes []NamespaceNote
	for i, c := range changes {
		if c.Action != Delete || c.Kind != NamespaceGVK.Kind {
			continue
		}
		for _, o := range alike {
			if o.GetNamespace() == c.Name && !slices.Contains(held[i], id(o)) {
				held[i] = append(held[i], id(o))
			}
		}
		slices.Sort(held[i])
		if errs[i] == nil && len(held[i]) == 0 {
			continue
		}
		changes[i].Action, changes[i].Before = NoOp, nil
		notes = append(notes, NamespaceNote{Name: c.Name, State: Left, Source: c.Source, Block: c.Block,
			Detail: leftDetail(held[i], errs[i])})
	}
	return changes, notes
}

// namespacesConcurrency bounds the namespaces looked into at once, each
// with up to 8 LISTs in flight (one per kind it can hold): 64 at most, as
// many as apply's writes. One namespace after the other, destroying a
// stack of 100 namespaces 20 ms from its API server spent 13 s here.
const namespacesConcurrency = 8

// leftDetail says why a namespace is not deleted: what it holds, or that
// what it holds could not be read (deleting it could delete anything).
func leftDetail(held []string, err error) string {
	const after = "; it stays in the stack's ApplySet, and destroy deletes it once "
	if err != nil {
		return "not deleted: perimeter cannot tell whether it holds objects this stack does not own (" + err.Error() + ")" + after + "that can be read and it is empty"
	}
	return "not deleted: it holds objects this stack does not own (" + strings.Join(held, ", ") + ")" + after + "they are gone"
}
