package plan

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// contentsReader says namespaces nsNN with NN divisible by 3 hold a
// foreign ConfigMap, and that nsNN with NN = 10 cannot be read; each
// answer takes a pause, and the namespaces looked into at once are counted.
type contentsReader struct{ inFlight, maxSeen atomic.Int32 }

func (r *contentsReader) List(context.Context, schema.GroupVersionKind, string, string) ([]*unstructured.Unstructured, error) {
	return nil, nil
}

func (r *contentsReader) Foreign(_ context.Context, ns, _ string, _ []string) ([]string, error) {
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for seen := r.maxSeen.Load(); n > seen && !r.maxSeen.CompareAndSwap(seen, n); seen = r.maxSeen.Load() {
	}
	time.Sleep(5 * time.Millisecond)
	var i int
	fmt.Sscanf(ns, "ns%d", &i)
	switch {
	case i == 10:
		return nil, errors.New("forbidden")
	case i%3 == 0:
		return []string{"ConfigMap " + ns + "/theirs"}, nil
	}
	return nil, nil
}

func TestLeaveNonEmptyLooksIntoNamespacesConcurrently(t *testing.T) {
	var changes []Change
	for i := range 20 {
		changes = append(changes, Change{Action: Delete, APIVersion: "v1", Kind: "Namespace", Name: fmt.Sprintf("ns%02d", i)})
		changes = append(changes, Change{Action: Delete, Kind: "NetworkPolicy", Namespace: fmt.Sprintf("ns%02d", i), Name: "p"})
	}
	r := &contentsReader{}
	out, notes := leaveNonEmpty(context.Background(), r, Request{Stack: "s", StateNamespace: "state"}, changes, nil)
	var left, wantLeft []string
	for _, n := range notes {
		left = append(left, n.Name)
	}
	for i := range 20 {
		name := fmt.Sprintf("ns%02d", i)
		kept := i%3 == 0 || i == 10
		if kept {
			wantLeft = append(wantLeft, name)
		}
		if got := out[2*i].Action; (got == NoOp) != kept {
			t.Errorf("namespace %s: %s", name, got)
		}
		if out[2*i+1].Action != Delete {
			t.Errorf("the policy in %s is no longer deleted", name)
		}
	}
	if !reflect.DeepEqual(left, wantLeft) {
		t.Errorf("notes for %v, want %v in order", left, wantLeft)
	}
	if m := r.maxSeen.Load(); m < 2 || m > namespacesConcurrency {
		t.Errorf("%d namespaces looked into at once, want 2 to %d", m, namespacesConcurrency)
	}
}
