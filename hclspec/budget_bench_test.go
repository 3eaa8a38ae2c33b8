package hclspec

import (
	"fmt"
	"strings"
	"testing"
)

// BenchmarkSpentBudget measures how long an intent that spends the default
// evaluation budget takes to be refused (parse and decode), for the
// slowest shapes found: the budget bounds work, and this is what the
// bound costs. docs/safety.md has the figures of the whole CLI.
//
//	go test ./hclspec -run '^$' -bench SpentBudget -benchtime 5x
func BenchmarkSpentBudget(b *testing.B) {
	var doubling strings.Builder
	doubling.WriteString("a0 = [1]\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&doubling, "a%d = [local.a%d, local.a%d]\n", i, i-1, i-1)
	}
	for _, c := range []struct{ name, locals string }{
		{"nested-for", "x = [for a in range(1024) : [for b in range(1024) : [for c in range(1024) : 1]]]"},
		{"template-for", `x = "%{for a in range(1024)}%{for b in range(1024)}%{for c in range(1024)}x%{endfor}%{endfor}%{endfor}"`},
		{"doubled-list", doubling.String()},
	} {
		src := []byte(budgetHead + "locals {\n" + c.locals + "\n}\n")
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				s, _ := Parse(map[string][]byte{"main.hcl": src})
				if _, diags := Decode(s, Options{}); !diags.HasErrors() {
					b.Fatal("the budget was not spent")
				}
			}
		})
	}
}
