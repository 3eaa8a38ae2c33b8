package dataplane

import (
	"fmt"
	"os"
	"sync"
)

// Tally counts probes compared with reach across a run: Disagree are
// disagreements nobody has explained; Documented are those that
// docs/dataplane.md lists as implementation-defined behaviour.
type Tally struct {
	mu                                  sync.Mutex
	Probes, Agree, Disagree, Documented int
	Open                                int // probes the packets got through
	Intents                             int
}

// Add counts comparisons; documented tells which disagreements are
// implementation-defined (it may be nil).
func (t *Tally) Add(cs []Comparison, documented func(Comparison) bool) (disagree []Comparison) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range cs {
		t.Probes++
		if c.Open {
			t.Open++
		}
		switch {
		case c.Agree():
			t.Agree++
		case documented != nil && documented(c):
			t.Documented++
		default:
			t.Disagree++
			disagree = append(disagree, c)
		}
	}
	return disagree
}

// Line is the summary "dataplane: N probes, A agree with reach, D
// disagree" (with the documented implementation-defined ones, if any).
func (t *Tally) Line() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := fmt.Sprintf("dataplane: %d probes, %d agree with reach, %d disagree", t.Probes, t.Agree, t.Disagree)
	if t.Documented > 0 {
		s += fmt.Sprintf(" (and %d implementation-defined, documented)", t.Documented)
	}
	return s
}

// Report prints the line on stderr and, when $PERIMETER_DATAPLANE_SUMMARY
// names a file, writes it there (for make dataplane-test to print last).
func (t *Tally) Report() {
	line := t.Line()
	fmt.Fprintln(os.Stderr, line)
	if path := os.Getenv("PERIMETER_DATAPLANE_SUMMARY"); path != "" {
		if err := os.WriteFile(path, []byte(line+"\n"), 0o644); err != nil {
			fmt.Fprintf(os.Stderr, "dataplane: writing %s: %v\n", path, err)
		}
	}
}
