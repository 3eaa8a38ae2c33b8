package main

import (
	"context"
	"fmt"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
	"github.com/perimeter-dev/perimeter/reach"
)

// liveFlags switch check, explain and matrix to the cluster's real pods.
type liveFlags struct {
	live bool
	clusterFlags
}

func (f *liveFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.live, "live", false,
		"evaluate against the cluster's Namespaces, Pods and NetworkPolicies (the stack's own policies as the intent renders them)")
	f.clusterFlags.register(cmd)
}

// The kinds --live reads, one cluster-wide LIST each.
var (
	liveNamespaceGVK = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
	livePodGVK       = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	livePolicyGVK    = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	liveClusterGVK   = generate.ClusterNetworkPolicyKind
)

// readLive lists the cluster's Namespaces, Pods and NetworkPolicies, one
// request per kind, leaving out the policies the stack owns: the intent's
// rendered policies stand for them, as after apply.
func readLive(ctx context.Context, r plan.Reader, in *hclspec.Intent) (reach.Objects, error) {
	var all []*unstructured.Unstructured
	for _, gvk := range []schema.GroupVersionKind{liveNamespaceGVK, livePodGVK, livePolicyGVK, liveClusterGVK} {
		objs, err := r.List(ctx, gvk, "", "")
		if gvk == liveClusterGVK && meta.IsNoMatchError(err) {
			continue // the cluster has no ClusterNetworkPolicy CRD: no tiers
		}
		if err != nil {
			return reach.Objects{}, fmt.Errorf("--live: listing %ss: %w", gvk.Kind, err)
		}
		for _, o := range objs {
			if (gvk != livePolicyGVK && gvk != liveClusterGVK) || !ownership.IsMember(o, in.Stack, in.StateNamespace) {
				all = append(all, o)
			}
		}
	}
	return reach.FromObjects(all)
}

// buildLiveReach compiles the intent and builds an evaluator over the live
// cluster with the intent's policies in place of the stack's own.
func buildLiveReach(ctx context.Context, r plan.Reader, in *hclspec.Intent) (*reach.Intent, hcl.Diagnostics) {
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return nil, diags
	}
	own, err := reach.FromObjects(objs)
	policies := own.Policies
	if err == nil {
		var live reach.Objects
		if live, err = readLive(ctx, r, in); err == nil {
			live.ClusterPolicies = append(live.ClusterPolicies, own.ClusterPolicies...)
			var w *reach.Intent
			if w, err = reach.FromLive(in, append(live.Policies, policies...), live); err == nil {
				if err = w.Engine.AddCiliumPolicies(own.Cilium); err == nil {
					return w, diags
				}
			}
		}
	}
	return nil, append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot evaluate against the cluster", Detail: err.Error()})
}
