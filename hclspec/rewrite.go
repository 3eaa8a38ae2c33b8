package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The evaluation budget needs hooks inside HCL's evaluator, which has none:
// hclsyntax.Expression cannot be implemented outside its package. So after
// parsing, the syntax tree is rewritten: the places where evaluation builds
// or multiplies values are wrapped in calls of internal functions
// (budgetFunctions) that charge the budget by the size of the value passing
// through, and fail once it is spent. The names hold "::", so they cannot
// collide with the intent's own functions.
const (
	// fnValue charges the deep size of a value (a reference, an
	// interpolation, an arithmetic result, an iteration's result).
	fnValue = "perimeter::budget::value"
	// fnEach charges a for expression's collection, per element, before
	// the loop runs.
	fnEach = "perimeter::budget::each"
	// fnGuard is a for expression's condition: once the budget is spent
	// it is unknown, so the loop skips its remaining elements without
	// evaluating them (and without a diagnostic each).
	fnGuard = "perimeter::budget::guard"
)

// chargeBodies rewrites the expressions of every attribute of a parsed
// file, in nested blocks too. A variable block's type is left alone: it is
// read as a type expression, not evaluated.
func chargeBodies(b *hclsyntax.Body, blockType string) {
	for name, a := range b.Attributes {
		if blockType == "variable" && name == "type" {
			continue
		}
		a.Expr = chargeExpr(a.Expr)
	}
	for _, blk := range b.Blocks {
		chargeBodies(blk.Body, blk.Type)
	}
}

// chargeFile rewrites a parsed file's body, if it is native syntax.
func chargeFile(f *hcl.File) {
	if f == nil {
		return
	}
	if b, ok := f.Body.(*hclsyntax.Body); ok {
		chargeBodies(b, "")
	}
}

// chargeExpr returns e with its children rewritten, wrapped in a charge
// when e is a reference or an operation. The nodes other code reads
// statically (tuples and objects through hcl.ExprList and hcl.ExprMap,
// templates for heredoc positions, object keys through hcl.ExprAsKeyword)
// keep their type; only their children change.
func chargeExpr(e hclsyntax.Expression) hclsyntax.Expression {
	switch x := e.(type) {
	case *hclsyntax.ScopeTraversalExpr:
		return call(fnValue, x)
	case *hclsyntax.RelativeTraversalExpr:
		x.Source = chargeExpr(x.Source)
		return call(fnValue, x)
	case *hclsyntax.IndexExpr:
		x.Collection, x.Key = chargeExpr(x.Collection), chargeExpr(x.Key)
		return call(fnValue, x)
	case *hclsyntax.BinaryOpExpr:
		x.LHS, x.RHS = chargeExpr(x.LHS), chargeExpr(x.RHS)
		return call(fnValue, x)
	case *hclsyntax.UnaryOpExpr:
		x.Val = chargeExpr(x.Val)
		return call(fnValue, x)
	case *hclsyntax.LiteralValueExpr:
		if checkNumber(x.Val) != nil {
			return call(fnValue, x) // a number too large to print, refused when evaluated
		}
	case *hclsyntax.ParenthesesExpr:
		x.Expression = chargeExpr(x.Expression)
	case *hclsyntax.ConditionalExpr:
		x.Condition, x.TrueResult, x.FalseResult = chargeExpr(x.Condition), chargeExpr(x.TrueResult), chargeExpr(x.FalseResult)
	case *hclsyntax.FunctionCallExpr:
		// the functions themselves are wrapped (budgetFunctions)
		for i := range x.Args {
			x.Args[i] = chargeExpr(x.Args[i])
		}
	case *hclsyntax.ForExpr:
		chargeFor(x)
	case *hclsyntax.SplatExpr:
		x.Source = chargeExpr(x.Source)
		x.Each = chargeExpr(x.Each)
	case *hclsyntax.TupleConsExpr:
		for i := range x.Exprs {
			x.Exprs[i] = chargeExpr(x.Exprs[i])
		}
	case *hclsyntax.ObjectConsExpr:
		for i := range x.Items {
			x.Items[i].KeyExpr = chargeKey(x.Items[i].KeyExpr)
			x.Items[i].ValueExpr = chargeExpr(x.Items[i].ValueExpr)
		}
	case *hclsyntax.TemplateExpr:
		for i, p := range x.Parts {
			if _, literal := p.(*hclsyntax.LiteralValueExpr); !literal {
				x.Parts[i] = call(fnValue, chargeExpr(p))
			}
		}
	case *hclsyntax.TemplateWrapExpr:
		x.Wrapped = call(fnValue, chargeExpr(x.Wrapped))
	case *hclsyntax.TemplateJoinExpr:
		x.Tuple = chargeExpr(x.Tuple)
	}
	return e
}

// chargeKey rewrites an object key's expression but not a bare name,
// which is the key itself, not a reference.
func chargeKey(e hclsyntax.Expression) hclsyntax.Expression {
	k, ok := e.(*hclsyntax.ObjectConsKeyExpr)
	if !ok {
		return chargeExpr(e)
	}
	if _, bare := k.Wrapped.(*hclsyntax.ScopeTraversalExpr); !bare || k.ForceNonLiteral {
		k.Wrapped = chargeExpr(k.Wrapped)
	}
	return k
}

// chargeFor charges a for expression: its collection per element before
// the loop, each key and value as it is made, and a guard that skips the
// rest of the loop once the budget is spent. (hclsyntax's ForExpr returns
// at once when the collection is unknown, as a failed charge leaves it, and
// skips an element whose condition is unknown.)
func chargeFor(x *hclsyntax.ForExpr) {
	x.CollExpr = call(fnEach, chargeExpr(x.CollExpr))
	if x.KeyExpr != nil {
		x.KeyExpr = call(fnValue, chargeExpr(x.KeyExpr))
	}
	x.ValExpr = call(fnValue, chargeExpr(x.ValExpr))
	cond := x.CondExpr
	if cond == nil {
		cond = &hclsyntax.LiteralValueExpr{Val: ctyTrue, SrcRange: x.SrcRange}
	}
	x.CondExpr = call(fnGuard, chargeExpr(cond))
}

// call wraps e in a call of the internal function name, at e's range, so
// that a diagnostic of the call points at e.
func call(name string, e hclsyntax.Expression) *hclsyntax.FunctionCallExpr {
	r := e.Range()
	return &hclsyntax.FunctionCallExpr{
		Name: name, Args: []hclsyntax.Expression{e},
		NameRange: r, OpenParenRange: r, CloseParenRange: r,
	}
}
