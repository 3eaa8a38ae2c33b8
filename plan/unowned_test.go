package plan

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// namespacesReader holds one foreign NetworkPolicy "taken" in each
// namespace, answers each LIST after a pause, fails the namespaces in
// fail, and records how many LISTs were in flight at once.
type namespacesReader struct {
	fail              map[string]error
	inFlight, maxSeen atomic.Int32
}

func (r *namespacesReader) List(_ context.Context, gvk schema.GroupVersionKind, ns, _ string) ([]*unstructured.Unstructured, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for seen := r.maxSeen.Load(); n > seen && !r.maxSeen.CompareAndSwap(seen, n); seen = r.maxSeen.Load() {
	}
	time.Sleep(5 * time.Millisecond)
	if err := r.fail[ns]; err != nil {
		return nil, err
	}
	o := &unstructured.Unstructured{}
	o.SetGroupVersionKind(gvk)
	o.SetNamespace(ns)
	o.SetName("taken")
	return []*unstructured.Unstructured{o}, nil
}

func TestCheckUnownedListsConcurrently(t *testing.T) {
	var desired []*unstructured.Unstructured
	for i := range 30 {
		o := &unstructured.Unstructured{}
		o.SetAPIVersion("networking.k8s.io/v1")
		o.SetKind("NetworkPolicy")
		o.SetNamespace(fmt.Sprintf("ns%02d", i))
		o.SetName("taken")
		desired = append(desired, o)
	}
	r := &namespacesReader{}
	problems, err := checkUnowned(context.Background(), r, Request{Desired: desired}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) != 30 || !strings.HasPrefix(problems[0].Object, "NetworkPolicy ns00/taken") || !strings.HasPrefix(problems[29].Object, "NetworkPolicy ns29/taken") {
		t.Fatalf("%d problems, want one per namespace in order: %+v", len(problems), problems)
	}
	if m := r.maxSeen.Load(); m < 2 || m > listConcurrency {
		t.Errorf("%d LISTs in flight at most, want 2 to %d", m, listConcurrency)
	}
	first, later := errors.New("forbidden in ns03"), errors.New("forbidden in ns20")
	r = &namespacesReader{fail: map[string]error{"ns03": first, "ns20": later}}
	if _, err := checkUnowned(context.Background(), r, Request{Desired: desired}, nil); !errors.Is(err, first) {
		t.Errorf("error %v, want the first namespace's in order: %v", err, first)
	}
}
