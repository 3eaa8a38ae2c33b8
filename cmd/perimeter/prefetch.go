package main

import (
	"context"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/plan"
)

// prefetch overlaps a plan's first reads of the cluster with the
// compile: once the files are parsed, the stack's name is read from the
// perimeter block (stackName) and planning's LISTs of the stack's
// members start (plan.ListMemo.Prefetch) while the intent is decoded
// and generated. At 5,000 NetworkPolicies those LISTs (ten pages read
// one after the other) took about 0.35 s after the compile's 0.45 s.
//
// The name read early is a guess the compile confirms: the memo is used
// only when the compiled intent names the same stack (the memo's LISTs
// select by that name); otherwise the plan reads through a fresh memo,
// as without prefetching. A nil *prefetch prefetches nothing.
type prefetch struct {
	early  *connecting
	cancel context.CancelFunc
	stack  string
	memo   *plan.ListMemo
	client *cluster.Client
}

// start returns the hook compileSourcesThen calls with the parsed files
// (nil for a nil prefetch).
func (p *prefetch) start(ctx context.Context) func(*hclspec.Sources) {
	if p == nil {
		return nil
	}
	return func(src *hclspec.Sources) {
		stack, ok := stackName(src)
		if !ok {
			return
		}
		client, err := p.early.client() // connected during the parse, as a rule
		if err != nil {
			return // planning meets the error itself
		}
		ctx, cancel := context.WithCancel(ctx)
		p.cancel, p.stack, p.client, p.memo = cancel, stack, client, plan.NewListMemo(stack)
		p.memo.Prefetch(ctx, client, generate.Kinds)
	}
}

// reader is the plan's reader of client: through the prefetched memo
// when it was made for stack by the same client, else a fresh one.
func (p *prefetch) reader(client *cluster.Client, stack string) memoReader {
	if p == nil || p.memo == nil || p.stack != stack || p.client != client {
		return newMemoReader(client, stack)
	}
	return memoReader{Client: client, memo: p.memo}
}

// stop cancels what is still in flight (after a failed compile, say).
func (p *prefetch) stop() {
	if p != nil && p.cancel != nil {
		p.cancel()
	}
}

// stackName is the stack the parsed files name: the stack attribute of
// their only perimeter block, when it is a string constant. Anything else
// (no block or several, an expression that is not a constant, a file
// that did not parse) is no answer: the decoder reports those, and the
// plan then reads nothing early.
func stackName(src *hclspec.Sources) (string, bool) {
	var found *hclsyntax.Block
	for _, f := range src.Files() {
		body, ok := f.Body.(*hclsyntax.Body)
		if !ok {
			continue
		}
		for _, b := range body.Blocks {
			if b.Type != "perimeter" {
				continue
			}
			if found != nil {
				return "", false
			}
			found = b
		}
	}
	if found == nil {
		return "", false
	}
	attr := found.Body.Attributes["stack"]
	if attr == nil {
		return "", false
	}
	v, diags := attr.Expr.Value(&hcl.EvalContext{})
	if diags.HasErrors() || !v.IsWhollyKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	// The name goes into a label selector before the decoder has checked
	// it: a name that is not a label value ("a,b", "x!=y") reads nothing.
	if len(validation.IsValidLabelValue(v.AsString())) > 0 || v.AsString() == "" {
		return "", false
	}
	return v.AsString(), true
}
