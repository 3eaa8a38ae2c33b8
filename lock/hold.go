package lock

import (
	"context"
	"fmt"
	"time"

	coordv1 "k8s.io/api/coordination/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
)

// renew keeps the lease valid until Release. A renewal that finds the
// lease gone or changed (force-unlocked, or taken over after this run
// stalled past its expiry) loses the lock at once; one that fails for
// another reason (the API server unreachable) is retried, and loses the
// lock only once the lease has expired.
func (l *Lock) renew() {
	defer close(l.done)
	t := time.NewTicker(l.opts.RenewEvery)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
		}
		l.mu.Lock()
		next := l.lease.DeepCopy()
		l.mu.Unlock()
		now := metav1.NewMicroTime(time.Now())
		next.Spec.RenewTime = &now
		ctx, cancel := context.WithTimeout(context.Background(), l.opts.RenewEvery)
		updated, err := l.leases.Update(ctx, next, metav1.UpdateOptions{FieldManager: "perimeter"})
		cancel()
		l.mu.Lock()
		switch {
		case err == nil:
			l.lease = updated
		case apierrors.IsConflict(err) || apierrors.IsNotFound(err):
			l.lost = fmt.Errorf("lost the lock of stack %q (Lease %s/%s): it was deleted or taken over by another run (force-unlock?) while this one held it", l.stack, l.namespace, Name(l.stack))
		case Expired(l.lease, time.Now()):
			l.lost = fmt.Errorf("lost the lock of stack %q (Lease %s/%s): it could not be renewed before it expired: %v", l.stack, l.namespace, Name(l.stack), err)
		}
		lost := l.lost != nil
		l.mu.Unlock()
		if lost {
			return
		}
	}
}

// Release stops renewing and deletes the lease, but only the one this run
// last wrote (UID and resourceVersion preconditions): a lease taken over
// by another run is left to it. Call it once, also after a failure; ctx
// should not be one that was cancelled by the interrupt being handled.
func (l *Lock) Release(ctx context.Context) error {
	close(l.stop)
	<-l.done
	l.mu.Lock()
	lease, lost := l.lease, l.lost
	l.mu.Unlock()
	if lost != nil {
		return nil // nothing of ours to delete; Err says what happened
	}
	uid, rv := lease.UID, lease.ResourceVersion
	err := l.leases.Delete(ctx, lease.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("releasing the lock of stack %q (Lease %s/%s): %w; if it stays, run perimeter force-unlock %s", l.stack, l.namespace, lease.Name, err, l.holder.ID)
	}
	return nil
}

// HeldError says another run holds the lock.
type HeldError struct {
	Stack, Namespace string
	Holder           Holder
	// Waited is how long Acquire waited (--lock-timeout); 0: not at all.
	Waited time.Duration
}

// Error names the holder and the ways out.
func (e *HeldError) Error() string {
	waited := ""
	if e.Waited > 0 {
		waited = fmt.Sprintf(" (waited %v)", e.Waited)
	}
	return fmt.Sprintf("stack %q is locked by another run%s: %s (Lease %s/%s).\n"+
		"Wait for it to finish (--lock-timeout 5m waits up to five minutes). If that run crashed, the lock expires a minute after its last renewal; to release it now: perimeter force-unlock %s",
		e.Stack, waited, e.Holder.Describe(), e.Namespace, Name(e.Stack), e.Holder.ID)
}

// Describe says who holds a lock, in one line.
func (h Holder) Describe() string {
	s := "lock ID " + h.ID
	if h.Command != "" {
		s += ", perimeter " + h.Command
	}
	if h.User != "" {
		s += ", user " + h.User
	}
	if h.Host != "" {
		s += ", host " + h.Host
	}
	if h.Environment != "" {
		s += fmt.Sprintf(", environment %q", h.Environment)
	}
	if !h.Started.IsZero() {
		s += ", since " + h.Started.UTC().Format(time.RFC3339)
	}
	return s
}

func (l *Lock) heldError(lease *coordv1.Lease) *HeldError {
	return &HeldError{Stack: l.stack, Namespace: l.namespace, Holder: holderOf(lease)}
}

// holderOf reads who holds a lease.
func holderOf(lease *coordv1.Lease) Holder {
	h := Holder{Host: lease.Annotations[AnnotationHost], User: lease.Annotations[AnnotationUser],
		Environment: lease.Annotations[AnnotationEnvironment], Command: lease.Annotations[AnnotationCommand]}
	if lease.Spec.HolderIdentity != nil {
		h.ID = *lease.Spec.HolderIdentity
	}
	h.Started, _ = time.Parse(time.RFC3339, lease.Annotations[AnnotationStarted])
	return h
}

// ForceUnlock deletes the lock of stack in namespace, but only when its
// holder is id: the ID printed by the run that took it, or named in the
// error of the run that found it held. The delete carries the UID and
// resourceVersion read, so a lock taken in between is not deleted.
func ForceUnlock(ctx context.Context, leases coordinationv1.LeasesGetter, namespace, stack, id string) (Holder, error) {
	// A holder that is still alive renews its lease, which changes its
	// resourceVersion between our read and our delete: read again and
	// retry while the same ID holds it, a few times.
	var h Holder
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		var retry bool
		if h, retry, err = forceUnlockOnce(ctx, leases, namespace, stack, id); !retry {
			return h, err
		}
	}
	return h, err
}

// forceUnlockOnce deletes the lease if id holds it; retry is true when it
// changed between the read and the delete.
func forceUnlockOnce(ctx context.Context, leases coordinationv1.LeasesGetter, namespace, stack, id string) (Holder, bool, error) {
	where := fmt.Sprintf("Lease %s/%s", namespace, Name(stack))
	c := leases.Leases(namespace)
	cur, err := c.Get(ctx, Name(stack), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Holder{}, false, fmt.Errorf("stack %q is not locked (no %s)", stack, where)
	}
	if err != nil {
		return Holder{}, false, fmt.Errorf("reading lock %s: %w", where, err)
	}
	h := holderOf(cur)
	if h.ID != id {
		return h, false, fmt.Errorf("lock %s is held by %s, not by lock ID %s; nothing was changed", where, h.Describe(), id)
	}
	uid, rv := types.UID(cur.UID), cur.ResourceVersion
	err = c.Delete(ctx, cur.Name, metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid, ResourceVersion: &rv}})
	if apierrors.IsConflict(err) || apierrors.IsNotFound(err) {
		return h, true, fmt.Errorf("lock %s changed while it was being released (renewed or taken by another run); nothing was changed: %v", where, err)
	}
	if err != nil {
		return h, false, fmt.Errorf("deleting lock %s: %w", where, err)
	}
	return h, false, nil
}
