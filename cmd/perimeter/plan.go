package main

import (
	"context"
	"fmt"
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
}

func (f *clusterFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.kubeconfig, "kubeconfig", "", "path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
	cmd.Flags().StringVar(&f.context, "context", "", "kubeconfig context to use (default: the current context)")
}

func (f *clusterFlags) connect() (*cluster.Client, error) {
	return cluster.Connect(cluster.Options{Kubeconfig: f.kubeconfig, Context: f.context})
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
	cmd := &cobra.Command{
		Use:   "plan [DIR]",
		Short: "Show what apply would change in the cluster",
		Long: `plan compiles the intent in DIR, reads the live objects the stack owns or
would create, and prints what apply would do: the boundary summary (what
becomes reachable, what stops being reachable), then each object to create,
update in place or destroy, with the HCL block it comes from.

Only fields perimeter manages are compared; server defaults, status and
managedFields never show as changes. Fields someone else changed are marked
"changed outside perimeter".

Exit status: 0 on success (with --detailed-exitcode: 0 no changes, 2 changes
present), 1 on errors.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(format); err != nil {
				return err
			}
			p, err := computePlan(cmd, dirArg(args), cf, kf, false)
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
			if out != "" && format == "text" {
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
	return cmd
}

// compile loads and compiles the intent, printing diagnostics.
func compile(cmd *cobra.Command, dir string, cf compileFlags) (*hclspec.Intent, []*unstructured.Unstructured, error) {
	in, src, diags := hclspec.Load(dir, cf.options())
	var objs []*unstructured.Unstructured
	if in != nil {
		generated, d := generate.Objects(in)
		objs, diags = generated, append(diags, d...)
	}
	printDiagnostics(cmd.ErrOrStderr(), src, diags)
	if diags.HasErrors() {
		summarize(cmd.ErrOrStderr(), diags)
		return nil, nil, errDiagnostics
	}
	return in, objs, nil
}

// computePlan compiles the intent and plans it against the cluster; with
// destroy, it plans the removal of everything the stack owns.
func computePlan(cmd *cobra.Command, dir string, cf compileFlags, kf clusterFlags, destroy bool) (*plan.Plan, error) {
	in, objs, err := compile(cmd, dir, cf)
	if err != nil {
		return nil, err
	}
	if destroy {
		objs = nil
	}
	var reader plan.Reader
	var tgt string
	if kf.against != "" {
		live, err := readAgainst(kf.against, in.Environment)
		if err != nil {
			return nil, err
		}
		reader, tgt = manifest.Objects(live), "rendered manifests in "+kf.against
	} else {
		client, err := kf.connect()
		if err != nil {
			return nil, err
		}
		reader, tgt = client, target(client)
	}
	req := planRequest(in, objs, tgt)
	// Rendered manifests hold no namespaces (render leaves them to whoever
	// deploys the tree), and destroy wants none.
	if kf.against == "" && !destroy {
		if req.Namespaces, err = namespaces(in); err != nil {
			return nil, err
		}
	}
	p, err := plan.Make(context.Background(), reader, req)
	if err != nil {
		return nil, planError(err)
	}
	if !destroy {
		p.Warnings = append(p.Warnings, lint.Plan(context.Background(), reader, in, objs)...)
	}
	return p, nil
}

// readAgainst loads the objects of a rendered tree: a kustomization in dir,
// or the overlay of the environment in a perimeter-rendered tree, or else
// every YAML file below dir.
func readAgainst(dir, env string) ([]*unstructured.Unstructured, error) {
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(p, "kustomization.yaml")); return err == nil }
	overlayDir := filepath.Join(dir, "overlays", env)
	_, err := os.Stat(filepath.Join(dir, "overlays"))
	hasOverlays := err == nil
	switch {
	case exists(dir):
		return overlay.BuildDir(dir)
	case env != "" && exists(overlayDir):
		return overlay.BuildDir(overlayDir)
	case env == "" && exists(filepath.Join(dir, "base")) && !hasOverlays:
		return overlay.BuildDir(filepath.Join(dir, "base"))
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
	}
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

func loadPlan(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	p, err := plan.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
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
			return showPlan(cmd.OutOrStdout(), p, format)
		},
	}
	cmd.Flags().StringVarP(&format, "output", "o", "text", "output format: text, json, markdown or diff")
	return cmd
}
