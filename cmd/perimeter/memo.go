package main

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/plan"
)

// memoReader is the cluster as one plan reads it: planning's LISTs are
// reused by the later reads of the same plan (the live lints), so each
// object is decoded once (see plan.ListMemo). Everything but List goes to
// the cluster. Apply's checks that the cluster did not move read through
// the client itself, never through the memo.
type memoReader struct {
	*cluster.Client
	memo *plan.ListMemo
}

func newMemoReader(c *cluster.Client, stack string) memoReader {
	return memoReader{Client: c, memo: plan.NewListMemo(stack)}
}

// List answers from the plan's earlier LISTs where it can.
func (r memoReader) List(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	return r.memo.List(ctx, r.Client, gvk, namespace, selector)
}

// ListTrimmed is List for planning's LISTs of the stack's members, which
// trim each page as it is decoded (plan.Trimmer).
func (r memoReader) ListTrimmed(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error) {
	return r.memo.ListTrimmed(ctx, r.Client, gvk, namespace, selector, trim)
}
