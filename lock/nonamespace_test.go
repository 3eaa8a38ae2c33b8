package lock_test

import (
	"errors"
	"testing"

	"github.com/perimeter-dev/perimeter/lock"
)

// Acquiring in a namespace that does not exist fails with an error that
// NoNamespace recognises (the CLI then runs a first apply without the
// lock instead of reading the namespace first); a lock held by another
// run is not mistaken for it.
func TestNoNamespace(t *testing.T) {
	e := newEnv(t)
	held := e.mustAcquire("aaaa", lock.Options{})
	defer held.Release(t.Context())
	_, err := e.acquire("bbbb", lock.Options{})
	if err == nil || lock.NoNamespace(err) {
		t.Fatalf("acquiring a held lock: %v; NoNamespace must be false", err)
	}
	e.ns = e.ns + "-missing"
	_, err = e.acquire("cccc", lock.Options{})
	if !lock.NoNamespace(err) {
		t.Fatalf("acquiring in a namespace that does not exist: %v; want NoNamespace", err)
	}
	if lock.NoNamespace(nil) || lock.NoNamespace(errors.New("namespaces \"x\" not found")) {
		t.Fatal("NoNamespace of nil or of a plain error must be false")
	}
}
