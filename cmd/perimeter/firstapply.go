package main

import "github.com/spf13/cobra"

// registerFirstApply adds --validate-first to apply. apply DIR carries
// its plan out at once, so a first apply (every object a create) skips
// the dry-run of each object while planning: the write validates it, and
// a rejection undoes the whole run (package apply, undo.go). The flag
// restores the dry-run of every object before the first write, which a
// saved plan always has.
func (f *applyFlags) registerFirstApply(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.validateFirst, "validate-first", false,
		"on a first apply too, have the API server validate every object (a dry-run each) before the first write, as a saved plan always is; without it a first apply sends each object once and undoes itself if the server rejects one")
}

// freshPlan says whether apply may trust the reads of the plan it just
// made instead of reading everything again: only when nothing waited
// between planning and applying (--auto-approve, no prompt). The writes
// keep their own preconditions (creates only create, deletes name the
// UID and resourceVersion read), and the stack's lock is held throughout.
func freshPlan(af applyFlags) bool { return af.autoApprove }
