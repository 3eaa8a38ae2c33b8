package main

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/ownership"
)

// tierKinds are the cluster tiers import reads with --all-namespaces (they
// are cluster-wide, the platform's, so a one-namespace import leaves them
// out): ClusterNetworkPolicy, and the v1alpha1 AdminNetworkPolicy and
// BaselineAdminNetworkPolicy.
var tierKinds = []schema.GroupVersionKind{
	{Group: "policy.networking.k8s.io", Version: "v1beta1", Kind: "ClusterNetworkPolicy"},
	{Group: "policy.networking.k8s.io", Version: "v1alpha1", Kind: "AdminNetworkPolicy"},
	{Group: "policy.networking.k8s.io", Version: "v1alpha1", Kind: "BaselineAdminNetworkPolicy"},
}

// readTiers lists the cluster tiers a cluster serves, leaving out those
// perimeter manages.
func readTiers(ctx context.Context, c *cluster.Client) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, gvk := range tierKinds {
		objs, err := c.List(ctx, gvk, "", "")
		if meta.IsNoMatchError(err) {
			continue // not served: none to import
		}
		if err != nil {
			return nil, fmt.Errorf("listing %ss (cluster-wide policies, imported with --all-namespaces): %w", gvk.Kind, err)
		}
		for _, o := range objs {
			if o.GetLabels()[ownership.LabelManagedBy] != ownership.ManagedByValue {
				o.SetKind(gvk.Kind)
				o.SetAPIVersion(gvk.GroupVersion().String())
				out = append(out, o)
			}
		}
	}
	return out, nil
}
