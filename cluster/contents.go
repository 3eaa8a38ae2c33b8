package cluster

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
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

// foreignConcurrency bounds the LISTs in flight when looking into a
// namespace (clusters with many CRDs serve hundreds of kinds).
const foreignConcurrency = 8

// namespacedKind is one namespaced kind a namespace may hold.
type namespacedKind struct {
	kind string
	gvr  schema.GroupVersionResource
}

// Foreign returns objects in namespace that do not match selector, at most
// one per namespaced kind the cluster serves and lets perimeter list, as
// "Kind namespace/name", sorted. skip names objects to leave out
// ("Kind/name"); objects a namespaced controller owns are left out too,
// their controller counts instead. It costs one LIST per kind (more only
// past 100 such dependents of one kind). A kind that
// cannot be discovered or listed is an error: the namespace might hold
// something, so it must not be deleted.
func (c *Client) Foreign(ctx context.Context, namespace, selector string, skip []string) ([]string, error) {
	kinds, err := c.namespacedKinds()
	if err != nil {
		return nil, err
	}
	found := make([]string, len(kinds))
	errs := make([]error, len(kinds))
	sem := make(chan struct{}, foreignConcurrency)
	var wg sync.WaitGroup
	for i, k := range kinds {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			name, err := c.firstForeign(ctx, k.gvr, namespace, selector, skipNames(k.kind, k.gvr.GroupResource(), skip))
			if err != nil {
				errs[i] = fmt.Errorf("listing %s in namespace %s: %w", k.kind, namespace, err)
			} else if name != "" {
				found[i] = k.kind + " " + namespace + "/" + name
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	out := slices.DeleteFunc(found, func(s string) bool { return s == "" })
	sort.Strings(out)
	return out, nil
}

// namespacedKinds are the listable namespaced kinds discovery reports,
// without events.
func (c *Client) namespacedKinds() ([]namespacedKind, error) {
	lists, err := c.discovery.ServerPreferredNamespacedResources()
	if err != nil {
		return nil, fmt.Errorf("discovering the kinds a namespace can hold: %w", err)
	}
	lists = discovery.FilteredBy(discovery.SupportsAllVerbs{Verbs: []string{"list"}}, lists)
	var out []namespacedKind
	for _, list := range lists {
		gv, err := schema.ParseGroupVersion(list.GroupVersion)
		if err != nil {
			return nil, err
		}
		for _, res := range list.APIResources {
			gvr := gv.WithResource(res.Name)
			if !ignoredResources[gvr.GroupResource()] && !strings.Contains(res.Name, "/") {
				out = append(out, namespacedKind{kind: res.Kind, gvr: gvr})
			}
		}
	}
	return out, nil
}

// firstForeign returns the name of one object of gvr in namespace that
// does not match selector, is not named in skip and is not a dependent
// (see dependent), or "".
func (c *Client) firstForeign(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector string, skip []string) (string, error) {
	var fields []string
	for _, n := range skip {
		fields = append(fields, "metadata.name!="+n)
	}
	notMember, err := negate(selector)
	if err != nil {
		return "", err
	}
	opts := metav1.ListOptions{Limit: 100, FieldSelector: strings.Join(fields, ","), LabelSelector: notMember}
	for {
		list, err := c.dynamic.Resource(gvr).Namespace(namespace).List(ctx, opts)
		if err != nil {
			return "", err
		}
		for i := range list.Items {
			if !c.dependent(&list.Items[i]) {
				return list.Items[i].GetName(), nil
			}
		}
		if list.GetContinue() == "" {
			return "", nil
		}
		opts.Continue = list.GetContinue()
	}
}

// dependent reports whether obj is controlled by a namespaced object: its
// controller then lives in the same namespace and decides for it (a
// Deployment someone created counts, its ReplicaSets and Pods need not; a
// Service a gateway controller made for the stack's Gateway goes with it).
// An owner whose kind cannot be mapped leaves obj counted.
func (c *Client) dependent(obj *unstructured.Unstructured) bool {
	ref := metav1.GetControllerOfNoCopy(obj)
	if ref == nil {
		return false
	}
	gvk := schema.FromAPIVersionAndKind(ref.APIVersion, ref.Kind)
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	return err == nil && m.Scope.Name() == meta.RESTScopeNameNamespace
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
