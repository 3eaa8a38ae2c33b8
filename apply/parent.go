package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// parent records the ApplySet parent before members change. Following
// KEP-3659, its group-kinds and namespaces are first widened to cover both
// the current members (current, the parent read before any write, under
// the stack's lock) and the planned ones, so an interrupted apply never
// leaves a member that the parent does not account for.
func (r *runner) parent(ctx context.Context, current *unstructured.Unstructured) error {
	desired := r.desiredParent()
	if current != nil {
		mergeAnnotation(desired, current, ownership.AnnotationApplySetGroupKinds)
		mergeAnnotation(desired, current, ownership.AnnotationApplySetNamespaces)
	}
	if err := r.guard(); err != nil {
		return err
	}
	if _, err := r.c.ServerSideApply(ctx, desired, r.opts.Force); err != nil {
		return err
	}
	r.recorded = desired
	return nil
}

// desiredParent is the parent recording the members after the plan.
func (r *runner) desiredParent() *unstructured.Unstructured {
	desired := ownership.Parent(r.p.Stack, r.p.StateNamespace, r.members(true))
	ann := desired.GetAnnotations()
	ann[ownership.AnnotationEnvironment] = r.p.Environment
	desired.SetAnnotations(ann)
	return desired
}

// checkEnvironment refuses, before any write, to apply over a stack last
// applied with another environment (the plan checked it too, but a saved
// plan may be older than the last apply).
func (r *runner) checkEnvironment(current parentRead) error {
	if current.err != nil {
		return fmt.Errorf("reading ApplySet parent ConfigMap %s/%s: %s; nothing was changed", r.p.StateNamespace, ownership.ParentName(r.p.Stack), explain(current.err))
	}
	if msg := plan.EnvironmentMismatch(current.obj, r.p.Stack, r.p.Environment, r.p.SwitchEnvironment || r.opts.SwitchEnvironment); msg != "" {
		return fmt.Errorf("%s Nothing was changed", msg)
	}
	return nil
}

// stateNamespace creates the namespace that holds the ApplySet parent
// when the plan creates it (a fresh cluster whose state namespace is one the
// stack manages): the parent cannot be recorded before it exists.
func (r *runner) stateNamespace(ctx context.Context) error {
	for _, c := range r.p.Changes {
		if !r.isStateNamespace(c) {
			continue
		}
		res := r.one(ctx, c)
		r.record(res)
		if res.Error != "" {
			return fmt.Errorf("creating %s, which holds the ApplySet parent: %s; nothing else was changed", c.ID(), res.Error)
		}
	}
	return nil
}

// isStateNamespace reports whether c creates the state namespace.
func (r *runner) isStateNamespace(c plan.Change) bool {
	return c.Action == plan.Create && c.Kind == plan.NamespaceGVK.Kind && c.Name == r.p.StateNamespace
}

// finishParent narrows the parent to the members that remain, or removes
// it when the stack is destroyed and nothing remains (destroy leaves a
// namespace that holds objects the stack does not own: it stays a member).
func (r *runner) finishParent(ctx context.Context) error {
	if r.opts.DeleteParent && len(r.members(true)) == 0 {
		if r.report.Failed > 0 {
			return nil // members remain; keep the record of them
		}
		if err := r.guard(); err != nil {
			return err
		}
		return r.c.Delete(ctx, ownership.ParentGVK, r.p.StateNamespace, ownership.ParentName(r.p.Stack), "", "")
	}
	if r.report.Failed > 0 {
		return nil // keep the widened record until an apply succeeds
	}
	desired := r.desiredParent()
	if r.recorded != nil && equality.Semantic.DeepEqual(desired.Object, r.recorded.Object) {
		return nil // the widened record is already the final one (nothing left the stack)
	}
	if err := r.guard(); err != nil {
		return err
	}
	_, err := r.c.ServerSideApply(ctx, desired, r.opts.Force)
	return err
}

// members are the objects the stack owns after the plan (or before it).
func (r *runner) members(after bool) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for _, c := range r.p.Changes {
		if c.Action == plan.Delete && after {
			continue
		}
		obj := &unstructured.Unstructured{}
		obj.SetAPIVersion(c.APIVersion)
		obj.SetKind(c.Kind)
		obj.SetNamespace(c.Namespace)
		obj.SetName(c.Name)
		out = append(out, obj)
	}
	return out
}

func mergeAnnotation(into, from *unstructured.Unstructured, key string) {
	set := map[string]bool{}
	for _, obj := range []*unstructured.Unstructured{into, from} {
		for _, v := range strings.Split(obj.GetAnnotations()[key], ",") {
			if v != "" {
				set[v] = true
			}
		}
	}
	var vals []string
	for v := range set {
		vals = append(vals, v)
	}
	sort.Strings(vals)
	ann := into.GetAnnotations()
	ann[key] = strings.Join(vals, ",")
	into.SetAnnotations(ann)
}
