package main

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/restmapper"

	"github.com/perimeter-dev/perimeter/generate"
)

// warmUp lists every kind perimeter reads once before the first round. A
// control plane just started answers the first LISTs of freshly installed
// CRDs with 429 (Retry-After: 1 s) until their storage is ready; without
// this the first command measured (the baseline's or perimeter's first
// apply of round 1) waited about 2 s for it, and kubectl, which runs last,
// never did. client-go retries the 429s here.
func (b *bench) warmUp(ctx context.Context) error {
	dc, err := discovery.NewDiscoveryClientForConfig(b.cp.Config)
	if err != nil {
		return err
	}
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc))
	dyn, err := dynamic.NewForConfig(b.cp.Config)
	if err != nil {
		return err
	}
	for _, gvk := range generate.Kinds {
		m, err := mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if meta.IsNoMatchError(err) {
			continue // not installed (CiliumNetworkPolicy)
		}
		if err != nil {
			return err
		}
		if _, err := dyn.Resource(m.Resource).List(ctx, metav1.ListOptions{Limit: 1}); err != nil {
			return fmt.Errorf("warming up %s: %w", m.Resource, err)
		}
	}
	return nil
}
