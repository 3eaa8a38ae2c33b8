package cluster

import (
	"context"
	"fmt"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/discovery"
)

// systemObjects are created in every namespace by the cluster itself
// (kube-controller-manager), so they never keep a namespace alive.
var systemObjects = map[schema.GroupResource][]string{
	{Resource: "serviceaccounts"}: {"default"},
	{Resource: "configmaps"}:      {"kube-root-ca.crt"},
}

// ignoredResources are records about objects, not objects anyone put in
// the namespace.
var ignoredResources = map[schema.GroupResource]bool{
	{Resource: "events"}:                         true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// Foreign returns objects in namespace that do not match selector, at most
// one per namespaced kind the cluster serves and lets perimeter list, as
// "Kind namespace/name", sorted. skip names objects to leave out
// ("Kind/name"). It costs one LIST with limit 1 per kind. A kind that
// cannot be discovered or listed is an error: the namespace might hold
// something, so it must not be deleted.
func (c *Client) Foreign(ctx context.Context, namespace, selector string, skip []string) ([]string, error) {
	lists, err := c.discovery.ServerPreferredNamespacedResources()
	if err != nil {
		return nil, fmt.Errorf("discovering the kinds a namespace can hold: %w", err)
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list"}}, lists)
	var out []string
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, res := range list.APIResources {
			gr := gv.WithResource(res.Name).GroupResource()
			if ignoredResources[gr] || strings.Contains(res.Name, "/") {
				continue
			}
			name, err := c.firstForeign(ctx, gv.WithResource(res.Name), namespace, selector, skipNames(res.Kind, gr, skip))
			if err != nil {
				return nil, fmt.Errorf("listing %s in namespace %s: %w", res.Kind, namespace, err)
			}
			if name != "" {
				out = append(out, res.Kind+" "+namespace+"/"+name)
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// firstForeign returns the name of one object of gvr in namespace that
// does not match selector and is not named in skip, or "".
func (c *Client) firstForeign(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector string, skip []string) (string, error) {
	var fields []string
	for _, n := range skip {
		fields = append(fields, "metadata.name!="+n)
	}
	notMember, err := negate(selector)
	if err != nil {
		return "", err
	}
	opts := metav1.ListOptions{Limit: 1, FieldSelector: strings.Join(fields, ","), LabelSelector: notMember}
	list, err := c.dynamic.Resource(gvr).Namespace(namespace).List(ctx, opts)
	if err != nil {
		return "", err
	}
	if len(list.Items) == 0 {
		return "", nil
	}
	return list.Items[0].GetName(), nil
}

// skipNames are the names of kind to leave out: the cluster's own and the
// caller's.
func skipNames(kind string, gr schema.GroupResource, skip []string) []string {
	names := append([]string(nil), systemObjects[gr]...)
	for _, s := range skip {
		if k, n, ok := strings.Cut(s, "/"); ok && k == kind {
			names = append(names, n)
		}
	}
	return names
}

// negate turns the member selector "key=value" into "key!=value": objects
// without the label or with another value.
func negate(selector string) (string, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return "", err
	}
	reqs, _ := sel.Requirements()
	if len(reqs) != 1 || (reqs[0].Operator() != selection.Equals && reqs[0].Operator() != selection.DoubleEquals) {
		return "", fmt.Errorf("member selector %q is not one key=value requirement", selector)
	}
	not, err := labels.NewRequirement(reqs[0].Key(), selection.NotEquals, reqs[0].Values().List())
	if err != nil {
		return "", err
	}
	return labels.NewSelector().Add(*not).String(), nil
}
