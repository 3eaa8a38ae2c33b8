package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

func newRender() *cobra.Command {
	var f compileFlags
	var out string
	var kustomize, check bool
	cmd := &cobra.Command{
		Use:   "render [DIR]",
		Short: "Print the Kubernetes objects the intent compiles to",
		Long: `render compiles the intent in DIR (default: the current directory) and prints
the objects as one YAML stream, or with --out-dir writes one file per object
(<namespace>/<kind>-<name>.yaml) under a directory; files an earlier render
wrote there and no object needs any more are removed, other files are never
touched (OUT/.perimeter-files lists perimeter's own).

With --kustomize --out-dir OUT it writes a kustomize tree for GitOps:
OUT/base/ (the objects every environment shares) and OUT/overlays/<env>/
(patches and extra resources: only what differs in that environment).
Building OUT/overlays/<env> yields exactly what render --env <env> prints.
Files perimeter wrote before and no longer needs are removed; files it did
not write are never touched (OUT/.perimeter-files lists its own). With
--check it writes nothing, lists the files that are out of date, and exits 1
if there are any.

Nothing outside OUT is read, written or removed, and no symbolic link below
OUT is followed: an OUT/.perimeter-files entry that is not a clean relative
path inside OUT, or a link where a file is read, written or removed (or on a
directory on the way), stops the command before it changes anything. OUT
itself may be a link. Files are written to a temporary file and renamed
into place, so an interrupted render leaves whole files only.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if kustomize || check {
				if out == "" {
					return fmt.Errorf("--kustomize needs --out-dir DIR")
				}
				return renderKustomize(cmd, dirArg(args), f, out, check)
			}
			in, src, diags := f.load(dirArg(args))
			if in != nil {
				objs, d := generate.Objects(in)
				diags = append(diags, d...)
				if !diags.HasErrors() {
					printDiagnostics(cmd.ErrOrStderr(), src, diags)
					return writeObjects(cmd, generate.ForOutput(objs), out)
				}
			}
			printDiagnostics(cmd.ErrOrStderr(), src, diags)
			summarize(cmd.ErrOrStderr(), diags)
			return errDiagnostics
		},
	}
	f.register(cmd)
	registerOutDir(cmd, &out, "write one file per object under this directory")
	cmd.Flags().BoolVar(&kustomize, "kustomize", false, "write a kustomize base and one overlay per environment under --out-dir")
	cmd.Flags().BoolVar(&check, "check", false, "with --kustomize: change nothing, list out-of-date files, exit 1 if any")
	return cmd
}

// renderKustomize compiles every environment and writes (or checks) the
// kustomize tree.
func renderKustomize(cmd *cobra.Command, dir string, f compileFlags, out string, check bool) error {
	src, diags := hclspec.ReadDirMax(dir, maxFileSize)
	if diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), src, diags)
		return errDiagnostics
	}
	names := hclspec.EnvironmentNames(src)
	if len(names) == 0 {
		return fmt.Errorf("--kustomize renders one overlay per environment, and %s declares none", dir)
	}
	opts, diags := f.options(dir)
	if diags.HasErrors() {
		printDiagnostics(cmd.ErrOrStderr(), src, diags)
		return errDiagnostics
	}
	// Render lets go of the syntax trees once every environment is
	// decoded, and so does this function: they are the largest part of
	// the memory the compile holds. Diagnostics, if any, are shown
	// against the files parsed again from the same bytes.
	texts := src.Texts()
	tree, diags, err := overlay.Render(src, opts)
	src = nil
	if len(diags) > 0 {
		src, _ = hclspec.Parse(texts)
	}
	printDiagnostics(cmd.ErrOrStderr(), src, dedupe(diags))
	if diags.HasErrors() {
		summarize(cmd.ErrOrStderr(), dedupe(diags))
		return errDiagnostics
	}
	if err != nil {
		return err
	}
	if check {
		changes, err := manifest.Compare(out, tree)
		if err != nil {
			return err
		}
		for _, p := range changes.Write {
			fmt.Fprintf(cmd.OutOrStdout(), "out of date: %s\n", filepath.Join(out, p))
		}
		for _, p := range changes.Remove {
			fmt.Fprintf(cmd.OutOrStdout(), "no longer rendered: %s\n", filepath.Join(out, p))
		}
		if !changes.Empty() {
			fmt.Fprintf(cmd.ErrOrStderr(), "%s is out of date; run perimeter render --kustomize --out-dir %s\n", out, out)
			return errExit{code: 1}
		}
		return nil
	}
	ctx, stop := interruptible(cmd)
	defer stop()
	changes, err := manifest.Write(ctx, out, tree)
	if err != nil {
		return writeError(err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Rendered %d environments to %s: %d files written, %d removed.\n",
		len(names), out, len(changes.Write), len(changes.Remove))
	return nil
}

func writeObjects(cmd *cobra.Command, objs []*unstructured.Unstructured, out string) error {
	if out == "" {
		return manifest.WriteStream(cmd.OutOrStdout(), objs)
	}
	ctx, stop := interruptible(cmd)
	defer stop()
	changes, err := manifest.WriteDir(ctx, out, objs)
	if err != nil {
		return writeError(err)
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "Wrote %d objects to %s: %d files written, %d removed.\n", len(objs), out, len(changes.Write), len(changes.Remove))
	return nil
}

// interruptible is the command's context, cancelled by an interrupt
// (Ctrl-C, SIGTERM): writing a tree then stops after the files in flight,
// each whole, and leaves no temporary file. A second interrupt kills.
func interruptible(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop() // the next interrupt gets the default behaviour
	}()
	return ctx, stop
}

// writeError explains an interrupted write.
func writeError(err error) error {
	if errors.Is(err, context.Canceled) {
		return errors.New("interrupted: some files are written (each one whole) and the others not; render again to finish")
	}
	return err
}

// dedupe drops repeats of the same diagnostic at the same place (every
// environment reports the intent's warnings again).
func dedupe(diags hcl.Diagnostics) hcl.Diagnostics {
	seen := map[string]bool{}
	var out hcl.Diagnostics
	for _, d := range diags {
		k := fmt.Sprintf("%d|%s|%s|%v", d.Severity, d.Summary, d.Detail, d.Subject)
		if !seen[k] {
			seen[k] = true
			out = append(out, d)
		}
	}
	return out
}
