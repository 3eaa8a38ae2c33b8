package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
	"github.com/perimeter-dev/perimeter/views"
)

// applyFlags are shared by apply and destroy.
type applyFlags struct {
	autoApprove, force bool
	validateFirst      bool // apply DIR: dry-run every object even on a first apply
	fresh              bool // the plan was made in this run with nothing waiting since
	format             string
	wait               time.Duration
}

func (f *applyFlags) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.autoApprove, "auto-approve", false, "do not ask for confirmation")
	cmd.Flags().BoolVar(&f.force, "force-conflicts", false, "take ownership of fields another field manager owns (drift the plan shows is taken back without it)")
	cmd.Flags().StringVarP(&f.format, "output", "o", "text", "output format: text or json")
}

// registerWait adds --wait, to apply only: destroy leaves no route to
// wait for.
func (f *applyFlags) registerWait(cmd *cobra.Command) {
	cmd.Flags().DurationVar(&f.wait, "wait", 0, "after applying, wait up to this long (e.g. 2m) until every route is accepted by its gateways")
}

func newApply() *cobra.Command {
	var cf compileFlags
	var kf clusterFlags
	var af applyFlags
	lk := locking{enabled: true, command: "apply"}
	cmd := &cobra.Command{
		Use:   "apply [DIR | PLANFILE]",
		Short: "Make the cluster match the intent, or carry out a saved plan",
		Long: `apply with a directory (default: the current one) plans, shows the plan,
asks for confirmation and carries it out with server-side apply.

apply with a saved plan file (from plan --out) carries out exactly that plan
without asking; if the cluster changed since the plan was made, it refuses
and changes nothing.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if af.format != "text" && af.format != "json" {
				return fmt.Errorf("--output must be text or json")
			}
			defer withInterrupt(cmd)()
			defer limitHeadroom()() // a stack's worth of objects is held: bound the garbage (headroom.go)
			lk.log = cmd.ErrOrStderr()
			defer lk.release()
			arg := dirArg(args)
			if st, err := os.Stat(arg); err == nil && !st.IsDir() {
				p, err := loadPlan(arg)
				if err != nil {
					return err
				}
				return execute(cmd, p, "plan file "+arg, kf, af, false, &lk)
			}
			kf.validateByWrite = !af.validateFirst
			p, err := computePlan(cmd, arg, cf, kf, false, &lk)
			if err != nil {
				return err
			}
			return confirmAndExecute(cmd, p, kf, af, false, &lk)
		},
	}
	cf.register(cmd)
	kf.register(cmd)
	af.register(cmd)
	af.registerWait(cmd)
	af.registerFirstApply(cmd)
	lk.register(cmd)
	kf.registerSwitch(cmd)
	return cmd
}

func newDestroy() *cobra.Command {
	var cf compileFlags
	var kf clusterFlags
	var af applyFlags
	lk := locking{enabled: true, command: "destroy"}
	cmd := &cobra.Command{
		Use:   "destroy [DIR]",
		Short: "Remove every object the stack owns",
		Long: `destroy plans the removal of every object the stack in DIR owns (members of
its ApplySet, nothing else), shows it, asks for confirmation and removes
them, the ApplySet parent last.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			defer withInterrupt(cmd)()
			defer limitHeadroom()() // a stack's worth of objects is held: bound the garbage (headroom.go)
			lk.log = cmd.ErrOrStderr()
			defer lk.release()
			p, err := computePlan(cmd, dirArg(args), cf, kf, true, &lk)
			if err != nil {
				return err
			}
			return confirmAndExecute(cmd, p, kf, af, true, &lk)
		},
	}
	cf.register(cmd)
	kf.register(cmd)
	af.register(cmd)
	lk.register(cmd)
	kf.registerSwitch(cmd)
	return cmd
}

func confirmAndExecute(cmd *cobra.Command, p *plan.Plan, kf clusterFlags, af applyFlags, destroy bool, lk *locking) error {
	out := cmd.OutOrStdout()
	if af.format == "text" {
		if err := views.Text(out, p, views.Style{Color: useColor(out)}); err != nil {
			return err
		}
	}
	if !p.HasChanges() && !destroy {
		return nil
	}
	if !af.autoApprove {
		if !confirm(cmd.Context(), cmd.InOrStdin(), out, destroy) {
			fmt.Fprintf(out, "\n%s cancelled.\n", capitalized(verb(destroy)))
			return errExit{code: 1}
		}
	}
	af.fresh = freshPlan(af)
	return execute(cmd, p, verb(destroy), kf, af, destroy, lk)
}

// confirm asks for "yes"; Ctrl-C (ctx cancelled) is a no, so the lock is
// released on the way out.
func confirm(ctx context.Context, in io.Reader, out io.Writer, destroy bool) bool {
	what := "perform these actions"
	if destroy {
		what = "destroy every object of this stack"
	}
	fmt.Fprintf(out, "\nDo you want to %s?\n  Only 'yes' will be accepted to approve.\n\n  Enter a value: ", what)
	answer := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(in).ReadString('\n')
		answer <- line
	}()
	select {
	case line := <-answer:
		return strings.TrimSpace(line) == "yes"
	case <-ctx.Done():
		return false
	}
}

// execute checks that the plan stays within what the stack may do, that
// this is the cluster it was made against and that the cluster still
// matches it, then carries it out. Every check runs before the first
// write; origin names the plan in refusals.
func execute(cmd *cobra.Command, p *plan.Plan, origin string, kf clusterFlags, af applyFlags, destroy bool, lk *locking) error {
	ctx := cmd.Context()
	if err := checkFile(p); err != nil {
		return fmt.Errorf("%s refused: %w", origin, err)
	}
	client, err := kf.connect() // apply DIR: the client it planned with
	if err != nil {
		return err
	}
	if err := plan.CheckCluster(p, *kf.identity(ctx, client)); err != nil {
		return fmt.Errorf("%s refused: %w", origin, err)
	}
	// A saved plan takes the lock here (a directory's, before planning),
	// before checking that the cluster has not moved since.
	if err := lk.take(ctx, client, p.Stack, p.StateNamespace, p.Environment); err != nil {
		return err
	}
	if !af.fresh {
		if err := checkCurrent(ctx, p, client); err != nil {
			return fmt.Errorf("%s refused: %w", origin, err)
		}
	}
	out := cmd.OutOrStdout()
	opts := apply.Options{Force: af.force, KindOrder: generate.Kinds, DeleteParent: destroy, Guard: lk.guard, SwitchEnvironment: kf.switchEnv}
	live := af.format == "text" && isTerminal(out) // a terminal: one line per object as it completes
	started := time.Now()
	if live {
		fmt.Fprintln(out)
		opts.Progress = func(r apply.Result) { printResult(out, r) }
	} else {
		// piped or logged (CI): stdout stays byte-stable, in plan order, at
		// the end; stderr gets a line per object as it completes
		opts.Progress = progressLog(cmd.ErrOrStderr(), p)
	}
	report, err := apply.Run(ctx, client, p, opts)
	memTrace.phase("applied")
	var denied *apply.DeniedError
	if errors.As(err, &denied) {
		return fmt.Errorf("%s %w", origin, err) // "plan file p.plan refused before any write: ..."
	}
	if err != nil {
		return err
	}
	if af.format == "text" && !live {
		// piped or logged: the same lines, in plan order, byte-stable
		fmt.Fprintln(out)
		for _, r := range report.Results {
			printResult(out, r)
		}
	}
	var routes []apply.RouteStatus
	if af.wait > 0 && report.Failed == 0 {
		wctx, cancel := context.WithTimeout(ctx, af.wait)
		routes = apply.Wait(wctx, client, p, 2*time.Second)
		cancel()
	}
	if af.format == "json" {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			*apply.Report
			Routes []apply.RouteStatus  `json:"routes,omitempty"`
			Left   []plan.NamespaceNote `json:"namespaces_left,omitempty"`
		}{report, routes, left(p)}); err != nil {
			return err
		}
	} else {
		for _, n := range left(p) {
			fmt.Fprintf(out, "Namespace %s: left in place (%s)\n  %s\n", n.Name, orLiveOnly(n.Source), n.Detail)
		}
		printSummary(out, report, destroy)
		printRoutes(out, routes, af.wait)
	}
	if !live {
		fmt.Fprintf(cmd.ErrOrStderr(), "perimeter: %s: %d request(s) in %s: %d added, %d changed, %d destroyed, %d failed\n",
			verb(destroy), len(report.Results), time.Since(started).Round(10*time.Millisecond), report.Added, report.Changed, report.Destroyed, report.Failed)
	}
	if report.Failed > 0 || !allReady(routes) {
		return errExit{code: 1}
	}
	return nil
}

// checkFile runs the checks that need only the plan: it is not offline,
// and every change stays within what the stack may do.
func checkFile(p *plan.Plan) error {
	if p.Offline {
		return fmt.Errorf("this plan was made against %s, not a cluster; it is for review only. Run plan against the cluster and apply that", strings.TrimPrefix(p.Target, "rendered manifests in "))
	}
	return plan.CheckScope(p, generate.Kinds)
}

// checkCurrent checks that the cluster has not moved since the plan.
func checkCurrent(ctx context.Context, p *plan.Plan, client *cluster.Client) error {
	owned := func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, p.Stack, p.StateNamespace) }
	return plan.CheckCurrent(ctx, client, p, generate.Kinds, ownership.MemberSelector(p.Stack, p.StateNamespace), owned)
}

// left are the owned namespaces the plan does not delete because they hold
// objects the stack does not own: apply says so after its results.
func left(p *plan.Plan) []plan.NamespaceNote {
	var out []plan.NamespaceNote
	for _, n := range p.Namespaces {
		if n.State == plan.Left {
			out = append(out, n)
		}
	}
	return out
}

func orLiveOnly(source string) string {
	if source == "" {
		return "live only"
	}
	return source
}

func allReady(routes []apply.RouteStatus) bool {
	for _, r := range routes {
		if !r.Ready {
			return false
		}
	}
	return true
}

func printRoutes(w io.Writer, routes []apply.RouteStatus, waited time.Duration) {
	for _, r := range routes {
		if r.Ready {
			fmt.Fprintf(w, "%s: accepted by its gateways\n", r.Object)
		} else {
			fmt.Fprintf(w, "%s (%s): not served after %v: %s\n", r.Object, r.Source, waited, r.Problem)
		}
	}
}

var doneVerbs = map[plan.Action]string{plan.Create: "created", plan.Update: "updated", plan.Delete: "destroyed"}

func printResult(w io.Writer, r apply.Result) {
	src := ""
	if r.Source != "" {
		src = " (" + r.Source + ")"
	}
	if r.Error != "" {
		fmt.Fprintf(w, "%s: FAILED to %s%s\n  %s\n", r.Object, r.Action, src, r.Error)
		return
	}
	fmt.Fprintf(w, "%s: %s%s\n", r.Object, doneVerbs[r.Action], src)
}

// progressLog prints, for logs, one line per object as its request
// completes: "perimeter: [3/23] NetworkPolicy shop/x: created (main.hcl:5)".
func progressLog(w io.Writer, p *plan.Plan) func(apply.Result) {
	total := 0
	for _, c := range p.Changes {
		if c.Action != plan.NoOp {
			total++
		}
	}
	var mu sync.Mutex
	done := 0
	return func(r apply.Result) {
		mu.Lock()
		defer mu.Unlock()
		done++
		var line strings.Builder
		printResult(&line, r)
		fmt.Fprintf(w, "perimeter: [%d/%d] %s", done, total, line.String())
	}
}

// verb names the command in messages: destroy is not an apply to the user.
func verb(destroy bool) string {
	if destroy {
		return "destroy"
	}
	return "apply"
}

func capitalized(s string) string { return strings.ToUpper(s[:1]) + s[1:] }

// printSummary says how the run ended, in the words of the command run:
// destroy only destroys, so it counts only what it destroyed.
func printSummary(w io.Writer, r *apply.Report, destroy bool) {
	what := fmt.Sprintf("%d added, %d changed, %d destroyed", r.Added, r.Changed, r.Destroyed)
	if destroy {
		what = fmt.Sprintf("%d destroyed", r.Destroyed)
	}
	name := capitalized(verb(destroy))
	if r.Failed > 0 {
		fmt.Fprintf(w, "\n%s failed: %d request(s) failed. Resources: %s.\nRun plan to see where the cluster stands; %s again to converge.\n",
			name, r.Failed, what, verb(destroy))
		return
	}
	fmt.Fprintf(w, "\n%s complete! Resources: %s.\n", name, what)
}
