// Package apply carries out a Plan with server-side apply: the ApplySet
// parent first, then creates and updates kind by kind (bounded concurrency
// within a kind), then deletions, then the parent's final membership. It
// touches only what the plan names and reports a result per object.
package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// Cluster is what apply needs from the API server.
type Cluster interface {
	// ServerSideApply writes obj and returns the written object's metadata.
	ServerSideApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*metav1.PartialObjectMetadata, error)
	Delete(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, uid, resourceVersion string) error
	Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error)
	// RemoveFields removes the fields at the JSON pointers, only if the
	// object is still at resourceVersion, and returns its new one.
	RemoveFields(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, resourceVersion string, pointers []string) (string, error)
}

// Options tune a run.
type Options struct {
	Force       bool                      // take ownership of fields other managers own
	Concurrency int                       // requests in flight within one kind; default DefaultConcurrency
	Progress    func(Result)              // called as each object completes (may be nil)
	KindOrder   []schema.GroupVersionKind // apply order of kinds
	// DeleteParent removes the ApplySet parent at the end (destroy).
	DeleteParent bool
	// Guard, when set, is asked before every write; an error (the stack's
	// lock was lost) stops the run: that write and every later one are
	// not sent, and each says why.
	Guard func() error
	// SwitchEnvironment allows replacing a stack last applied with another
	// environment (a plan made with it allows that by itself).
	SwitchEnvironment bool
}

// Result is the outcome for one object.
type Result struct {
	Action plan.Action `json:"action"`
	Object string      `json:"object"`
	Source string      `json:"source,omitempty"`
	Block  string      `json:"block,omitempty"`
	Error  string      `json:"error,omitempty"`
}

// Report sums up a run.
type Report struct {
	Results   []Result `json:"results"`
	Added     int      `json:"added"`
	Changed   int      `json:"changed"`
	Destroyed int      `json:"destroyed"`
	Failed    int      `json:"failed"`
}

// DefaultConcurrency is how many writes a run keeps in flight within a
// kind. Measured with bench/cluster on 2 cores (docs/benchmarks.md,
// issue 15): 64 against 16 made a first apply of 1,000 objects 30 %
// faster 20 ms away (the round trips overlap four times as much) and
// cost the API server less CPU near it (etcd commits more writes per
// fsync); 128 gained little more and opened some 30 connections (the
// server's limit of streams per HTTP/2 connection), where 64 stays on
// one. The API server's priority and fairness queues what it cannot run
// at once.
const DefaultConcurrency = 64

// Run carries out p. It returns a report even when some requests fail;
// the error is non-nil only when nothing could be attempted.
func Run(ctx context.Context, c Cluster, p *plan.Plan, opts Options) (*Report, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = DefaultConcurrency
	}
	r := &runner{c: c, p: p, opts: opts, report: &Report{}}
	if !p.HasChanges() && !opts.DeleteParent {
		return r.report, nil // nothing to write, not even the parent
	}
	// permissions first: a limited identity should hear everything it
	// lacks at once (the parent is read alongside)
	current, err := r.preflight(ctx)
	if err != nil {
		return nil, err
	}
	if err := r.checkEnvironment(current); err != nil {
		return nil, err
	}
	if err := r.stateNamespace(ctx); err != nil {
		return nil, err
	}
	if err := r.parent(ctx, current.obj); err != nil {
		return nil, fmt.Errorf("recording ApplySet parent ConfigMap %s/%s: %s; nothing was changed", p.StateNamespace, ownership.ParentName(p.Stack), explain(err))
	}
	for _, batch := range r.batches(false) {
		if r.undoing() {
			r.notSent(batch)
			continue
		}
		r.runBatch(ctx, batch)
	}
	if r.undoing() {
		r.undo(ctx)
	}
	for _, batch := range r.batches(true) {
		r.runBatch(ctx, batch)
	}
	if err := r.finishParent(ctx); err != nil {
		r.record(Result{Action: plan.Update, Object: "ConfigMap " + p.StateNamespace + "/" + ownership.ParentName(p.Stack), Error: err.Error()})
	}
	r.sortResults()
	return r.report, nil
}

type runner struct {
	c      Cluster
	p      *plan.Plan
	opts   Options
	mu     sync.Mutex
	report *Report
	// created are the objects this run created, for undo
	created []createdObject
	// rejected is set when the server refused a create of a run whose
	// creates were not validated beforehand (see undo.go).
	rejected bool
	// recorded is the ApplySet parent as the run first wrote it.
	recorded *unstructured.Unstructured
}

// batches groups the plan's writes (or deletions) by kind, in kind order;
// deletions run in reverse kind order, policies before routes.
func (r *runner) batches(deletes bool) [][]plan.Change {
	byKind := map[string][]plan.Change{}
	for _, c := range r.p.Changes {
		isDelete := c.Action == plan.Delete
		if c.Action == plan.NoOp || isDelete != deletes || r.isStateNamespace(c) {
			continue
		}
		byKind[c.Kind] = append(byKind[c.Kind], c)
	}
	var kinds []string
	for k := range byKind {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		ri, rj := r.rank(kinds[i]), r.rank(kinds[j])
		if deletes {
			ri, rj = -ri, -rj
		}
		return ri < rj || (ri == rj && kinds[i] < kinds[j])
	})
	var out [][]plan.Change
	for _, k := range kinds {
		out = append(out, byKind[k])
	}
	return out
}

func (r *runner) rank(kind string) int {
	for i, k := range r.opts.KindOrder {
		if k.Kind == kind {
			return i
		}
	}
	return len(r.opts.KindOrder)
}

// runBatch runs one kind's changes with bounded concurrency.
func (r *runner) runBatch(ctx context.Context, batch []plan.Change) {
	sem := make(chan struct{}, r.opts.Concurrency)
	var wg sync.WaitGroup
	for _, c := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func(c plan.Change) {
			defer wg.Done()
			defer func() { <-sem }()
			r.record(r.one(ctx, c))
		}(c)
	}
	wg.Wait()
}

func (r *runner) one(ctx context.Context, c plan.Change) Result {
	res := Result{Action: c.Action, Object: c.ID(), Source: c.Source, Block: c.Block}
	if c.Action == plan.Create && r.undoing() {
		res.Error = "not sent: another object of this first apply was rejected, so it is undone (see the other results)"
		return res
	}
	if err := r.guard(); err != nil {
		res.Error = "not sent: " + err.Error()
		return res
	}
	var err error
	switch c.Action {
	case plan.Create:
		err = r.create(ctx, c)
	case plan.Update:
		rv, msg := r.removeDrift(ctx, c)
		if msg != "" {
			res.Error = msg
			return res
		}
		if c.RepairsDrift() {
			res.Error = r.retake(ctx, c, rv)
			return res
		}
		_, err = r.c.ServerSideApply(ctx, c.DesiredObject(), r.opts.Force)
	case plan.Delete:
		if c.Live == nil {
			// plan.CheckScope refuses such a plan; a library caller may not
			// have run it, and a delete without preconditions is never safe.
			res.Error = "a delete without the live object it was planned against is never sent"
			return res
		}
		err = r.c.Delete(ctx, c.GVK(), c.Namespace, c.Name, c.Live.UID, c.Live.ResourceVersion)
	}
	if err != nil {
		res.Error = explain(err)
	}
	return res
}

// removeDrift removes the fields other managers added that the plan
// showed as drift, before the apply: server-side apply alone leaves them.
// The resourceVersion the plan read is the precondition, so nothing is
// removed from an object that changed since (the pointers may no longer
// name the same fields).
// It returns the object's resourceVersion after the removal (the plan's
// when there is nothing to remove), or why it stopped.
func (r *runner) removeDrift(ctx context.Context, c plan.Change) (string, string) {
	var read string
	if c.Live != nil {
		read = c.Live.ResourceVersion
	}
	if len(c.Removals) == 0 {
		return read, ""
	}
	if read == "" {
		return "", "removing fields without the live object they were read from is never sent"
	}
	rv, err := r.c.RemoveFields(ctx, c.GVK(), c.Namespace, c.Name, read, c.Removals)
	switch {
	case err == nil:
		return rv, ""
	case apierrors.IsConflict(err) || apierrors.IsInvalid(err):
		return "", fmt.Sprintf("the object changed since the plan was made (resourceVersion %s): the fields other managers added (%s) were not removed and nothing was applied; run plan again",
			read, strings.Join(c.Removals, ", "))
	}
	return "", "removing the fields other managers added (" + strings.Join(c.Removals, ", ") + "): " + explain(err)
}

// guard says whether writing may go on.
func (r *runner) guard() error {
	if r.opts.Guard == nil {
		return nil
	}
	return r.opts.Guard()
}

func (r *runner) record(res Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.report.Results = append(r.report.Results, res)
	switch {
	case res.Error != "":
		r.report.Failed++
	case res.Action == plan.Create:
		r.report.Added++
	case res.Action == plan.Update:
		r.report.Changed++
	case res.Action == plan.Delete:
		r.report.Destroyed++
	}
	if r.opts.Progress != nil {
		r.opts.Progress(res)
	}
}

// sortResults puts results in the plan's order (concurrency finishes them
// in any order), so reports are deterministic.
func (r *runner) sortResults() {
	rank := map[string]int{}
	for i, c := range r.p.Changes {
		rank[c.ID()] = i
	}
	sort.SliceStable(r.report.Results, func(i, j int) bool {
		ri, ok := rank[r.report.Results[i].Object]
		if !ok {
			ri = len(rank)
		}
		rj, ok := rank[r.report.Results[j].Object]
		if !ok {
			rj = len(rank)
		}
		return ri < rj
	})
}
