package lint

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// slowReader answers each LIST after a pause with one object naming the
// LIST, fails those in fail, and records how many were in flight at once.
type slowReader struct {
	fail              map[string]error
	inFlight, maxSeen atomic.Int32
	mu                sync.Mutex
	sent              int
}

func (r *slowReader) List(ctx context.Context, gvk schema.GroupVersionKind, ns, _ string) ([]*unstructured.Unstructured, error) {
	r.mu.Lock()
	r.sent++
	r.mu.Unlock()
	n := r.inFlight.Add(1)
	defer r.inFlight.Add(-1)
	for seen := r.maxSeen.Load(); n > seen && !r.maxSeen.CompareAndSwap(seen, n); seen = r.maxSeen.Load() {
	}
	name := gvk.Kind + "/" + ns
	if err := r.fail[name]; err != nil {
		return nil, err
	}
	select {
	case <-time.After(5 * time.Millisecond):
	case <-ctx.Done():
		return nil, fmt.Errorf("list %s: %w", name, ctx.Err())
	}
	o := &unstructured.Unstructured{}
	o.SetName(name)
	return []*unstructured.Unstructured{o}, nil
}

func names(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, o := range objs {
		out = append(out, o.GetName())
	}
	return out
}

// Read sends its LISTs a few at a time and gives the objects in the order
// one LIST after the other would.
func TestReadListsConcurrentlyInOrder(t *testing.T) {
	scope := map[string]bool{}
	var want []string
	for i := range 20 {
		ns := fmt.Sprintf("ns%02d", i)
		scope[ns] = true
		want = append(want, ns)
	}
	r := &slowReader{}
	l, err := Read(context.Background(), r, scope)
	if err != nil {
		t.Fatal(err)
	}
	for kind, got := range map[string][]string{"NetworkPolicy": names(l.Policies), "Service": names(l.Services), "Pod": names(l.Pods)} {
		var w []string
		for _, ns := range want {
			w = append(w, kind+"/"+ns)
		}
		if !reflect.DeepEqual(got, w) {
			t.Errorf("%s: %v, want %v", kind, got, w)
		}
	}
	if !reflect.DeepEqual(names(l.Namespaces), []string{"Namespace/"}) {
		t.Errorf("namespaces %v", names(l.Namespaces))
	}
	if m := r.maxSeen.Load(); m < 2 || m > readConcurrency {
		t.Errorf("%d LISTs in flight at most, want 2 to %d", m, readConcurrency)
	}
}

// The error Read returns is the LIST's that failed, not a LIST it stopped
// because of it, and the LISTs not yet sent are not sent.
func TestReadReturnsTheFailure(t *testing.T) {
	scope := map[string]bool{}
	for i := range 20 {
		scope[fmt.Sprintf("ns%02d", i)] = true
	}
	forbidden := errors.New("pods is forbidden in ns05")
	r := &slowReader{fail: map[string]error{"Pod/ns05": forbidden}}
	_, err := Read(context.Background(), r, scope)
	if !errors.Is(err, forbidden) {
		t.Fatalf("error %v, want %v", err, forbidden)
	}
	if r.sent >= 1+3*20 {
		t.Errorf("%d LISTs sent after the failure stopped the rest", r.sent)
	}
}
