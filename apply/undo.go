package apply

import (
	"context"
	"errors"
	"net/http"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perimeter-dev/perimeter/plan"
)

// A first apply carried out right after planning (plan.Plan's
// CreatesUnvalidated) sends each object once: the write that creates it
// is also the server's validation of it, instead of a dry-run of every
// object while planning and the write again. The price is that a
// rejected object is found after others were written; such a run is
// therefore all or nothing: once a create fails, no further kind is sent
// and every object the run created is deleted again (by UID, so only
// those), and the cluster is left as it was but for the ApplySet parent,
// which still records the planned members (the next apply narrows it).

// createdObject is an object this run created.
type createdObject struct {
	change plan.Change
	uid    string
}

// made records an object this run created.
func (r *runner) made(c plan.Change, obj *metav1.PartialObjectMetadata) {
	if !r.p.CreatesUnvalidated || obj == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.created = append(r.created, createdObject{change: c, uid: string(obj.GetUID())})
}

// undoing reports whether the run is all or nothing and the server
// rejected one of its creates.
func (r *runner) undoing() bool {
	if !r.p.CreatesUnvalidated {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.rejected
}

// createFailed notes a failed create. Only the server's refusal of the
// object (what a dry-run would have found) makes the run all or nothing:
// an unreachable or unavailable server is an outage, after which the run
// ends as any apply does (what was written stays, valid, and the next
// apply converges); deleting again would fail the same way anyway.
func (r *runner) createFailed(err error) {
	if !r.p.CreatesUnvalidated || !rejection(err) {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.rejected = true
}

// rejection reports whether the server refused the object itself. An
// internal error counts too: that is how the field manager refuses a
// field the installed schema does not declare ("field not declared in
// schema", code 500, kube-apiserver v1.37), which a newer perimeter
// meets against an older CRD; a 500 the server gave for another reason
// undoes the run as well, which keeps it all or nothing. An outage is
// what never reached the server or came back unavailable, throttled or
// timed out.
func rejection(err error) bool {
	return apierrors.IsInvalid(err) || apierrors.IsBadRequest(err) || apierrors.IsForbidden(err) ||
		apierrors.IsRequestEntityTooLargeError(err) || apierrors.IsUnsupportedMediaType(err) ||
		apierrors.IsInternalError(err) || internalStatus(err)
}

// internalStatus reports a 500 answer without a reason, as the field
// manager gives it.
func internalStatus(err error) bool {
	var status apierrors.APIStatus
	return errors.As(err, &status) && status.Status().Code == http.StatusInternalServerError
}

// notSent records a batch left out because the run is being undone.
func (r *runner) notSent(batch []plan.Change) {
	for _, c := range batch {
		r.record(Result{Action: c.Action, Object: c.ID(), Source: c.Source, Block: c.Block,
			Error: "not sent: another object of this first apply was rejected, so it is undone (see the other results)"})
	}
}

// undo deletes what the run created, last kind first (policies before
// the namespaces that hold them), and turns each of those results into
// a failure that says so.
func (r *runner) undo(ctx context.Context) {
	r.mu.Lock()
	created := slices.Clone(r.created)
	r.mu.Unlock()
	slices.SortStableFunc(created, func(a, b createdObject) int { return r.rank(b.change.Kind) - r.rank(a.change.Kind) })
	outcome := map[string]string{}
	for _, o := range created {
		c := o.change
		err := r.c.Delete(ctx, c.GVK(), c.Namespace, c.Name, o.uid, "")
		outcome[c.ID()] = "created, then deleted again: another object of this first apply was rejected, and a first apply not validated beforehand is all or nothing"
		if err != nil {
			outcome[c.ID()] = "created, but deleting it again failed (" + explain(err) + "): another object of this first apply was rejected; run destroy or fix the intent and apply again"
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, res := range r.report.Results {
		if msg, ok := outcome[res.Object]; ok && res.Error == "" {
			r.report.Results[i].Error = msg
			r.report.Added--
			r.report.Failed++
			if r.opts.Progress != nil {
				r.opts.Progress(r.report.Results[i])
			}
		}
	}
}
