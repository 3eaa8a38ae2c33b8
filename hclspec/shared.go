package hclspec

import (
	"slices"
	"sync"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Shared lets the environments compiled from one parse decode once the
// service and allow blocks that do not depend on the environment
// (envdeps.go), instead of once per environment: in a large stack most
// blocks are the same everywhere, and decoding them was most of a
// compile. Pass the same Shared in Options to every Decode of that parse;
// Decodes may run concurrently. Results are exactly as without it: each
// environment gets the shared block's diagnostics, in the same place, and
// is charged its evaluation cost (falling back to decoding the block
// itself when its budget cannot pay, so that a budget is spent exactly as
// before). Decoded values are shared and never modified afterwards.
type Shared struct {
	src     *Sources
	entries map[hcl.Body]*sharedEntry // only the blocks found independent

	// mu guards the value of service.* built for the first environment
	// (refs), kept with the services it was built from.
	mu       sync.Mutex
	services []*Service
	refs     cty.Value

	// callers counts the decoders that reached each kind of block
	// (prefetchShared), under mu.
	callers map[string]int
}

// sharedEntry is one block's decoding, done by the first environment that
// needs it.
type sharedEntry struct {
	once  sync.Once
	ok    bool // decoded within the budget, with diagnostics safe to copy
	cost  int64
	value any
	diags hcl.Diagnostics // never handed out: each environment gets copies
}

// NewShared finds the blocks of src that decode the same in every
// environment.
func NewShared(src *Sources) *Shared {
	blocks := map[string]hcl.Blocks{}
	for _, b := range src.bodies() {
		content, _ := b.Content(rootSchema)
		for _, blk := range content.Blocks {
			blocks[blk.Type] = append(blocks[blk.Type], blk)
		}
	}
	deps := newEnvDeps(blocks)
	s := &Shared{src: src, entries: map[hcl.Body]*sharedEntry{}}
	for _, b := range blocks["service"] {
		if deps.nodeFixed(depNode{"service", b.Labels[0]}) {
			s.entries[b.Body] = &sharedEntry{}
		}
	}
	for _, b := range blocks["allow"] {
		if deps.blockFixed(b.Body) {
			s.entries[b.Body] = &sharedEntry{}
		}
	}
	return s
}

// Len is the number of blocks decoded once for every environment.
func (s *Shared) Len() int {
	if s == nil {
		return 0
	}
	return len(s.entries)
}

// entry is b's shared decoding, or nil when b is decoded per environment.
func (s *Shared) entry(src *Sources, b *hcl.Block) *sharedEntry {
	if s == nil || s.src != src {
		return nil
	}
	return s.entries[b.Body]
}

// shareBlock returns decode's result for b, decoded once for every
// environment when b is independent of it. usable says whether a shared
// value fits this environment's other blocks (the services an allow names
// must be the shared ones); when it does not, or the budget cannot pay for
// the block, the block is decoded here, as without sharing. decode must
// add its diagnostics to d.diags and change nothing else of d.
func shareBlock[T any](d *decoder, b *hcl.Block, usable func(T) bool, decode func() T) T {
	e := d.shared.entry(d.src, b)
	if e == nil {
		return decode()
	}
	e.once.Do(func() { d.measure(e, func() any { return decode() }) })
	if !e.ok {
		return decode()
	}
	v := e.value.(T)
	if (usable != nil && !usable(v)) || !d.budget.tryCharge(e.cost) {
		return decode()
	}
	for _, diag := range e.diags {
		c := *diag
		if c.EvalContext != nil {
			c.EvalContext = d.ctx
		}
		d.diags = append(d.diags, &c)
	}
	return v
}

// prefetchShared measures the shared entries of blocks from the last one
// backwards, when d is the second decoder to reach this kind of block.
// Two environments decoded at once otherwise go through the shared blocks
// in the same order, each waiting for the other's measurement of the next
// block: one core's work at a time. Now one goes forward and the other
// backward until they meet (an entry measured or being measured), and the
// other environments find every entry measured. It also stops once the
// entries it measured cost d's remaining budget, or at one that hit a
// budget or a limit, so that it never costs more than decoding d once
// more would. Which environment measures an entry does not change any
// result: every environment charges the recorded cost to its own budget,
// all or nothing, where it reaches the block, and decodes the block itself
// when it cannot (shareBlock).
func prefetchShared[T any](d *decoder, kind string, blocks hcl.Blocks, decode func(*hcl.Block) T) {
	s := d.shared
	if s == nil || s.src != d.src || len(s.entries) == 0 {
		return
	}
	s.mu.Lock()
	if s.callers == nil {
		s.callers = map[string]int{}
	}
	s.callers[kind]++
	second := s.callers[kind] == 2
	s.mu.Unlock()
	if !second {
		return
	}
	limit, spent := d.budget.remaining(), int64(0)
	for i := len(blocks) - 1; i >= 0 && spent < limit; i-- {
		b := blocks[i]
		e := s.entries[b.Body]
		if e == nil {
			continue
		}
		measured := false
		e.once.Do(func() {
			measured = true
			d.measure(e, func() any { return decode(b) })
		})
		if !measured || !e.ok {
			return
		}
		spent += e.cost
	}
}

// measure decodes a shared block with a budget of its own (the
// environment's remaining budget, so that measuring costs no more than
// decoding would have) and records its cost and diagnostics. The entry is
// usable only when nothing failed for the budget and every diagnostic's
// evaluation context is the decoder's own (a for expression's child
// context would hold another environment's values).
func (d *decoder) measure(e *sharedEntry, decode func() any) {
	if d.meter == nil {
		d.meter = &Budget{}
		d.meterCtx = &hcl.EvalContext{Functions: d.meter.functions(), Variables: d.ctx.Variables}
	}
	d.meter.reset(d.budget.remaining())
	ctx, budget, start := d.ctx, d.budget, len(d.diags)
	d.ctx, d.budget = d.meterCtx, d.meter
	e.value = decode()
	e.diags = append(hcl.Diagnostics(nil), d.diags[start:]...)
	d.diags = d.diags[:start]
	d.ctx, d.budget = ctx, budget
	e.cost = d.meter.Used()
	e.ok = !d.meter.spent.Load() && !overBudget(e.diags)
	for i, diag := range e.diags {
		if diag.EvalContext != nil && diag.EvalContext != d.meterCtx {
			e.ok = false
		}
		c := *diag
		e.diags[i] = &c
	}
}

// serviceRefs is the value of service.* for ss, an environment's services:
// built once when every environment has the same (shared) services, as
// it is ten thousand objects for a large stack. The services are never
// modified after decoding, so the same pointers mean the same value.
func (d *decoder) serviceRefs(ss []*Service) cty.Value {
	s := d.shared
	if s == nil || s.src != d.src {
		return serviceRefs(ss)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.services != nil && slices.Equal(s.services, ss) {
		return s.refs
	}
	v := serviceRefs(ss)
	if s.services == nil {
		s.services, s.refs = slices.Clone(ss), v
	}
	return v
}
