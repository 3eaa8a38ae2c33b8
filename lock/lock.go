// Package lock keeps two perimeter runs from writing one stack at once: a
// coordination.k8s.io/v1 Lease perimeter-lock-<stack> in the stack's state
// namespace, created to take the lock, renewed while the run works and
// deleted at the end.
//
// It deliberately does not use client-go's leaderelection package. Leader
// election is built for long-running candidates that take turns forever:
// it retries quietly, treats an unreachable API server as "not leader yet"
// and has no notion of "fail at once, naming the holder" or of a
// force-unlock by ID. A CLI run needs exactly three requests with
// preconditions the API server enforces: create (AlreadyExists means
// held), update with the resourceVersion that was read (renewal, and the
// take-over of an expired lease: of two takers only one update succeeds),
// and delete with UID and resourceVersion preconditions (release: never a
// lease someone else has since taken).
package lock

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"

	"github.com/perimeter-dev/perimeter/ownership"
)

// Annotations on the Lease that say who holds it.
const (
	AnnotationHost        = "perimeter.dev/lock-host"
	AnnotationUser        = "perimeter.dev/lock-user"
	AnnotationEnvironment = "perimeter.dev/lock-environment"
	AnnotationCommand     = "perimeter.dev/lock-command"
	AnnotationStarted     = "perimeter.dev/lock-started"
)

// Name is the name of a stack's lock Lease.
func Name(stack string) string { return ownership.LockName(stack) }

// Holder describes a run holding (or asking for) the lock.
type Holder struct {
	ID          string
	Host        string
	User        string
	Environment string
	Command     string
	Started     time.Time
}

// Options tune Acquire. Zero values get the defaults.
type Options struct {
	// Timeout is how long to wait for a held lock; 0 fails at once.
	Timeout time.Duration
	// Duration is how long the lease is valid without renewal (60 s).
	Duration time.Duration
	// RenewEvery is the renewal interval (Duration / 3).
	RenewEvery time.Duration
	// Poll is the interval between attempts while waiting (2 s).
	Poll time.Duration
	// Waiting, when set, is called once when the lock is found held and
	// Acquire starts to wait for it.
	Waiting func(*HeldError)
}

func (o *Options) defaults() {
	if o.Duration <= 0 {
		o.Duration = 60 * time.Second
	}
	if o.RenewEvery <= 0 {
		o.RenewEvery = o.Duration / 3
	}
	if o.Poll <= 0 {
		o.Poll = 2 * time.Second
	}
}

// NewID returns a random lock ID.
func NewID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Lock is a held stack lock. Release it when done.
type Lock struct {
	leases    coordinationv1.LeaseInterface
	namespace string
	stack     string
	holder    Holder
	opts      Options

	mu    sync.Mutex
	lease *coordv1.Lease // as last written by this run
	lost  error

	stop chan struct{}
	done chan struct{}
}

// Acquire takes the lock of stack in namespace for holder (whose ID must
// be set), waiting up to opts.Timeout while another run holds it. A lease
// whose holder stopped renewing it (renewTime + leaseDurationSeconds is
// past) is taken over.
func Acquire(ctx context.Context, leases coordinationv1.LeasesGetter, namespace, stack string, holder Holder, opts Options) (*Lock, error) {
	opts.defaults()
	l := &Lock{leases: leases.Leases(namespace), namespace: namespace, stack: stack, holder: holder, opts: opts}
	deadline := time.Now().Add(opts.Timeout)
	announced := false
	for {
		held, err := l.try(ctx, stack)
		if err != nil {
			return nil, err
		}
		if held == nil {
			l.stop, l.done = make(chan struct{}), make(chan struct{})
			go l.renew()
			return l, nil
		}
		if opts.Timeout <= 0 || !time.Now().Before(deadline) {
			held.Waited = opts.Timeout
			return nil, held
		}
		if !announced && opts.Waiting != nil {
			opts.Waiting(held)
		}
		announced = true
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for the lock of stack %q: %w", stack, ctx.Err())
		case <-time.After(opts.Poll):
		}
	}
}

// try makes one attempt: nil, nil when the lock is now ours; a HeldError
// when someone else holds it.
func (l *Lock) try(ctx context.Context, stack string) (*HeldError, error) {
	want := l.desired(stack)
	created, err := l.leases.Create(ctx, want, metav1.CreateOptions{FieldManager: "perimeter"})
	if err == nil {
		l.lease = created
		return nil, nil
	}
	if !apierrors.IsAlreadyExists(err) {
		return nil, l.requestError("creating", err)
	}
	cur, err := l.leases.Get(ctx, Name(stack), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return l.try(ctx, stack) // released in between: try again
	}
	if err != nil {
		return nil, l.requestError("reading", err)
	}
	if !Expired(cur, time.Now()) {
		return l.heldError(cur), nil
	}
	// Take over with the resourceVersion just read: if another run took
	// it over (or renewed it) in between, the update fails with Conflict.
	take := cur.DeepCopy()
	take.Annotations, take.Spec = want.Annotations, want.Spec
	updated, err := l.leases.Update(ctx, take, metav1.UpdateOptions{FieldManager: "perimeter"})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return l.try(ctx, stack)
	}
	if err != nil {
		return nil, l.requestError("taking over the expired", err)
	}
	l.lease = updated
	return nil, nil
}

// desired is the Lease this run holds.
func (l *Lock) desired(stack string) *coordv1.Lease {
	now := metav1.NewMicroTime(time.Now())
	secs := int32(l.opts.Duration / time.Second)
	id := l.holder.ID
	return &coordv1.Lease{
		ObjectMeta: metav1.ObjectMeta{Name: Name(stack), Namespace: l.namespace,
			Labels: map[string]string{"app.kubernetes.io/managed-by": "perimeter", "perimeter.dev/stack": stack},
			Annotations: map[string]string{
				AnnotationHost: l.holder.Host, AnnotationUser: l.holder.User, AnnotationEnvironment: l.holder.Environment,
				AnnotationCommand: l.holder.Command, AnnotationStarted: l.holder.Started.UTC().Format(time.RFC3339),
			}},
		Spec: coordv1.LeaseSpec{HolderIdentity: &id, LeaseDurationSeconds: &secs, AcquireTime: &now, RenewTime: &now},
	}
}

// Expired reports whether a lease's holder stopped renewing it: its renew
// (or acquire) time plus its duration lies before now. It compares the
// holder's clock with this machine's, so the duration must be much longer
// than the clock skew between machines that share a stack.
func Expired(lease *coordv1.Lease, now time.Time) bool {
	t := lease.Spec.RenewTime
	if t == nil {
		t = lease.Spec.AcquireTime
	}
	if t == nil || lease.Spec.LeaseDurationSeconds == nil {
		return true // not a lease perimeter wrote, or a broken one: nobody renews it
	}
	return t.Add(time.Duration(*lease.Spec.LeaseDurationSeconds) * time.Second).Before(now)
}

// requestError words a failed request, with RBAC's refusal spelt out:
// running without the lock would defeat it.
func (l *Lock) requestError(what string, err error) error {
	where := fmt.Sprintf("Lease %s/%s", l.namespace, Name(l.stack))
	switch {
	case apierrors.IsForbidden(err):
		return fmt.Errorf("%s lock %s: %w\nperimeter locks a stack while it writes it and does not run without the lock: grant this identity get, create, update and delete on leases (coordination.k8s.io) in namespace %s", what, where, err, l.namespace)
	case apierrors.IsNotFound(err):
		return fmt.Errorf("%s lock %s: %w (the state namespace %s does not exist)", what, where, err, l.namespace)
	}
	return fmt.Errorf("%s lock %s: %w", what, where, err)
}

// ID is the lock ID of this run.
func (l *Lock) ID() string { return l.holder.ID }

// Err is nil while the lock is held, and says why once it is lost (a
// renewal found it taken over or deleted, or failed past its expiry).
// Check it before every write.
func (l *Lock) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.lost
}

// NoNamespace reports whether err from Acquire says the namespace that
// would hold the Lease does not exist (the API server's NotFound for the
// namespace itself, not for the Lease): a caller that learns this from
// Acquire needs no read of the namespace beforehand.
func NoNamespace(err error) bool {
	var status apierrors.APIStatus
	if err == nil || !errors.As(err, &status) || !apierrors.IsNotFound(err) {
		return false
	}
	d := status.Status().Details
	return d != nil && d.Kind == "namespaces"
}
