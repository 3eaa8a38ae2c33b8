package main

import (
	"encoding/json"
	"os"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// planEdit is the script command "planedit FILE OP [ARGS]": it edits a saved
// plan the way an attacker with write access to the file would, without
// going through plan.Read (which refuses edited files).
//
//	append CHANGE.json   add a change, labelled with the plan's own member
//	                     labels (copied, as an attacker would), digest untouched
//	redigest             rewrite the file with a freshly computed digest
//	set-cluster URL UID  record another cluster's identity ("-" keeps the
//	                     URL) and recompute the digest, as a plan made
//	                     against that cluster would have them
//	remove NAME POINTER  add a removal (JSON pointer) to the change of the
//	                     object NAME and recompute the digest
//	drift NAME PATH MGR  make the change of NAME an update that shows PATH
//	                     as changed outside perimeter by MGR, with a
//	                     conflict (what makes apply use force), and
//	                     recompute the digest
func planEdit(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("unsupported: ! planedit")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: planedit FILE OP [ARGS]")
	}
	path := ts.MkAbs(args[0])
	var p plan.Plan
	ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[0])), &p))
	switch args[1] {
	case "append":
		var c plan.Change
		ts.Check(json.Unmarshal([]byte(ts.ReadFile(args[2])), &c))
		if c.Desired != nil {
			md := c.Desired["metadata"].(map[string]any)
			labels := map[string]any{}
			for k, v := range ownership.MemberLabels(p.Stack, p.StateNamespace) {
				labels[k] = v
			}
			md["labels"] = labels
		}
		p.Changes = append(p.Changes, c)
		b, err := json.MarshalIndent(&p, "", "  ")
		ts.Check(err)
		ts.Check(os.WriteFile(path, b, 0o644))
	case "remove":
		for i := range p.Changes {
			if p.Changes[i].Name == args[2] {
				p.Changes[i].Removals = append(p.Changes[i].Removals, args[3])
			}
		}
		redigest(ts, path, &p)
	case "drift":
		for i := range p.Changes {
			if c := &p.Changes[i]; c.Name == args[2] {
				c.Action, c.Conflict = plan.Update, "edited in"
				c.Fields = append(c.Fields, plan.FieldChange{Path: args[3], Before: "x", Drift: true, Manager: args[4]})
			}
		}
		redigest(ts, path, &p)
	case "set-cluster":
		if args[2] != "-" {
			p.Cluster.Server = args[2]
		}
		p.Cluster.KubeSystemUID = args[3]
		fallthrough
	case "redigest":
		redigest(ts, path, &p)
	default:
		ts.Fatalf("planedit: unknown op %q", args[1])
	}
}

// redigest writes p to path with a freshly computed digest.
func redigest(ts *testscript.TestScript, path string, p *plan.Plan) {
	f, err := os.Create(path)
	ts.Check(err)
	ts.Check(p.Write(f))
	ts.Check(f.Close())
}
