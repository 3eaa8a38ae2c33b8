package hclspec

import (
	"fmt"
	"sort"

	"github.com/agext/levenshtein"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/ext/typeexpr"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
)

// variable is a declared input of the intent.
type variable struct {
	name     string
	typ      cty.Type
	def      cty.Value // cty.NilVal when required
	declared hcl.Range
}

// environment is a named set of variable values.
type environment struct {
	name   string
	values map[string]cty.Value
	block  hcl.Range
}

var variableSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type"}, {Name: "default"}, {Name: "description"},
}}

var environmentSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "variables"}, {Name: "description"},
}}

// decodeVariable reads a variable block. Defaults are constants: they may use
// functions but no other variables.
func decodeVariable(b *hcl.Block, fns *hcl.EvalContext) (*variable, hcl.Diagnostics) {
	v := &variable{name: b.Labels[0], typ: cty.DynamicPseudoType, def: cty.NilVal, declared: b.DefRange}
	content, diags := b.Body.Content(variableSchema)
	if !hclsyntax.ValidIdentifier(v.name) {
		diags = append(diags, errorAt(b.LabelRanges[0], "Invalid variable name",
			"%q is not a valid identifier: use letters, digits, '_' and '-', starting with a letter.", v.name))
	}
	if a, ok := content.Attributes["type"]; ok {
		t, d := typeexpr.TypeConstraint(a.Expr)
		diags = append(diags, d...)
		if !d.HasErrors() {
			v.typ = t
		}
	}
	if a, ok := content.Attributes["description"]; ok {
		_, d := a.Expr.Value(fns)
		diags = append(diags, d...)
	}
	if a, ok := content.Attributes["default"]; ok {
		val, d := a.Expr.Value(fns)
		diags = append(diags, d...)
		if !d.HasErrors() {
			c, err := convert.Convert(val, v.typ)
			if err != nil {
				diags = append(diags, errorAt(a.Expr.Range(), "Invalid default value for variable",
					"The default of %q is not a %s: %s.", v.name, v.typ.FriendlyName(), err))
			} else {
				v.def = c
			}
		}
	}
	return v, diags
}

// decodeEnvironment reads an environment block and checks that it sets only
// declared variables, with values of their types.
func decodeEnvironment(b *hcl.Block, fns *hcl.EvalContext, vars map[string]*variable) (*environment, hcl.Diagnostics) {
	env := &environment{name: b.Labels[0], values: map[string]cty.Value{}, block: b.DefRange}
	content, diags := b.Body.Content(environmentSchema)
	if msg := validateDNSLabel(env.name); msg != "" {
		diags = append(diags, errorAt(b.LabelRanges[0], "Invalid environment name", "%q: %s.", env.name, msg))
	}
	a, ok := content.Attributes["variables"]
	if !ok {
		return env, diags
	}
	pairs, d := hcl.ExprMap(a.Expr)
	if d.HasErrors() {
		return env, append(diags, errorAt(a.Expr.Range(), "Invalid environment variables",
			"\"variables\" must be an object literal, e.g. { api_host = \"api.example.com\" }."))
	}
	for _, kv := range pairs {
		key, d := kv.Key.Value(nil)
		if d.HasErrors() || key.Type() != cty.String || key.IsNull() {
			// bare identifiers as keys evaluate as traversals; read their name
			if name := hcl.ExprAsKeyword(kv.Key); name != "" {
				key = cty.StringVal(name)
			} else {
				diags = append(diags, errorAt(kv.Key.Range(), "Invalid variable name", "Keys of \"variables\" must be variable names."))
				continue
			}
		}
		name := key.AsString()
		decl, ok := vars[name]
		if !ok {
			diags = append(diags, errorAt(kv.Key.Range(), "Undeclared variable",
				"Environment %q sets %q, but no variable block declares it.%s", env.name, name, didYouMean(name, sortedKeys(vars))))
			continue
		}
		if _, dup := env.values[name]; dup {
			diags = append(diags, errorAt(kv.Key.Range(), "Duplicate variable value", "Environment %q sets %q twice.", env.name, name))
			continue
		}
		val, d := kv.Value.Value(fns)
		diags = append(diags, d...)
		if d.HasErrors() {
			continue
		}
		c, err := convert.Convert(val, decl.typ)
		if err != nil {
			diags = append(diags, errorAt(kv.Value.Range(), "Invalid value for variable",
				"Environment %q sets %q to a value that is not a %s: %s.", env.name, name, decl.typ.FriendlyName(), err))
			continue
		}
		env.values[name] = c
	}
	return env, diags
}

// resolveVariables picks each variable's value: --var first, then the
// values files, then the environment, then the default. A variable with
// none of them is an error.
func resolveVariables(vars map[string]*variable, env *environment, files map[string]cty.Value, cli map[string]string, literals *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	values := map[string]cty.Value{}
	for _, name := range sortedKeys(cli) {
		decl, ok := vars[name]
		if !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Undeclared variable",
				Detail: fmt.Sprintf("--var sets %q, but no variable block declares it.%s", name, didYouMean(name, sortedKeys(vars)))})
			continue
		}
		v, d := parseCLIValue(name, cli[name], decl.typ, literals)
		diags = append(diags, d...)
		values[name] = v
	}
	for _, name := range sortedKeys(vars) {
		if _, ok := values[name]; ok {
			continue
		}
		decl := vars[name]
		switch {
		case files[name] != cty.NilVal:
			values[name] = files[name]
		case env != nil && env.values[name] != cty.NilVal:
			values[name] = env.values[name]
		case decl.def != cty.NilVal:
			values[name] = decl.def
		default:
			where := "set it in an environment block and pass --env, or pass --var " + name + "=VALUE"
			if env != nil {
				where = fmt.Sprintf("environment %q does not set it; add it there or pass --var %s=VALUE", env.name, name)
			}
			diags = append(diags, errorAt(decl.declared, "No value for required variable",
				"Variable %q has no default and no value: %s.", name, where))
			values[name] = cty.UnknownVal(decl.typ)
		}
	}
	if len(values) == 0 {
		return cty.EmptyObjectVal, diags
	}
	return cty.ObjectVal(values), diags
}

func parseCLIValue(name, raw string, typ cty.Type, literals *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	if typ == cty.String || typ == cty.DynamicPseudoType {
		return cty.StringVal(raw), nil
	}
	invalid := func(why string) (cty.Value, hcl.Diagnostics) {
		return cty.UnknownVal(typ), hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Invalid value for variable",
			Detail: fmt.Sprintf("--var %s=%s: variable %q is of type %s, and %s.", name, raw, name, typ.FriendlyName(), why)}}
	}
	filename := fmt.Sprintf("<value for var.%s>", name)
	// the bounds of intent files hold for values too: the parser recurses
	if d := CheckSource(filename, []byte(raw)); d != nil {
		return cty.UnknownVal(typ), hcl.Diagnostics{d}
	}
	expr, diags := hclsyntax.ParseExpression([]byte(raw), filename, hcl.InitialPos)
	if diags.HasErrors() {
		return invalid("the value is not an HCL literal of that type")
	}
	if len(expr.Variables()) > 0 {
		// a bare word such as abc parses as a reference; say what it is
		return invalid(fmt.Sprintf("%q is not a %s", raw, typ.FriendlyName()))
	}
	v, diags := chargeExpr(expr).Value(literals)
	if overBudget(diags) {
		return cty.UnknownVal(typ), diags // said as such by Decode
	}
	if diags.HasErrors() {
		return invalid("the value cannot be evaluated: " + diags.Error())
	}
	c, err := convert.Convert(v, typ)
	if err != nil {
		return invalid(err.Error())
	}
	return c, nil
}

// decodeLocals evaluates locals blocks in dependency order.
func decodeLocals(blocks hcl.Blocks, ctx *hcl.EvalContext) (cty.Value, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	pending := map[string]*hcl.Attribute{}
	for _, b := range blocks {
		attrs, d := b.Body.JustAttributes()
		diags = append(diags, d...)
		for name, a := range attrs {
			if prev, dup := pending[name]; dup {
				diags = append(diags, errorAt(a.NameRange, "Duplicate local value",
					"local.%s is already defined at %s.", name, prev.NameRange))
				continue
			}
			pending[name] = a
		}
	}
	values := map[string]cty.Value{}
	for len(pending) > 0 {
		progressed := false
		for _, name := range sortedKeys(pending) {
			a := pending[name]
			if !localsReady(a.Expr, pending, name) {
				continue
			}
			ctx.Variables["local"] = objectOrEmpty(values)
			v, d := a.Expr.Value(ctx)
			diags = append(diags, d...)
			values[name] = v
			delete(pending, name)
			progressed = true
		}
		if !progressed {
			names := sortedKeys(pending)
			sort.Strings(names)
			a := pending[names[0]]
			diags = append(diags, errorAt(a.Expr.Range(), "Cycle in local values",
				"These local values refer to each other: %s.", quoteList(names)))
			break
		}
	}
	return objectOrEmpty(values), diags
}

// localsReady reports whether expr refers to no local still pending.
func localsReady(expr hcl.Expression, pending map[string]*hcl.Attribute, self string) bool {
	for _, t := range expr.Variables() {
		if t.RootName() != "local" || len(t) < 2 {
			continue
		}
		if attr, ok := t[1].(hcl.TraverseAttr); ok {
			if _, waiting := pending[attr.Name]; waiting {
				return false
			}
		}
	}
	return true
}

func objectOrEmpty(m map[string]cty.Value) cty.Value {
	if len(m) == 0 {
		return cty.EmptyObjectVal
	}
	return cty.ObjectVal(m)
}

// didYouMean suggests the closest name, Terraform-style.
func didYouMean(name string, candidates []string) string {
	if best := closest(name, candidates); best != "" {
		return fmt.Sprintf(" Did you mean %q?", best)
	}
	return ""
}

// closest is the candidate nearest to name by edit distance (under 3), or
// "" when none is that close.
func closest(name string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		if d := levenshtein.Distance(name, c, nil); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}
