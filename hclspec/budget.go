package hclspec

import (
	"errors"
	"fmt"
	"math/big"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// Evaluation budget. Within the input bounds (guard.go), a few lines of HCL
// can still ask for gigabytes: three nested for expressions over
// range(1024) make a billion elements, format("%999999999d", 1) a
// gigabyte string, and forty locals that each double the one before
// ("${local.a}${local.a}") a terabyte. So every value evaluation builds is
// charged to a budget, one per command run, and evaluation fails with a
// diagnostic at the expression that spends it. docs/safety.md has the
// measurements behind the numbers.
const (
	// DefaultMaxEvalWork is the budget unless the caller (the
	// --max-eval-work flag) allows more; Decode adds one unit per byte of
	// the intent's files. The 10,000-service benchmark intent (1.7 MB)
	// uses 312,000 of its 2.8 million.
	DefaultMaxEvalWork int64 = 1 << 20

	// iterationCost is what one element of a for expression's collection
	// costs, before its value is charged: an iteration costs HCL's
	// evaluator about 16 times what counting one value does.
	iterationCost = 16

	// bytesPerUnit is how many bytes of a string one unit pays for.
	bytesPerUnit = 16

	// maxNumberExp bounds the binary exponent of a number: 2^16384 has
	// 4,933 decimal digits. Printing a number takes time that grows faster
	// than its digits (a million digits take half a second), and HCL's
	// numbers go up to 2^(2^31).
	maxNumberExp = 1 << 14
)

// Budget is the evaluation work left to one command run. Its methods are
// safe for concurrent use; a nil *Budget is unlimited.
type Budget struct {
	limit int64
	used  atomic.Int64
	spent atomic.Bool
}

// NewBudget returns a budget of limit units (<= 0: DefaultMaxEvalWork).
func NewBudget(limit int64) *Budget {
	if limit <= 0 {
		limit = DefaultMaxEvalWork
	}
	return &Budget{limit: limit}
}

// Used is the work charged so far, for measurements.
func (b *Budget) Used() int64 {
	if b == nil {
		return 0
	}
	return b.used.Load()
}

// remaining is what is left of the budget: 0 once it is spent.
func (b *Budget) remaining() int64 {
	if b == nil {
		return DefaultMaxEvalWork
	}
	if b.spent.Load() {
		return 0
	}
	return max(b.limit-b.used.Load(), 0)
}

// tryCharge takes n units if they are left, all or nothing: the charge of
// a block decoded once for every environment (shared.go), which must fail
// wherever decoding the block itself would have.
func (b *Budget) tryCharge(n int64) bool {
	if b == nil {
		return true
	}
	for {
		used := b.used.Load()
		if b.spent.Load() || used+n > b.limit {
			return false
		}
		if b.used.CompareAndSwap(used, used+n) {
			return true
		}
	}
}

// reset makes b a fresh budget of limit units, for measuring one block's
// cost; only the goroutine that owns b may call it.
func (b *Budget) reset(limit int64) {
	b.limit = limit
	b.used.Store(0)
	b.spent.Store(false)
}

// budgetError is the error of the charge that spent the budget (first),
// and of every later one.
type budgetError struct {
	limit int64
	what  string // what was being built, when more specific than "value"
	first bool
}

func (e *budgetError) Error() string {
	return fmt.Sprintf("evaluation budget of %d units exceeded", e.limit)
}

// numberError refuses a number too large to print in reasonable time.
type numberError struct{ exp int }

func (e *numberError) Error() string { return "number too large: " + e.magnitude() }

// Error's text without its prefix, for the diagnostic.
func (e *numberError) magnitude() string {
	return fmt.Sprintf("about 10^%d", int(float64(e.exp)*0.30103))
}

// charge takes n units; what describes them for the diagnostic.
func (b *Budget) charge(n int64, what string) error {
	if b == nil {
		return nil
	}
	if b.spent.Load() {
		return &budgetError{limit: b.limit, what: what}
	}
	if b.used.Add(n) <= b.limit {
		return nil
	}
	return &budgetError{limit: b.limit, what: what, first: !b.spent.Swap(true)}
}

// chargeValue charges times the deep size of v: shared parts count each time
// they are reached, as every later traversal of v reaches them again.
func (b *Budget) chargeValue(v cty.Value, what string, times int64) error {
	if b == nil {
		return nil
	}
	left := b.limit - b.used.Load()
	n, err := valueSize(v, left/times+1)
	if err != nil {
		return err
	}
	return b.charge(n*times, what)
}

// valueSize is the size of v in units: one per value, plus its bytes for
// a string. It stops counting past limit.
func valueSize(v cty.Value, limit int64) (int64, error) {
	v, _ = v.Unmark()
	if !v.IsKnown() || v.IsNull() {
		return 1, nil
	}
	t := v.Type()
	switch {
	case t == cty.String:
		return 1 + int64(len(v.AsString()))/bytesPerUnit, nil
	case t == cty.Number:
		return 1, checkNumber(v)
	case t.IsPrimitiveType():
		return 1, nil
	}
	if t.IsCapsuleType() || !v.CanIterateElements() {
		return 1, nil
	}
	n := int64(1)
	add := func(e cty.Value) error {
		s, err := valueSize(e, limit-n)
		n += s
		return err
	}
	// Not ElementIterator: it allocates a number for every tuple index.
	if t.IsObjectType() || t.IsMapType() {
		for _, e := range v.AsValueMap() {
			if n > limit {
				break
			}
			if err := add(e); err != nil {
				return n, err
			}
		}
		return n, nil
	}
	for _, e := range v.AsValueSlice() {
		if n > limit {
			break
		}
		if err := add(e); err != nil {
			return n, err
		}
	}
	return n, nil
}

// checkNumber refuses a known number beyond ±2^maxNumberExp, or nearer
// to zero than 2^-maxNumberExp.
func checkNumber(v cty.Value) error {
	v, _ = v.Unmark()
	if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() {
		return nil
	}
	f := v.AsBigFloat()
	if f.IsInf() {
		return nil
	}
	// tiny numbers too: 1e-9999999 prints as ten million digits
	if exp := f.MantExp(nil); exp > maxNumberExp || exp < -maxNumberExp {
		return &numberError{exp: exp}
	}
	return nil
}

// explainBudget rewrites the diagnostics of failed charges: the first
// budget error says what happened and how to raise the limit, later ones
// (every charge fails once the budget is spent) are dropped.
func explainBudget(diags hcl.Diagnostics) hcl.Diagnostics {
	keep := -1 // the budget error to show: the one that spent it, else the first
	for i, d := range diags {
		var be *budgetError
		if errors.As(callError(d), &be) && (keep < 0 || be.first) {
			keep = i
			if be.first {
				break
			}
		}
	}
	out := diags[:0:0]
	for i, d := range diags {
		var be *budgetError
		var ne *numberError
		err := callError(d)
		switch {
		case errors.As(err, &be):
			if i != keep {
				continue
			}
			d.Summary = "Evaluation budget exceeded"
			d.Detail = budgetDetail(be)
		case errors.As(err, &ne):
			d.Summary = "Number too large"
			d.Detail = fmt.Sprintf("This number is %s. perimeter refuses numbers beyond 2^%d (about 10^4932), and nearer to zero than 2^-%[2]d: "+
				"printing one takes time that grows faster than its digits.", ne.magnitude(), maxNumberExp)
		}
		out = append(out, d)
	}
	return out
}

// overBudget reports whether diags hold a failed charge.
func overBudget(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		var be *budgetError
		var ne *numberError
		if err := callError(d); errors.As(err, &be) || errors.As(err, &ne) {
			return true
		}
	}
	return false
}

// callError is the error a function returned, for a diagnostic of a
// failed call.
func callError(d *hcl.Diagnostic) error {
	if x, ok := d.Extra.(hclsyntax.FunctionCallDiagExtra); ok {
		return x.FunctionCallError()
	}
	return nil
}

func budgetDetail(e *budgetError) string {
	what := "Evaluating this expression"
	if e.what != "" {
		what = e.what
	}
	return fmt.Sprintf("%s takes the intent past its evaluation budget of %d units (a unit is one value, or %d bytes of text; "+
		"an element of a for expression costs %d; the budget is --max-eval-work plus a unit per byte of the intent's files). perimeter stops here rather than build a value this large. "+
		"If the intent really needs more, raise the budget with --max-eval-work or PERIMETER_MAX_EVAL_WORK.",
		what, e.limit, bytesPerUnit, iterationCost)
}

var ctyTrue = cty.True

// bigFloatOf is the number of v, for checks of function arguments.
func bigFloatOf(v cty.Value) *big.Float {
	v, _ = v.Unmark()
	if v.Type() != cty.Number || !v.IsKnown() || v.IsNull() {
		return nil
	}
	return v.AsBigFloat()
}
