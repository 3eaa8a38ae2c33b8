package plan

import (
	"context"
	"slices"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
)

// ListMemo lets the reads of one plan reuse each other, so that each
// object is listed and decoded once per plan: planning LISTs the stack's
// objects of every kind cluster-wide by its stack label, and later reads
// (the check for objects in the way, the live lints) LIST a kind in one
// namespace whole. Such a LIST is answered with the stack-labelled
// objects already read in that namespace plus a LIST of the others only
// (selector "perimeter.dev/stack!=STACK"): the two are disjoint and
// together are the namespace's objects of that kind. A repeated LIST is
// answered from memory. Use one ListMemo per plan: it never re-reads.
type ListMemo struct {
	stack   string
	mu      sync.Mutex
	exact   map[listKey][]*unstructured.Unstructured
	stacked map[schema.GroupVersionKind][]*unstructured.Unstructured // cluster-wide, by stack label
	// pending are the LISTs in flight (Prefetch's): a read of the same
	// LIST waits for it instead of sending it again; closed when done.
	pending map[listKey]chan struct{}
}

type listKey struct {
	gvk           schema.GroupVersionKind
	namespace     string
	labelSelector string
}

// NewListMemo returns an empty memo for the reads of a plan of stack.
func NewListMemo(stack string) *ListMemo {
	return &ListMemo{stack: stack, exact: map[listKey][]*unstructured.Unstructured{},
		stacked: map[schema.GroupVersionKind][]*unstructured.Unstructured{}, pending: map[listKey]chan struct{}{}}
}

// List answers like r.List, from memory where it can. The objects are
// shared between callers: they must not be modified.
func (m *ListMemo) List(ctx context.Context, r Reader, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	return m.ListTrimmed(ctx, r, gvk, namespace, selector, nil)
}

// ListTrimmed is List for a Trimmer: a LIST the memo sends to r is
// trimmed (page by page when r is a PagedLister) and kept trimmed, so
// later reads of the same objects share the trimmed objects. Only
// planning's LISTs of its members trim (see trimManagedFields), and
// nothing after them reads what they drop.
func (m *ListMemo) ListTrimmed(ctx context.Context, r Reader, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error) {
	k := listKey{gvk, namespace, selector}
	m.mu.Lock()
	if wait := m.pending[k]; wait != nil {
		m.mu.Unlock()
		select { // a failed prefetch stored nothing: the LIST is sent again below
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		m.mu.Lock()
	}
	objs, done := m.exact[k]
	stacked, haveStacked := m.stacked[gvk]
	m.mu.Unlock()
	if done {
		return objs, nil
	}
	var err error
	if namespace != "" && selector == "" && haveStacked && m.stack != "" {
		objs, err = m.namespaceWhole(ctx, r, gvk, namespace, stacked)
	} else {
		objs, err = listPaged(ctx, r, gvk, namespace, selector, trim)
	}
	if err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.exact[k] = objs
	if namespace == "" && selector == m.stackSelector() {
		m.stacked[gvk] = objs
	}
	return objs, nil
}

// Prefetch starts, in the background, the LISTs planning begins with: the
// stack's members of each kind, cluster-wide by the stack label, trimmed
// as planning trims them (newMemberTrim). A plan's reads of the same
// LISTs (listOwned) wait for these instead of sending them again, so the
// CLI can have the cluster read while it still compiles the intent. A
// LIST that fails is not kept: planning sends it again and meets the
// error itself. Cancel ctx to stop what is still in flight. It does
// nothing without a stack (the memo's stack is the selector's), and
// callers that must read the cluster under the stack's lock do not call
// it before they hold it.
func (m *ListMemo) Prefetch(ctx context.Context, r Reader, kinds []schema.GroupVersionKind) {
	if m.stack == "" {
		return
	}
	sel := m.stackSelector()
	sem := make(chan struct{}, listConcurrency)
	for _, gvk := range kinds {
		k := listKey{gvk, "", sel}
		m.mu.Lock()
		_, done := m.exact[k]
		if done || m.pending[k] != nil {
			m.mu.Unlock()
			continue
		}
		wait := make(chan struct{})
		m.pending[k] = wait
		m.mu.Unlock()
		go func() {
			defer func() {
				m.mu.Lock()
				delete(m.pending, k)
				m.mu.Unlock()
				close(wait)
			}()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
			case <-ctx.Done():
				return
			}
			objs, err := listPaged(ctx, r, gvk, "", sel, newMemberTrim())
			if err != nil {
				return
			}
			m.mu.Lock()
			m.exact[k], m.stacked[gvk] = objs, objs
			m.mu.Unlock()
		}()
	}
}

func (m *ListMemo) stackSelector() string {
	if m.stack == "" {
		return "\x00" // matches no selector
	}
	return ownership.LabelStack + "=" + m.stack
}

// namespaceWhole is every object of gvk in namespace: the stack-labelled
// ones already read there and a LIST of the rest.
func (m *ListMemo) namespaceWhole(ctx context.Context, r Reader, gvk schema.GroupVersionKind, namespace string, stacked []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	others, err := r.List(ctx, gvk, namespace, ownership.LabelStack+"!="+m.stack)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, o := range stacked {
		if o.GetNamespace() == namespace {
			out = append(out, o)
		}
	}
	// the server lists in name order; keep that order for whoever relies on it
	out = append(out, others...)
	sortByName(out)
	return out, nil
}

func sortByName(objs []*unstructured.Unstructured) {
	slices.SortFunc(objs, func(a, b *unstructured.Unstructured) int { return strings.Compare(a.GetName(), b.GetName()) })
}

// listPaged lists through r, trimming each object (unless trim is nil):
// page by page when r can.
func listPaged(ctx context.Context, r Reader, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error) {
	if p, ok := r.(PagedLister); ok && trim != nil {
		return p.ListPaged(ctx, gvk, namespace, selector, trim)
	}
	objs, err := r.List(ctx, gvk, namespace, selector)
	if trim != nil {
		for _, o := range objs {
			trim(o)
		}
	}
	return objs, err
}
