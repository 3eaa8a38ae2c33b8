package main

import (
	"fmt"
	"github.com/hashicorp/hcl/v2"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/lint"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
	"github.com/perimeter-dev/perimeter/views"
)

// clusterFlags select the cluster, as kubectl's do, or (plan only) a
// directory of rendered manifests to plan against instead.
type clusterFlags struct {
	kubeconfig, context string
	against             string
	switchEnv           bool
	validateByWrite     bool // see plan.Request.ValidateByWrite (apply DIR)
	session             *session
}

// registerSwitch adds --switch-environment (plan, apply, destroy).
func (f *clusterFlags) registerSwitch(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&f.switchEnv, "switch-environment", false, "allow applying an environment other than the one the stack was last applied with in this cluster")
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	f.session = &session{}
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context to use (default: the current context)")
}

// target describes a client for the plan header.
func target(c *cluster.Client) string {
	if c.Context != "" {
		return fmt.Sprintf("context %q (%s)", c.Context, c.Host)
	}
	return c.Host
}

func newPlan() *cobra.Command {
	var cf compileFlags
	var kf clusterFlags
	var out, format string
	var detailed, strict bool
	lk := locking{command: "plan"}
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what apply would change in the cluster",
		Long: `plan compiles the intent in DIR, reads the live objects the stack owns or
would create, and prints what apply would do: the boundary summary (what
becomes reachable, what stops being reachable), then each object to create,
update in place or destroy, with the HCL block it comes from.

Only fields perimeter manages are compared; server defaults, status and
managedFields never show as changes. Fields someone else changed, and fields
another field manager added to the spec of an owned object (read from its
managedFields), are marked "changed outside perimeter (by MANAGER)"; apply
removes the added ones.

Exit status: 0 on success (with --detailed-exitcode: 0 no changes, 2 changes
present), 1 on errors.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if err := terraformOut(format); err != nil {
				return err // Terraform's -out FILE: FILE would look like a second DIR
			}
			return cobra.MaximumNArgs(1)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			defer withInterrupt(cmd)()
			defer limitHeadroom()() // a stack's worth of objects is held: bound the garbage (headroom.go)
			lk.log = cmd.ErrOrStderr()
			p, err := computePlan(cmd, dirArg(args), cf, kf, false, &lk)
			lk.release() // planning is done: a saved plan is applied under a lock of its own
			if err != nil {
				return err
			}
			if out != "" {
				if err := savePlan(out, p); err != nil {
					return err
				}
			}
			if err := showPlan(cmd.OutOrStdout(), p, format); err != nil {
				return err
			}
			switch {
			case out != "" && format == "text" && p.Offline:
				// apply refuses an offline plan: never suggest it
				fmt.Fprintf(cmd.OutOrStdout(), "\nSaved the plan to %s, for review (perimeter show %s). It was made against rendered manifests, so it cannot be applied: plan against a cluster to apply.\n", out, out)
			case out != "" && format == "text":
				fmt.Fprintf(cmd.OutOrStdout(), "\nSaved the plan to %s. Apply exactly this plan with: perimeter apply %s\n", out, out)
			}
			if strict && len(p.Warnings) > 0 {
				fmt.Fprintf(cmd.ErrOrStderr(), "Error: the plan has %d warning(s) and --strict treats them as errors\n", len(p.Warnings))
				return errExit{code: 1}
			}
			if detailed && p.HasChanges() {
				return errExit{code: 2}
			}
			return nil
		},
	}
	cf.register(cmd)
	kf.register(cmd)
	cmd.Flags().StringVar(&kf.against, "against", "", "plan against a directory of rendered manifests (a kustomize tree or YAML files) instead of a cluster")
	cmd.Flags().StringVar(&out, "out", "", "write the plan to this file, for perimeter apply FILE")
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text, json, markdown or diff")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 0 with no changes, 2 with changes, 1 on error")
	cmd.Flags().BoolVar(&strict, "strict", false, "treat warnings (including lint findings) as errors: exit 1")
	kf.registerSwitch(cmd)
	cmd.Flags().BoolVar(&lk.enabled, "lock", false, "hold the stack's lock while planning, so no apply or destroy runs meanwhile")
	lk.register(cmd)
	return cmd
}

// compile loads and compiles the intent, printing diagnostics.
func compile(cmd *cobra.Command, dir string, cf compileFlags) (*hclspec.Intent, []*unstructured.Unstructured, error) {
	in, objs, texts, warnings, err := compileSources(cmd, dir, cf)
	printDiagnostics(cmd.ErrOrStderr(), parsedFor(texts, warnings), warnings)
	return in, objs, err
}

// compileSources is compile that also returns the bytes of the files it
// read, and returns the warnings instead of printing them: a plan carries
// them in each of its outputs. Errors are printed.
func compileSources(cmd *cobra.Command, dir string, cf compileFlags) (*hclspec.Intent, []*unstructured.Unstructured, map[string][]byte, hcl.Diagnostics, error) {
	return compileSourcesThen(cmd, dir, cf, nil)
}

// compileSourcesThen is compileSources that calls parsed (unless nil)
// with the parsed files before decoding them (compileFlags.loadThen).
// It lets go of the syntax trees once the intent is decoded, before the
// objects are generated: they are the largest part of what the compile
// holds (18 MB for 5,000 services), and nothing after decoding reads
// them. Diagnostics are shown against the files parsed again from the
// same bytes (parsedFor).
func compileSourcesThen(cmd *cobra.Command, dir string, cf compileFlags, parsed func(*hclspec.Sources)) (*hclspec.Intent, []*unstructured.Unstructured, map[string][]byte, hcl.Diagnostics, error) {
	in, src, diags := cf.loadThen(dir, parsed)
	var texts map[string][]byte
	if src != nil {
		texts = src.Texts() // src is not read after this line: the trees can go
	}
	if afterDecode != nil {
		afterDecode()
	}
	var objs []*unstructured.Unstructured
	if in != nil {
		generated, d := generate.Objects(in)
		objs, diags = generated, append(diags, d...)
	}
	if diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), parsedFor(texts, diags), diags)
		summarize(cmd.ErrOrStderr(), diags)
		return nil, nil, nil, nil, errDiagnostics
	}
	return in, objs, texts, diags, nil
}

// afterDecode, when set (by tests), runs once the intent is decoded and
// before its objects are generated.
var afterDecode func()

// parsedFor is the files of texts parsed again when there are
// diagnostics to show with their snippets, and nil when there are none.
func parsedFor(texts map[string][]byte, diags hcl.Diagnostics) *hclspec.Sources {
	if len(diags) == 0 || texts == nil {
		return nil
	}
	src, _ := hclspec.Parse(texts)
	return src
}

// computePlan compiles the intent and plans it against the cluster; with
// destroy, it plans the removal of everything the stack owns.
// A non-nil lk takes the stack's lock (when enabled) before reading the
// cluster; the caller releases it.
func computePlan(cmd *cobra.Command, dir string, cf compileFlags, kf clusterFlags, destroy bool, lk *locking) (*plan.Plan, error) {
	ctx := cmd.Context()
	var early *connecting
	var pre *prefetch
	if kf.against == "" {
		early = kf.connectEarly(ctx)
		if lk == nil || !lk.enabled { // under the lock, nothing is read before it is held
			pre = &prefetch{early: early}
			defer pre.stop()
		}
	}
	in, objs, texts, warnings, err := compileSourcesThen(cmd, dir, cf, pre.start(ctx))
	if err != nil {
		return nil, err
	}
	memTrace.phase("compiled")
	if destroy {
		objs = nil
	}
	var reader plan.Reader
	var tgt string
	var id *plan.ClusterIdentity
	if kf.against != "" {
		live, err := readAgainst(kf.against, in.Environment)
		if err != nil {
			return nil, err
		}
		reader, tgt = manifest.Objects(live), "rendered manifests in "+kf.against
	} else {
		client, err := early.client()
		if err != nil {
			return nil, err
		}
		reader, tgt = pre.reader(client, in.Stack), target(client)
		// the lock is taken while the cluster's identity is read
		err = lk.take(ctx, client, in.Stack, in.StateNamespace, in.Environment)
		if id = early.identity(); err != nil {
			return nil, err
		}
	}
	req := planRequest(in, objs, tgt)
	req.Cluster, req.IntentDigest, req.SwitchEnvironment = id, plan.IntentDigest(texts), kf.switchEnv
	req.ValidateByWrite = kf.validateByWrite
	// Rendered manifests hold no namespaces (render leaves them to whoever
	// deploys the tree), and destroy wants none.
	if kf.against == "" && !destroy {
		if req.Namespaces, err = namespaces(in); err != nil {
			return nil, err
		}
	}
	var lints *lint.Pending
	if !destroy {
		lints = lint.Start(in, objs) // the intent's lints run while the plan is made
	}
	p, err := plan.Make(ctx, reader, req)
	if err != nil {
		return nil, planError(err)
	}
	memTrace.phase("planned")
	if !destroy {
		p.Warnings = append(plan.WarningsOf(warnings), p.Warnings...)
		p.Warnings = append(p.Warnings, lints.Plan(ctx, reader)...)
		memTrace.phase("linted")
	}
	if kf.against == "" {
		p.Warnings = append(p.Warnings, clusterScopeWarnings(ctx, reader, p)...)
	}
	if id != nil && id.Unknown != "" {
		p.Warnings = append(p.Warnings, plan.Warning{Severity: plan.WarningSeverity, Summary: "Cluster identified by URL only",
			Detail: "Namespace kube-system cannot be read (" + id.Unknown + "), so a saved plan records the API server URL only, and apply can refuse it on another cluster only if that one has another URL."})
	}
	return p, nil
}

// readAgainst loads the objects of a rendered tree: a kustomization in dir,
// or the overlay of the environment in a perimeter-rendered tree, or else
// every YAML file below dir.
func readAgainst(dir, env string) ([]*unstructured.Unstructured, error) {
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); return err == nil }
	build := func(d string) ([]*unstructured.Unstructured, error) {
		objs, err := overlay.BuildLocalDir(d, overlay.Limits{MaxFileSize: manifestLimit(), MaxTotal: 4 * manifestLimit(), Root: dir})
		return objs, inputError(err)
	}
	overlayDir := filepath.Join(dir, "overlays", env)
	_, err := os.Stat(filepath.Join(dir, "overlays"))
	hasOverlays := err == nil
	switch {
	case exists(dir):
		return build(dir)
	case env != "" && exists(overlayDir):
		return build(overlayDir)
	case env == "" && exists(filepath.Join(dir, "base")) && !hasOverlays:
		return build(filepath.Join(dir, "base"))
	case exists(filepath.Join(dir, "base")) && env != "":
		return nil, fmt.Errorf("%s has no overlay for environment %q (no %s)", dir, env, filepath.Join(overlayDir, "kustomization.yaml"))
	case exists(filepath.Join(dir, "base")):
		return nil, fmt.Errorf("%s is a kustomize tree with overlays; choose one with --env", dir)
	}
	objs, err := manifest.ReadDirMax(dir, manifestLimit())
	return objs, inputError(err)
}

func planRequest(in *hclspec.Intent, objs []*unstructured.Unstructured, tgt string) plan.Request {
	return plan.Request{
		Stack: in.Stack, StateNamespace: in.StateNamespace, Environment: in.Environment, Target: tgt,
		Desired: objs, Kinds: generate.Kinds,
		OwnerSelector: ownership.MemberSelector(in.Stack, in.StateNamespace),
		Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, in.Stack, in.StateNamespace) },
		Blocks:        blockSources(in),
	}
}

// blockSources maps each block address to its file:line.
func blockSources(in *hclspec.Intent) map[string]string {
	out := map[string]string{}
	for block, r := range in.BlockRanges() {
		out[block] = generate.Source(r)
	}
	return out
}

// namespaces are the namespace blocks as the plan needs them.
func namespaces(in *hclspec.Intent) ([]plan.Namespace, error) {
	var out []plan.Namespace
	for _, ns := range in.Namespaces {
		obj, err := generate.Namespace(in, ns)
		if err != nil {
			return nil, err
		}
		out = append(out, plan.Namespace{Object: obj, Create: ns.Create, Adopt: ns.Adopt})
	}
	return out, nil
}

// planError words a planning failure; problems name their HCL blocks.
func planError(err error) error {
	if pe, ok := err.(*plan.Error); ok {
		var b strings.Builder
		b.WriteString("cannot plan:")
		for _, p := range pe.Problems {
			b.WriteString("\n  " + p.Object)
			if p.Source != "" {
				b.WriteString(" (" + p.Block + " at " + p.Source + ")")
			}
			b.WriteString(":\n    " + p.Detail)
		}
		return fmt.Errorf("%s", b.String())
	}
	return err
}

func checkFormat(format string) error {
	if err := terraformOut(format); err != nil {
		return err
	}
	switch format {
	case "text", "json", "markdown", "diff":
		return nil
	}
	return fmt.Errorf("--output must be text, json, markdown or diff, not %q", format)
}

// showPlan renders a plan in the chosen format.
func showPlan(w io.Writer, p *plan.Plan, format string) error {
	switch format {
	case "json":
		return views.JSON(w, p)
	case "markdown":
		parts := views.Markdown(p)
		for i, part := range parts {
			if i > 0 {
				fmt.Fprintln(w, "\n<!-- perimeter: next part -->")
			}
			if _, err := io.WriteString(w, part); err != nil {
				return err
			}
		}
		return nil
	case "diff":
		return views.Diff(w, p, views.Style{Color: useColor(w)})
	}
	return views.Text(w, p, views.Style{Color: useColor(w)})
}

func savePlan(path string, p *plan.Plan) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := p.Write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// loadPlan reads a saved plan; its errors name the file.
func loadPlan(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := plan.Read(f)
	if err != nil {
		return nil, fmt.Errorf("plan file %s: %w", path, err)
	}
	return p, nil
}

func newShow() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "show FILE",
		Short: "Print a saved plan",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			p, err := loadPlan(args[0])
			if err != nil {
				return err
			}
			if err := showPlan(cmd.OutOrStdout(), p, format); err != nil {
				return err
			}
			if format == "text" {
				printProvenance(cmd.OutOrStdout(), p)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text, json, markdown or diff")
	return cmd
}
