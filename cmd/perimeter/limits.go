package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/readlimit"
)

// maxFileSizeEnv sets --max-file-size's default.
const maxFileSizeEnv = "PERIMETER_MAX_FILE_SIZE"

// maxEvalWorkEnv sets --max-eval-work's default.
const maxEvalWorkEnv = "PERIMETER_MAX_EVAL_WORK"

// maxEvalWork is the evaluation budget of each compile of the intent
// (hclspec.Options.MaxEvalWork), set by --max-eval-work (default:
// $PERIMETER_MAX_EVAL_WORK, else hclspec.DefaultMaxEvalWork).
var maxEvalWork int64

// maxFileSize is the largest input file read: each intent *.hcl file, and
// each YAML or JSON manifest read by import --from-file and plan --against.
// It is set by --max-file-size (default: $PERIMETER_MAX_FILE_SIZE, else
// hclspec.DefaultMaxFileSize) before a command runs.
var maxFileSize int64

// sizeFlag is a byte count flag: 4194304, 4MiB, 512KiB, 10MB.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string { return readlimit.Bytes(*f.n) }
func (f sizeFlag) Type() string   { return "size" }
func (f sizeFlag) Set(s string) error {
	n, err := readlimit.ParseBytes(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

// registerLimits adds --max-file-size to root, for every command. An
// invalid PERIMETER_MAX_FILE_SIZE is reported when a command runs.
func registerLimits(root *cobra.Command) {
	maxFileSize = hclspec.DefaultMaxFileSize
	var envErr error
	if v, ok := os.LookupEnv(maxFileSizeEnv); ok && v != "" {
		if n, err := readlimit.ParseBytes(v); err != nil {
			envErr = fmt.Errorf("%s: %w", maxFileSizeEnv, err)
		} else {
			maxFileSize = n
		}
	}
	root.PersistentFlags().Var(sizeFlag{&maxFileSize}, "max-file-size",
		"the largest input file read: each intent *.hcl file, each manifest of import --from-file and plan --against; $"+maxFileSizeEnv+" sets the default")
	maxEvalWork = hclspec.DefaultMaxEvalWork
	var workErr error
	if v, ok := os.LookupEnv(maxEvalWorkEnv); ok && v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 {
			workErr = fmt.Errorf("%s: %q is not a positive whole number of units", maxEvalWorkEnv, v)
		} else {
			maxEvalWork = n
		}
	}
	root.PersistentFlags().Int64Var(&maxEvalWork, "max-eval-work", maxEvalWork,
		"the evaluation budget of the intent's expressions, in units (a value, or 16 bytes of text), plus one unit per byte of the intent; $"+maxEvalWorkEnv+" sets the default")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if envErr != nil && !cmd.Flags().Changed("max-file-size") {
			return envErr
		}
		if workErr != nil && !cmd.Flags().Changed("max-eval-work") {
			return workErr
		}
		if maxEvalWork <= 0 {
			return fmt.Errorf("--max-eval-work must be a positive number of units, not %d", maxEvalWork)
		}
		return nil
	}
}

// manifestLimit bounds each YAML or JSON manifest read: 16 times
// --max-file-size (64 MiB by default), since a cluster's objects dumped to
// one stream are much larger than an intent file.
func manifestLimit() int64 { return maxFileSize * 16 }

// inputError adds to a too-large error how to raise the limit.
func inputError(err error) error {
	var tooLarge *readlimit.TooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%w; raise it with --max-file-size or %s (manifests may be 16 times that size)", err, maxFileSizeEnv)
	}
	return err
}
