package plan

import "strings"

// RepairsDrift reports whether apply takes back, by force, fields other
// field managers took over in this object's spec: the plan showed them as
// drift (changed outside perimeter, by a named manager), and its dry-run
// needed force to apply the intent (Conflict). Apply then sends a forced
// server-side apply whose resourceVersion is the one the plan read, so the
// server refuses it (409) if anything changed since: what is written is
// what the plan showed, or nothing. Any other conflict stays a failure
// naming the manager.
func (c *Change) RepairsDrift() bool {
	return c.Action == Update && c.Conflict != "" && c.Live != nil && c.Live.ResourceVersion != "" &&
		len(c.repairedFields()) > 0 && len(c.unrepairable()) == 0
}

// repairedFields are the fields the plan shows another manager changed.
func (c *Change) repairedFields() []string {
	var paths []string
	for _, f := range c.Fields {
		if f.Drift && f.Manager != "" {
			paths = append(paths, f.Path)
		}
	}
	return paths
}

// unrepairable are the drifted fields apply does not take back by force:
// those outside the spec (labels and annotations stay their managers').
func (c *Change) unrepairable() []string {
	var out []string
	for _, p := range c.repairedFields() {
		if p != "spec" && !strings.HasPrefix(p, "spec.") && !strings.HasPrefix(p, "spec[") {
			out = append(out, p)
		}
	}
	return out
}

// checkRepair refuses a saved plan that asks apply to force what a plan
// never does: a conflict shown as drift on anything but an update of an
// object read when planning, or on fields outside the spec. (An edited
// plan must not turn force on beyond the drift a plan can show. Apply
// also checks, before any write, that each object is still the stack's at
// the resourceVersion read, CheckCurrent, and the server checks it again.)
func checkRepair(c Change) []string {
	if c.Conflict == "" || len(c.repairedFields()) == 0 {
		return nil
	}
	var reasons []string
	if c.Action != Update || c.Live == nil || c.Live.ResourceVersion == "" {
		reasons = append(reasons, "only an update of an object read when planning takes back fields other managers took over")
	}
	for _, p := range c.unrepairable() {
		reasons = append(reasons, "drift on "+p+" lies outside the spec; apply takes back only fields of a spec")
	}
	return reasons
}
