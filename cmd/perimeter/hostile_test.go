package main

import (
	"bytes"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/perimeter-dev/perimeter/internal/hostile"
)

// TestHostileInputs runs the CLI on the inputs of issue 13 and their kin
// (internal/hostile): each must end with exit status 1 and a diagnostic,
// where it used to crash with a Go stack overflow (exit 2), run out of
// memory or take minutes. A crash here kills the test binary, which fails
// the test too. The time each takes is logged, not asserted (a loaded
// machine is slow); docs/safety.md records the timings of bench/hostile.
func TestHostileInputs(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	for _, c := range hostile.Cases() {
		t.Run(c.Name, func(t *testing.T) {
			args, err := c.Write(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			start := time.Now()
			code := run(args, &stdout, &stderr)
			t.Logf("%v: exit %d in %v, %d bytes of diagnostics", args[0], code, time.Since(start).Round(time.Millisecond), stderr.Len())
			if code != 1 {
				t.Errorf("exit status %d, want 1\n%s", code, tail(stderr.String()))
			}
			if !regexp.MustCompile(c.Want).MatchString(stderr.String()) {
				t.Errorf("standard error does not match %q:\n%s", c.Want, tail(stderr.String()))
			}
			if n := strings.Count("\n"+stderr.String(), "\nError: "); n > 51 { // MaxErrors and the summary
				t.Errorf("%d errors printed", n)
			}
		})
	}
}

// PERIMETER_MAX_FILE_SIZE sets the limit; --max-file-size overrides it; an
// invalid value is an error naming the variable.
func TestMaxFileSizeEnvironment(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/main.hcl", []byte("perimeter {\n  stack = \"s\"\n}\n"+strings.Repeat("# padding\n", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		env  string
		args []string
		code int
		want string
	}{
		{"", []string{"validate", dir}, 0, ""},
		{"1KiB", []string{"validate", dir}, 1, "main.hcl is 2 KiB (2028 bytes); perimeter reads intent files of at most 1 KiB (1024 bytes)"},
		{"1KiB", []string{"validate", "--max-file-size", "4KiB", dir}, 0, ""},
		{"lots", []string{"validate", dir}, 1, `Error: PERIMETER_MAX_FILE_SIZE: "lots" is not a size`},
		{"", []string{"validate", "--max-file-size", "0", dir}, 1, `invalid argument "0" for "--max-file-size" flag: "0" is not a size`},
	} {
		t.Setenv(maxFileSizeEnv, c.env)
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s=%q %v: exit %d, want %d with %q\n%s", maxFileSizeEnv, c.env, c.args, code, c.code, c.want, stderr.String())
		}
	}
}

// PERIMETER_MAX_EVAL_WORK sets the evaluation budget; --max-eval-work
// overrides it; an invalid value is an error naming the variable.
func TestMaxEvalWorkEnvironment(t *testing.T) {
	dir := t.TempDir()
	// 10,000 iterations of 16 units, and their values: about 180,000 units
	src := "perimeter {\n  stack = \"s\"\n}\nlocals {\n  x = [for a in range(100) : [for b in range(100) : b]]\n}\n"
	if err := os.WriteFile(dir+"/main.hcl", []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	over := "Error: Evaluation budget exceeded"
	for _, c := range []struct {
		env  string
		args []string
		code int
		want string
	}{
		{"", []string{"validate", dir}, 0, ""},
		{"100000", []string{"validate", dir}, 1, over},
		{"100000", []string{"validate", "--max-eval-work", "400000", dir}, 0, ""},
		{"", []string{"validate", "--max-eval-work", "100000", dir}, 1, over},
		{"lots", []string{"validate", dir}, 1, `Error: PERIMETER_MAX_EVAL_WORK: "lots" is not a positive whole number of units`},
		{"", []string{"validate", "--max-eval-work", "0", dir}, 1, `--max-eval-work must be a positive number of units, not 0`},
	} {
		t.Setenv(maxEvalWorkEnv, c.env)
		var stdout, stderr bytes.Buffer
		if code := run(c.args, &stdout, &stderr); code != c.code || !strings.Contains(stderr.String(), c.want) {
			t.Errorf("%s=%q %v: exit %d, want %d with %q\n%s", maxEvalWorkEnv, c.env, c.args, code, c.code, c.want, stderr.String())
		}
	}
}

func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}
