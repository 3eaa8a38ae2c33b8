package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// The commands that plan hold a stack's desired and live objects at once:
// 10-20 MB per thousand objects, most of it live until the plan is shown. Go's default collector lets the heap grow to twice what the last
// collection found live, so a 10,000-object plan peaked above 400 MB for
// about 200 MB of live data. limitHeadroom bounds the garbage instead: after
// every collection a soft memory limit (debug.SetMemoryLimit) is set to what
// the runtime holds besides the heap, plus the live heap, plus
// max(minHeadroom, live/headroomDivisor). While the live heap is under
// minHeadroom, GOGC=100's goal (twice the live heap) is the lower and
// nothing changes; above, the collector runs once per headroom allocated. Measured in docs/benchmarks.md ("Issue 15,
// fourth pass"): no measurable time at 5,000 objects, about a fifth more at
// 10,000 and half at 20,000, for 10 %, 30 % and 40 % less peak RSS.
const (
	minHeadroom     = 64 << 20
	headroomDivisor = 4
)

// headroomLimit is the soft memory limit for a heap with live bytes live
// when the runtime holds overhead bytes besides heap objects and free heap.
func headroomLimit(live, overhead uint64) int64 {
	limit := overhead + live + max(minHeadroom, live/headroomDivisor)
	if limit > math.MaxInt64 || limit < live { // cannot happen with real figures; never wrap
		return math.MaxInt64
	}
	return int64(limit)
}

// headroom is the running policy; nil when it is off.
type headroom struct {
	stopped atomic.Bool
	samples []metrics.Sample
}

// limitHeadroom starts the policy, unless the user chose the collector's
// settings (GOGC or GOMEMLIMIT in the environment: theirs win). The returned
// function stops it and lifts the limit.
func limitHeadroom() func() {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return func() {}
	}
	h := &headroom{samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}}
	h.arm()
	return func() {
		h.stopped.Store(true)
		debug.SetMemoryLimit(math.MaxInt64)
	}
}

// gcSentinel is garbage from the moment it is made: its finalizer runs
// after the next collection. (A pointer field keeps it out of the tiny
// allocator, whose blocks are freed late.)
type gcSentinel struct {
	_ *int
	_ [48]byte
}

// arm has adjust run after the next collection, and arm again.
func (h *headroom) arm() {
	runtime.SetFinalizer(&gcSentinel{}, func(*gcSentinel) {
		if h.stopped.Load() {
			return
		}
		h.adjust()
		h.arm()
	})
}

// adjust sets the limit from what the last collection found. Finalizers
// run one at a time, so adjust never runs twice at once.
func (h *headroom) adjust() {
	metrics.Read(h.samples)
	v := func(i int) uint64 {
		if h.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return h.samples[i].Value.Uint64()
	}
	live, total, released, free, objects := v(0), v(1), v(2), v(3), v(4)
	if live == 0 || total < released+free+objects {
		return // no collection yet, or figures this runtime does not give
	}
	if !h.stopped.Load() {
		debug.SetMemoryLimit(headroomLimit(live, total-released-free-objects))
	}
}
