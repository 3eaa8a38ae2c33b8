package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Which blocks depend on the environment. An environment only changes the
// values of var.*; everything else an expression can see (local.*, and the
// namespace, gateway and service blocks it names) changes only when it
// reaches var.* in turn. So a block whose every reference, followed
// through locals and named blocks, never reaches var.* evaluates to the
// same values in every environment. The decision is made from the syntax
// alone (hclsyntax's Variables, which covers function arguments, for
// expressions, conditionals, templates and nested blocks) and errs towards
// "depends": a reference it cannot resolve to exactly one block or local,
// a root other than local, namespace, gateway or service, and a cycle all
// count as depending on the environment.

// depNode is a name an expression can refer to: "local.x", "service.x".
type depNode struct{ root, name string }

// referable roots other than var and local: blocks named as ROOT.LABEL.
var blockRoots = map[string]bool{"namespace": true, "gateway": true, "service": true}

// envDeps decides, for the nodes of one parse, whether they depend on the
// environment.
type envDeps struct {
	refs  map[depNode][]hcl.Traversal // nil entry: the node cannot be resolved
	state map[depNode]depState
}

type depState uint8

const (
	depUnknown depState = iota
	depVisiting
	depFixed
	depVaries
)

// newEnvDeps reads the references of every local and every referable block
// of blocks (the root blocks of every file, by type).
func newEnvDeps(blocks map[string]hcl.Blocks) *envDeps {
	e := &envDeps{refs: map[depNode][]hcl.Traversal{}, state: map[depNode]depState{}}
	seen := map[depNode]bool{}
	add := func(n depNode, refs []hcl.Traversal, ok bool) {
		if seen[n] || !ok { // a duplicate, or not native syntax: unresolvable
			e.refs[n] = nil
			e.state[n] = depVaries
		} else {
			e.refs[n] = refs
		}
		seen[n] = true
	}
	for _, b := range blocks["locals"] {
		sb, ok := b.Body.(*hclsyntax.Body)
		if !ok {
			e.state[depNode{root: "local"}] = depVaries // every local is in doubt
			continue
		}
		for name, a := range sb.Attributes {
			add(depNode{"local", name}, hclsyntax.Variables(a.Expr), true)
		}
	}
	for root := range blockRoots {
		for _, b := range blocks[root] {
			refs, ok := bodyReferences(b.Body)
			add(depNode{root, b.Labels[0]}, refs, ok)
		}
	}
	return e
}

// bodyReferences lists the references of every attribute of body and of
// its nested blocks; ok is false when body is not native syntax.
func bodyReferences(body hcl.Body) (refs []hcl.Traversal, ok bool) {
	sb, ok := body.(*hclsyntax.Body)
	if !ok {
		return nil, false
	}
	for _, a := range sb.Attributes {
		refs = append(refs, hclsyntax.Variables(a.Expr)...)
	}
	for _, b := range sb.Blocks {
		nested, _ := bodyReferences(b.Body)
		refs = append(refs, nested...)
	}
	return refs, true
}

// blockFixed reports whether body evaluates the same in every environment.
func (e *envDeps) blockFixed(body hcl.Body) bool {
	refs, ok := bodyReferences(body)
	return ok && e.allFixed(refs)
}

// allFixed reports whether none of refs reaches the environment.
func (e *envDeps) allFixed(refs []hcl.Traversal) bool {
	for _, t := range refs {
		if !e.refFixed(t) {
			return false
		}
	}
	return true
}

// refFixed resolves one reference to a node and decides it.
func (e *envDeps) refFixed(t hcl.Traversal) bool {
	root := t.RootName()
	if root != "local" && !blockRoots[root] {
		return false // var, or a name the language does not have
	}
	if root == "local" && e.state[depNode{root: "local"}] == depVaries {
		return false
	}
	if len(t) < 2 {
		return false // the whole object: every local or block of the kind
	}
	attr, ok := t[1].(hcl.TraverseAttr)
	if !ok {
		return false // local["x"]: resolvable, but rare enough not to
	}
	return e.nodeFixed(depNode{root, attr.Name})
}

// nodeFixed decides a node, depth first; a node met again while it is
// being decided is on a cycle and counts as depending.
func (e *envDeps) nodeFixed(n depNode) bool {
	switch e.state[n] {
	case depFixed:
		return true
	case depVaries, depVisiting:
		return false
	}
	refs, known := e.refs[n]
	if !known {
		e.state[n] = depVaries // no such local or block
		return false
	}
	e.state[n] = depVisiting
	fixed := e.allFixed(refs)
	e.state[n] = depVaries
	if fixed {
		e.state[n] = depFixed
	}
	return fixed
}
