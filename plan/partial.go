package plan

import (
	"context"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// An identity whose rights cover only some namespaces cannot LIST a kind
// in all of them. Planning does not need to: only objects inside what the
// ApplySet parent records can be members (see record), so the stack's
// kinds are read in the recorded namespaces instead, one LIST each. What
// is lost is the report of look-alikes elsewhere, and the plan says so.

// listKind lists the objects of gvk that match sel, cluster-wide, or, when
// that is forbidden, where members can be. unread names what could not be
// read ("" when nothing was lost).
// clusterNetworkPolicy is the kind of guardrails and baselines.
var clusterNetworkPolicy = schema.GroupKind{Group: "policy.networking.k8s.io", Kind: "ClusterNetworkPolicy"}

func listKind(ctx context.Context, r Reader, rec *record, gvk schema.GroupVersionKind, sel string, names []string) (objs []*unstructured.Unstructured, unread string, err error) {
	objs, err = listMembers(ctx, r, gvk, "", sel)
	if !apierrors.IsForbidden(err) || rec.all {
		return objs, "", err
	}
	whole := "list " + gvk.Kind + " in all namespaces"
	if gvk == NamespaceGVK {
		whole = "list Namespaces"
	}
	switch {
	case !rec.kinds[gvk.GroupKind()]:
		return nil, whole, nil // no member can be of this kind
	case gvk == NamespaceGVK:
		objs, err = getNamespaces(ctx, r, names, sel)
		return objs, whole, err
	case gvk.GroupKind() == clusterNetworkPolicy:
		// cluster-scoped: there is no namespace to fall back to
		return nil, "", fmt.Errorf("this identity may not list ClusterNetworkPolicies, which are cluster-scoped and which the stack's ApplySet records it owns (guardrails and baselines); grant it list on clusternetworkpolicies.policy.networking.k8s.io with a ClusterRole, or plan with the platform team's identity: %w", err)
	}
	for _, ns := range rec.sortedNamespaces() {
		part, err := listMembers(ctx, r, gvk, ns, sel)
		if err != nil {
			// a plan that cannot see every member would forget some: the
			// parent, narrowed after apply, would no longer record them
			return nil, "", fmt.Errorf("this identity may not %s, nor in namespace %s, where the stack may have members (the state namespace, the intent's, and those its ApplySet records: %s); grant it list on %s in each of them, or plan with an identity that may list it in all namespaces: %w",
				whole, ns, strings.Join(rec.sortedNamespaces(), ", "), gvk.Kind, err)
		}
		objs = append(objs, part...)
	}
	return objs, whole, nil
}

// getNamespaces reads the named namespaces one by one (an identity may be
// allowed to get some namespaces and not to list them all), keeping those
// that match sel.
func getNamespaces(ctx context.Context, r Reader, names []string, sel string) ([]*unstructured.Unstructured, error) {
	g, ok := r.(Getter)
	if !ok {
		return nil, fmt.Errorf("this identity may not list Namespaces")
	}
	s, err := labels.Parse(sel)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, name := range names {
		ns, err := g.Get(ctx, NamespaceGVK, "", name)
		if err != nil {
			return nil, fmt.Errorf("this identity may neither list Namespaces nor get namespace %s, which the stack may own; grant it get on the stack's namespaces (a ClusterRole with resourceNames) or list on namespaces: %w", name, err)
		}
		if ns != nil && s.Matches(labels.Set(ns.GetLabels())) {
			out = append(out, ns)
		}
	}
	return out, nil
}

// partialWarning says what an identity with partial read rights could not
// read, and what that means for the plan.
func partialWarning(unread []string, rec *record) Warning {
	return Warning{Severity: WarningSeverity, Summary: "Planned with partial read rights",
		Detail: fmt.Sprintf("this identity may not %s. The stack's objects were read where its ApplySet records members and the intent writes (%s): prune and destroy consider nothing else, so the plan is complete; but look-alikes (objects carrying the stack's labels) elsewhere could not be looked for. Plan with an identity that may list these kinds in all namespaces to check for them.",
			strings.Join(unread, ", "), strings.Join(rec.sortedNamespaces(), ", "))}
}
