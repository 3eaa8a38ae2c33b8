package lock_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/lock"
)

// These tests take and contend for locks on a real kube-apiserver.

func TestMain(m *testing.M) { testcluster.Main(m) }

type env struct {
	t     *testing.T
	cs    kubernetes.Interface
	ns    string
	stack string
}

func newEnv(t *testing.T) *env {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	return &env{t: t, cs: kubernetes.NewForConfigOrDie(c.Config), ns: ns, stack: "s" + ns[len(ns)-6:]}
}

func (e *env) acquire(id string, opts lock.Options) (*lock.Lock, error) {
	h := lock.Holder{ID: id, Host: "host-" + id, User: "user-" + id, Environment: "prod", Command: "apply", Started: time.Unix(1700000000, 0)}
	return lock.Acquire(context.Background(), e.cs.CoordinationV1(), e.ns, e.stack, h, opts)
}

func (e *env) lease() *coordv1.Lease {
	l, err := e.cs.CoordinationV1().Leases(e.ns).Get(context.Background(), lock.Name(e.stack), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) holder() string {
	l := e.lease()
	if l == nil || l.Spec.HolderIdentity == nil {
		return ""
	}
	return *l.Spec.HolderIdentity
}

func (e *env) mustAcquire(id string, opts lock.Options) *lock.Lock {
	e.t.Helper()
	l, err := e.acquire(id, opts)
	if err != nil {
		e.t.Fatalf("acquiring as %s: %v", id, err)
	}
	return l
}

// A second run fails at once, naming the holder and how to force-unlock;
// the lease is the first run's until it releases it, then gone.
func TestHeldFailsNamingHolder(t *testing.T) {
	e := newEnv(t)
	a := e.mustAcquire("aaaa", lock.Options{})
	_, err := e.acquire("bbbb", lock.Options{})
	var held *lock.HeldError
	if !errors.As(err, &held) || held.Holder.ID != "aaaa" {
		t.Fatalf("second acquire: %v, want a HeldError naming aaaa", err)
	}
	for _, want := range []string{"lock ID aaaa", "perimeter apply", "user user-aaaa", "host host-aaaa", `environment "prod"`, "since 2023-11-14T22:13:20Z", "perimeter force-unlock aaaa", "Lease " + e.ns + "/perimeter-lock-" + e.stack} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q:\n%v", want, err)
		}
	}
	if e.holder() != "aaaa" {
		t.Errorf("holder %q after a refused acquire, want aaaa", e.holder())
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.lease() != nil {
		t.Error("the lease remains after Release")
	}
}

// Of many runs starting at once, exactly one gets the lock.
func TestOneOfManyWins(t *testing.T) {
	e := newEnv(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var won []*lock.Lock
	var refused int
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := e.acquire(string(rune('a'+i))+"-run", lock.Options{})
			mu.Lock()
			defer mu.Unlock()
			var held *lock.HeldError
			switch {
			case err == nil:
				won = append(won, l)
			case errors.As(err, &held):
				refused++
			default:
				t.Errorf("acquire: %v", err)
			}
		}()
	}
	wg.Wait()
	if len(won) != 1 || refused != 7 {
		t.Fatalf("%d runs got the lock and %d were refused, want 1 and 7", len(won), refused)
	}
	if e.holder() != won[0].ID() {
		t.Errorf("lease holder %q, winner %q", e.holder(), won[0].ID())
	}
	_ = won[0].Release(context.Background())
}

// With a timeout, a second run waits, and takes the lock once released.
func TestWaitsThenProceeds(t *testing.T) {
	e := newEnv(t)
	a := e.mustAcquire("first", lock.Options{})
	waiting := make(chan *lock.HeldError, 1)
	type result struct {
		l   *lock.Lock
		err error
	}
	done := make(chan result, 1)
	go func() {
		l, err := e.acquire("second", lock.Options{Timeout: 2 * time.Minute, Poll: 20 * time.Millisecond,
			Waiting: func(h *lock.HeldError) { waiting <- h }})
		done <- result{l, err}
	}()
	select {
	case h := <-waiting:
		if h.Holder.ID != "first" {
			t.Errorf("waiting for %q, want first", h.Holder.ID)
		}
	case r := <-done:
		t.Fatalf("the second run did not wait: %v", r.err)
	case <-time.After(time.Minute):
		t.Fatal("the second run neither waited nor returned")
	}
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	var r result
	select {
	case r = <-done:
	case <-time.After(time.Minute):
		t.Fatal("the second run did not take the released lock")
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
	if e.holder() != "second" {
		t.Errorf("holder %q, want second", e.holder())
	}
	_ = r.l.Release(context.Background())
}

// A lease its holder stopped renewing is taken over.
func TestExpiredIsTakenOver(t *testing.T) {
	e := newEnv(t)
	id, secs := "crashed", int32(60)
	old := metav1.NewMicroTime(time.Now().Add(-time.Hour))
	_, err := e.cs.CoordinationV1().Leases(e.ns).Create(context.Background(), &coordv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: lock.Name(e.stack)},
		Spec:       coordv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &old, RenewTime: &old},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	l := e.mustAcquire("next", lock.Options{})
	if e.holder() != "next" {
		t.Fatalf("holder %q, want next", e.holder())
	}
	if err := l.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.lease() != nil {
		t.Error("the taken-over lease remains after Release")
	}
}

// force-unlock with another ID changes nothing; with the holder's ID it
// releases, and the run that held it learns it lost the lock and does
// not delete a lease someone took since.
func TestForceUnlock(t *testing.T) {
	e := newEnv(t)
	a := e.mustAcquire("holder", lock.Options{RenewEvery: 20 * time.Millisecond})
	if _, err := lock.ForceUnlock(context.Background(), e.cs.CoordinationV1(), e.ns, e.stack, "wrong"); err == nil || !strings.Contains(err.Error(), "held by lock ID holder") {
		t.Fatalf("force-unlock with the wrong ID: %v", err)
	}
	if e.holder() != "holder" {
		t.Fatal("force-unlock with the wrong ID released the lock")
	}
	h, err := lock.ForceUnlock(context.Background(), e.cs.CoordinationV1(), e.ns, e.stack, "holder")
	if err != nil || h.ID != "holder" {
		t.Fatalf("force-unlock with the right ID: %v", err)
	}
	deadline := time.Now().Add(time.Minute)
	for a.Err() == nil && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if a.Err() == nil || !strings.Contains(a.Err().Error(), "lost the lock") {
		t.Fatalf("the holder did not notice it lost the lock: %v", a.Err())
	}
	b := e.mustAcquire("other", lock.Options{})
	if err := a.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	if e.holder() != "other" {
		t.Errorf("the old holder's Release removed the new holder's lease (holder %q)", e.holder())
	}
	_ = b.Release(context.Background())
	if _, err := lock.ForceUnlock(context.Background(), e.cs.CoordinationV1(), e.ns, e.stack, "other"); err == nil || !strings.Contains(err.Error(), "is not locked") {
		t.Errorf("force-unlock without a lock: %v", err)
	}
}

// An identity that may not create Leases gets a clear refusal, not a run
// without the lock.
func TestForbiddenIsAnError(t *testing.T) {
	c := testcluster.Get(t)
	e := newEnv(t)
	cfg := c.RestrictedConfig(t, "no-leases-"+e.ns, []rbacv1.PolicyRule{
		{APIGroups: []string{"coordination.k8s.io"}, Resources: []string{"leases"}, Verbs: []string{"get"}},
	}, e.ns)
	cs := kubernetes.NewForConfigOrDie(cfg)
	_, err := lock.Acquire(context.Background(), cs.CoordinationV1(), e.ns, e.stack, lock.Holder{ID: "x"}, lock.Options{})
	if err == nil || !strings.Contains(err.Error(), "forbidden") || !strings.Contains(err.Error(), "grant this identity get, create, update and delete on leases") {
		t.Fatalf("acquire without RBAC: %v", err)
	}
}
