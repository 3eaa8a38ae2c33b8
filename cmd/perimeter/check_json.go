package main

import (
	"encoding/json"
	"io"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/plan"
)

// checkJSON is `check --output json`: one entry per check block, with the
// range editors and CI annotations point at.
type checkJSON struct {
	FormatVersion string            `json:"format_version"`
	Passed        int               `json:"passed"`
	Failed        int               `json:"failed"`
	Unknown       int               `json:"unknown"`
	Checks        []checkResultJSON `json:"checks"`
}

type checkResultJSON struct {
	Name       string            `json:"name"`
	Source     string            `json:"source"`
	Range      *plan.SourceRange `json:"range"`
	Expect     string            `json:"expect"`  // allow or deny
	Outcome    string            `json:"outcome"` // pass, fail or unknown
	Connection string            `json:"connection"`
	Reason     string            `json:"reason,omitempty"`
	Settle     []string          `json:"settle,omitempty"` // facts that would settle an unknown
}

func writeCheckJSON(w io.Writer, results []checkResult) error {
	out := checkJSON{FormatVersion: "1", Checks: []checkResultJSON{}}
	for _, r := range results {
		rng := r.check.Range
		c := checkResultJSON{Name: r.check.Label, Source: generate.Source(rng), Range: plan.RangeOf(&rng),
			Expect: r.check.Expect, Connection: r.what, Reason: r.reason, Settle: r.settle}
		switch {
		case r.unknown:
			c.Outcome = "unknown"
			out.Unknown++
		case r.pass:
			c.Outcome = "pass"
			out.Passed++
		default:
			c.Outcome = "fail"
			out.Failed++
		}
		out.Checks = append(out.Checks, c)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
