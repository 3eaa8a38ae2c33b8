package hclspec

import (
	"math"
	"math/big"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// functions returns the intent's functions bound to b, and the internal
// charging functions the rewritten syntax tree calls (rewrite.go). Each
// intent function fails at once when the budget is spent; the ones whose
// arguments can ask for a result far larger than themselves (a format
// width, an indent, a separator, a replacement, a product of sets) are
// charged that size before they run; and every result is charged after.
func (b *Budget) functions() map[string]function.Function {
	fns := Functions()
	for name, f := range fns {
		fns[name] = b.wrap(name, f, prechecks[name])
	}
	for name, f := range b.internal() {
		fns[name] = f
	}
	return fns
}

// internal returns only the charging functions: the context of values
// files and --var values, which may call no intent function.
func (b *Budget) internal() map[string]function.Function {
	fns := map[string]function.Function{}
	passthrough := []function.Parameter{{Name: "value", Type: cty.DynamicPseudoType,
		AllowNull: true, AllowUnknown: true, AllowDynamicType: true, AllowMarked: true}}
	same := func(args []cty.Value) (cty.Type, error) { return args[0].Type(), nil }
	fns[fnValue] = function.New(&function.Spec{Params: passthrough, Type: same,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			// twice its size: cty walks every argument of a call once
			// (for marks) before this function sees it
			return args[0], b.chargeValue(args[0], "", 2)
		}})
	fns[fnEach] = function.New(&function.Spec{Params: passthrough, Type: same,
		Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
			v, _ := args[0].Unmark()
			n := int64(1)
			if v.IsKnown() && !v.IsNull() && v.CanIterateElements() {
				n += int64(v.LengthInt()) * iterationCost
			}
			return args[0], b.charge(n, "Iterating over this collection")
		}})
	fns[fnGuard] = function.New(&function.Spec{Params: passthrough, Type: same,
		Impl: func(args []cty.Value, ret cty.Type) (cty.Value, error) {
			if b.spent.Load() {
				return cty.UnknownVal(ret), nil
			}
			return args[0], nil
		}})
	return fns
}

// wrap binds f, the intent's function name, to the budget, with its
// check before it runs (or none).
func (b *Budget) wrap(name string, f function.Function, pre func([]cty.Value) (int64, string)) function.Function {
	return function.New(&function.Spec{
		Description: f.Description(), Params: f.Params(), VarParam: f.VarParam(),
		Type: f.ReturnTypeForValues,
		Impl: func(args []cty.Value, ret cty.Type) (cty.Value, error) {
			if err := checkArgs(name, args); err != nil {
				return cty.UnknownVal(ret), err
			}
			cost, what := int64(1), ""
			if pre != nil {
				n, w := pre(args)
				cost, what = satAdd(cost, n), w
			}
			if err := b.charge(cost, what); err != nil {
				return cty.UnknownVal(ret), err
			}
			v, err := f.Call(args)
			if err != nil {
				return v, err
			}
			return v, b.chargeValue(v, "", 1)
		},
	})
}

// prechecks estimate, from the arguments, the size of the results that
// can be far larger than the arguments, in units.
var prechecks = map[string]func([]cty.Value) (int64, string){
	"format": func(args []cty.Value) (int64, string) {
		return formatWidths(args[0]) / bytesPerUnit, "The widths and precisions of this format"
	},
	"formatlist": func(args []cty.Value) (int64, string) {
		n := int64(1)
		for _, a := range args[1:] {
			if known(a) && (a.Type().IsListType() || a.Type().IsTupleType()) {
				n = max(n, int64(a.LengthInt()))
			}
		}
		return satMul(formatWidths(args[0])/bytesPerUnit+1, n), "The widths and precisions of this format, for every element,"
	},
	"indent": func(args []cty.Value) (int64, string) {
		if !known(args[0]) || !known(args[1]) {
			return 0, ""
		}
		if f := bigFloatOf(args[0]); f != nil && f.Sign() < 0 {
			return 0, "" // refused by checkArgs
		}
		lines := int64(strings.Count(args[1].AsString(), "\n"))
		return satMul(number(args[0]), lines) / bytesPerUnit, "This indentation"
	},
	"join": func(args []cty.Value) (int64, string) {
		if !known(args[0]) {
			return 0, ""
		}
		var n int64
		for _, l := range args[1:] {
			if known(l) {
				n += int64(l.LengthInt())
			}
		}
		return satMul(int64(len(args[0].AsString())), n) / bytesPerUnit, "Joining with this separator"
	},
	"replace": func(args []cty.Value) (int64, string) {
		if !known(args[0]) || !known(args[1]) || !known(args[2]) {
			return 0, ""
		}
		return replaceSize(args[0].AsString(), args[1].AsString(), args[2].AsString()) / bytesPerUnit, "This replacement"
	},
	"setproduct": func(args []cty.Value) (int64, string) {
		n := int64(1)
		for _, a := range args {
			if known(a) && a.CanIterateElements() {
				n = satMul(n, int64(a.LengthInt()))
			}
		}
		return satMul(n, int64(len(args))+1), "The product of these sets"
	},
}

// checkArgs refuses what makes a function of go-cty panic rather than
// fail: a negative count of spaces for indent (strings.Repeat panics, and
// the panic's stack trace would be the diagnostic).
func checkArgs(name string, args []cty.Value) error {
	if name != "indent" || len(args) == 0 {
		return nil
	}
	if n := bigFloatOf(args[0]); n != nil && n.Sign() < 0 {
		return function.NewArgErrorf(0, "the number of spaces must not be negative")
	}
	return nil
}

// formatWidths adds up the widths and precisions written in a format
// string: format pads to them, whatever its arguments.
func formatWidths(v cty.Value) int64 {
	if !known(v) || v.Type() != cty.String {
		return 0
	}
	s := v.AsString()
	var total int64
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		// up to the verb: flags, [n], width, .precision
		for i++; i < len(s) && !isLetter(s[i]) && s[i] != '%'; i++ {
			start := i
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
			if i > start {
				n, ok := new(big.Int).SetString(s[start:i], 10)
				if ok && n.IsInt64() {
					total = satAdd(total, n.Int64())
				} else {
					total = math.MaxInt64
				}
				i--
			}
		}
	}
	return total
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// replaceSize bounds the length of replace's result. A substring is
// counted exactly; for a /regex/ every position may match, and each $
// of the replacement may bring back the whole string.
func replaceSize(str, sub, repl string) int64 {
	if len(sub) > 1 && sub[0] == '/' && sub[len(sub)-1] == '/' {
		re, err := regexp.Compile(sub[1 : len(sub)-1])
		if err != nil {
			return 0 // replace reports it
		}
		matches := int64(len(re.FindAllStringIndex(str, -1)))
		per := satAdd(int64(len(repl)), satMul(int64(strings.Count(repl, "$")), int64(len(str))))
		return satAdd(int64(len(str)), satMul(matches, per))
	}
	if sub == "" {
		return satAdd(int64(len(str)), satMul(int64(len(str))+1, int64(len(repl))))
	}
	return satAdd(int64(len(str)), satMul(int64(strings.Count(str, sub)), int64(len(repl))))
}

func known(v cty.Value) bool {
	v, _ = v.Unmark()
	return v.IsKnown() && !v.IsNull()
}

// number is v as a non-negative int64, saturated (0 when not a number).
func number(v cty.Value) int64 {
	f := bigFloatOf(v)
	if f == nil || f.Sign() <= 0 {
		return 0
	}
	if f.Cmp(big.NewFloat(math.MaxInt64)) >= 0 {
		return math.MaxInt64
	}
	n, _ := f.Int64()
	return n
}

func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
