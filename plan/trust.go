package plan

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
)

// record is what the live ApplySet parent says the stack may have
// members in, as kubectl reads it when it prunes (KEP-3659): its
// contains-group-kinds, its additional-namespaces and its own namespace.
// The intent's kinds and namespaces are added, as kubectl adds those of
// the objects being applied. Only objects inside the record are members;
// labels alone, which anyone who can create an object can copy, are not
// enough to be deleted.
type record struct {
	// all is set for rendered manifests: they have no parent, and a plan
	// made against them is never applied.
	all        bool
	parent     bool // the parent ConfigMap exists
	kinds      map[schema.GroupKind]bool
	namespaces map[string]bool
}

// readRecord reads the stack's ApplySet parent: one LIST of ConfigMaps in
// the state namespace, by the ApplySet's id label. intentNamespaces are
// the namespaces the intent writes to.
func readRecord(ctx context.Context, r Reader, req Request, intentNamespaces []string) (*record, error) {
	rec := &record{kinds: map[schema.GroupKind]bool{}, namespaces: map[string]bool{req.StateNamespace: true}}
	if isRendered(r) {
		rec.all = true
		return rec, nil
	}
	for _, ns := range intentNamespaces {
		rec.namespaces[ns] = true
	}
	for _, o := range req.Desired {
		rec.kinds[o.GroupVersionKind().GroupKind()] = true
	}
	for _, ns := range req.Namespaces {
		rec.kinds[ns.Object.GroupVersionKind().GroupKind()] = true
	}
	id := ownership.ApplySetID(req.Stack, req.StateNamespace)
	parents, err := r.List(ctx, ownership.ParentGVK, req.StateNamespace, ownership.LabelApplySetID+"="+id)
	if err != nil {
		return nil, fmt.Errorf("reading the ApplySet parent ConfigMap %s/%s: %w", req.StateNamespace, ownership.ParentName(req.Stack), err)
	}
	for _, p := range parents {
		if p.GetName() != ownership.ParentName(req.Stack) {
			continue
		}
		rec.parent = true
		ann := p.GetAnnotations()
		for _, gk := range splitList(ann[ownership.AnnotationApplySetGroupKinds]) {
			rec.kinds[schema.ParseGroupKind(gk)] = true
		}
		for _, ns := range splitList(ann[ownership.AnnotationApplySetNamespaces]) {
			rec.namespaces[ns] = true
		}
	}
	return rec, nil
}

func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// sortedNamespaces are the recorded namespaces, in order.
func (rec *record) sortedNamespaces() []string { return slices.Sorted(maps.Keys(rec.namespaces)) }

// why says why obj, which carries some of the stack's ownership labels,
// is not a member; "" when it is one.
func (rec *record) why(req Request, obj *unstructured.Unstructured) string {
	if req.Owned != nil && !req.Owned(obj) {
		return labelMismatch(req, obj)
	}
	if rec.all {
		return ""
	}
	parent := fmt.Sprintf("the ApplySet parent ConfigMap %s/%s", req.StateNamespace, ownership.ParentName(req.Stack))
	if !rec.parent {
		parent += ", which does not exist,"
	}
	gk := obj.GroupVersionKind().GroupKind()
	if !rec.kinds[gk] {
		return fmt.Sprintf("its kind %s is neither recorded in %s (%s) nor produced by the intent", gk.String(), parent, ownership.AnnotationApplySetGroupKinds)
	}
	if ns := obj.GetNamespace(); ns != "" && !rec.namespaces[ns] {
		return fmt.Sprintf("namespace %s is neither recorded in %s (%s: %s) nor one the intent writes to", ns, parent,
			ownership.AnnotationApplySetNamespaces, strings.Join(rec.sortedNamespaces(), ", "))
	}
	return ""
}

// labelMismatch names the ownership labels obj lacks.
func labelMismatch(req Request, obj *unstructured.Unstructured) string {
	want := ownership.MemberLabels(req.Stack, req.StateNamespace)
	var bad []string
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if got, ok := obj.GetLabels()[k]; !ok {
			bad = append(bad, k+" is missing")
		} else if got != want[k] {
			bad = append(bad, fmt.Sprintf("%s is %q, not %q", k, got, want[k]))
		}
	}
	if len(bad) == 0 {
		return "it is not a member of the stack's ApplySet"
	}
	return "its labels are not the stack's: " + strings.Join(bad, "; ")
}

// lookalike is the warning for an object that looks like a member of the
// stack and is not one: it is never updated or deleted.
func lookalike(req Request, obj *unstructured.Unstructured, why string) Warning {
	return Warning{Severity: WarningSeverity, Summary: fmt.Sprintf("Looks like a member of stack %q but is not recorded in its ApplySet; not deleted", req.Stack),
		Object: id(obj), Detail: why + "; perimeter never changes or deletes it. Delete it yourself if it is a leftover, or remove the stack's labels from it."}
}
