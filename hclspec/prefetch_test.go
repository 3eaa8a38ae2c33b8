package hclspec

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
)

// The second decoder to reach the shared blocks measures them from the
// last one backwards (prefetchShared); whichever environment measures a
// block, every environment decodes to what it would alone, down to the
// diagnostics and where a budget runs out. Here the prefetch is forced
// (a first decoder is counted before any runs) and the environments are
// decoded one after the other, last first.
func TestSharedPrefetchSameAsPerEnvironment(t *testing.T) {
	var budget strings.Builder
	budget.WriteString(depsHead)
	for i := range 60 {
		fmt.Fprintf(&budget, "allow \"a%d\" {\n  from  = service.api\n  to    = cidr(\"192.0.2.0/24\")\n  ports = [for p in range(%d) : 443 + p]\n}\n", i, 20+i)
	}
	cases := []struct {
		name   string
		files  map[string][]byte
		limits []int64
	}{
		{"bench", benchintent.Intent(200, 3), []int64{0}},
		{"budget", map[string][]byte{"main.hcl": []byte(budget.String())}, []int64{1, 20000, 40000, 1 << 20}},
		{"diagnostics", map[string][]byte{"main.hcl": []byte(depsHead + `
allow "anywhere" {
  from = service.api
  to   = cidr("0.0.0.0/0")
}
allow "varies" {
  from = service.api
  to   = cidr(var.net)
}
allow "typo" {
  from = service.api
  to   = cidr(service.api.nme)
}
`)}, []int64{0}},
	}
	for _, c := range cases {
		src := parseOrFail(t, c.files)
		envs := EnvironmentNames(src)
		for _, limit := range c.limits {
			opts := Options{MaxEvalWork: limit}
			wantIn, want := decodeAll(src, opts, nil)
			shared := NewShared(src)
			if shared.Len() == 0 {
				t.Fatalf("%s: nothing shared", c.name)
			}
			shared.callers = map[string]int{"service": 1, "allow": 1}
			for i := len(envs) - 1; i >= 0; i-- {
				o := opts
				o.Env, o.Shared = envs[i], shared
				in, diags := Decode(src, o)
				if g, w := diagText(src, diags), diagText(src, want[i]); g != w {
					t.Errorf("%s, budget %d, %s: diagnostics\n%s\nwant\n%s", c.name, limit, envs[i], g, w)
				}
				if !reflect.DeepEqual(in, wantIn[i]) {
					t.Errorf("%s, budget %d, %s: the intent differs", c.name, limit, envs[i])
				}
			}
			measured := 0
			for _, e := range shared.entries {
				if e.value != nil {
					measured++
				}
			}
			if limit == 0 && measured != shared.Len() {
				t.Errorf("%s: %d of %d shared blocks measured", c.name, measured, shared.Len())
			}
		}
	}
}
