package hclspec

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
)

// decodeAll decodes every environment of src, all at once when shared is
// given (as render does), one after the other otherwise.
func decodeAll(src *Sources, opts Options, shared *Shared) ([]*Intent, []hcl.Diagnostics) {
	envs := EnvironmentNames(src)
	ins, diags := make([]*Intent, len(envs)), make([]hcl.Diagnostics, len(envs))
	var wg sync.WaitGroup
	for i, env := range envs {
		o := opts
		o.Env, o.Shared = env, shared
		if shared == nil {
			ins[i], diags[i] = Decode(src, o)
			continue
		}
		wg.Go(func() { ins[i], diags[i] = Decode(src, o) })
	}
	wg.Wait()
	return ins, diags
}

// diagText is everything a user sees of diags: the text with source
// snippets and the values of the expressions' references, and the ranges.
func diagText(src *Sources, diags hcl.Diagnostics) string {
	var b bytes.Buffer
	w := hcl.NewDiagnosticTextWriter(&b, src.Files(), 100, false)
	for _, d := range diags {
		fmt.Fprintf(&b, "%d %q %q subject=%v context=%v\n", d.Severity, d.Summary, d.Detail, d.Subject, d.Context)
		_ = w.WriteDiagnostic(d)
	}
	return b.String()
}

// checkSharedSame decodes src's environments with and without a Shared and
// wants the same intents (down to the budget spent) and diagnostics.
func checkSharedSame(t *testing.T, src *Sources, opts Options) (shared *Shared, diags []hcl.Diagnostics) {
	t.Helper()
	shared = NewShared(src)
	gotIn, got := decodeAll(src, opts, shared)
	wantIn, want := decodeAll(src, opts, nil)
	for i := range want {
		if g, w := diagText(src, got[i]), diagText(src, want[i]); g != w {
			t.Errorf("environment %d: diagnostics with sharing\n%s\nwithout\n%s", i, g, w)
		}
		if !reflect.DeepEqual(gotIn[i], wantIn[i]) {
			t.Errorf("environment %d: the intent differs with sharing", i)
		}
	}
	return shared, want
}

func parseOrFail(t *testing.T, files map[string][]byte) *Sources {
	t.Helper()
	src, diags := Parse(files)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return src
}

// The benchmark's intent and every example compile the same with shared
// blocks as without, and the benchmark's services and fixed allows are
// shared.
func TestSharedSameAsPerEnvironment(t *testing.T) {
	src := parseOrFail(t, benchintent.Intent(200, 3))
	shared, _ := checkSharedSame(t, src, Options{})
	if shared.Len() != 200+180 {
		t.Errorf("%d blocks shared in the benchmark intent, want 380", shared.Len())
	}
	dirs, _ := filepath.Glob("../examples/*/main.hcl")
	if len(dirs) == 0 {
		t.Fatal("no examples")
	}
	for _, f := range dirs {
		src, diags := ReadDirMax(filepath.Dir(f), 0)
		if diags.HasErrors() {
			t.Fatal(diags.Error())
		}
		checkSharedSame(t, src, Options{})
	}
}

// Warnings and errors of shared blocks (and suggestions added after
// decoding) are reported in every environment, in place.
func TestSharedDiagnostics(t *testing.T) {
	src := parseOrFail(t, map[string][]byte{"main.hcl": []byte(depsHead + `
allow "anywhere" {
  from = service.api
  to   = cidr("0.0.0.0/0")
}
allow "varies" {
  from = service.api
  to   = cidr(var.net)
}
service "bad" {
  namespace = "fixed"
  selector  = { app = "bad" }
  port      = 70000
}
allow "typo" {
  from = service.api
  to   = cidr(service.api.nme)
}
allow "loop" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  ports = [for p in [1, 2] : p.nope]
}
`)})
	shared, diags := checkSharedSame(t, src, Options{})
	if shared.Len() != 5 { // api, bad, anywhere, typo, loop
		t.Errorf("%d blocks shared, want 5", shared.Len())
	}
	text := diagText(src, diags[0])
	for _, want := range []string{"Egress to the whole internet", `attribute named "nme"`, "from 1 to 65535", "p.nope"} {
		if !strings.Contains(text, want) {
			t.Errorf("diagnostics lack %q:\n%s", want, text)
		}
	}
}

// An environment's budget is charged for the shared blocks it uses, and
// runs out where it would without sharing, whichever environment decodes
// a block first.
func TestSharedBudget(t *testing.T) {
	var b strings.Builder
	b.WriteString(depsHead)
	for i := range 60 {
		fmt.Fprintf(&b, "allow \"a%d\" {\n  from  = service.api\n  to    = cidr(\"192.0.2.0/24\")\n  ports = [for p in range(%d) : 443 + p]\n}\n", i, 20+i)
	}
	src := parseOrFail(t, map[string][]byte{"main.hcl": []byte(b.String())})
	for _, work := range []int64{1, 20000, 40000, 1 << 20} {
		_, diags := checkSharedSame(t, src, Options{MaxEvalWork: work})
		if over := strings.Contains(diagText(src, diags[0]), "Evaluation budget exceeded"); over != (work < 1<<20) {
			t.Errorf("MaxEvalWork %d: over budget %v", work, over)
		}
	}
}
