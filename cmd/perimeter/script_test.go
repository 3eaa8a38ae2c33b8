package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// TestMain lets the test binary act as the perimeter command inside
// scripts, and gives the package a real control plane for the scripts in
// testdata/cluster.
func TestMain(m *testing.M) {
	testscript.Main(withCluster{m}, map[string]func(){
		"perimeter": main, // as users run it: profiles and PERIMETER_MEMTRACE included
	})
}

// withCluster runs the tests with testcluster's control plane.
type withCluster struct{ m *testing.M }

func (w withCluster) Run() int { return testcluster.Run(w.m) }

// TestClusterScripts runs the CLI scenarios in testdata/cluster/*.txtar
// against the real local control plane. Each script gets its own namespace
// ($NS) and stack name ($STACK); KUBECONFIG points at the admin.
func TestClusterScripts(t *testing.T) {
	c := testcluster.Get(t)
	testscript.Run(t, testscript.Params{
		Dir:  "testdata/cluster",
		Cmds: map[string]func(*testscript.TestScript, bool, []string){"planedit": planEdit},
		Setup: func(env *testscript.Env) error {
			ns := c.Namespace(t)
			env.Setenv("NO_COLOR", "1")
			env.Setenv("KUBECONFIG", c.Kubeconfig)
			env.Setenv("NS", ns)
			env.Setenv("STACK", "s"+ns[len(ns)-6:])
			env.Setenv("PATH", c.BinaryDir+string(os.PathListSeparator)+env.Getenv("PATH"))
			return expandTemplates(env)
		},
	})
}

// TestScripts runs the CLI scenarios in testdata/script/*.txtar.
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			return nil
		},
	})
}

// expandTemplates writes every FILE.in of the script's work directory as
// FILE with $NS and $STACK expanded.
func expandTemplates(env *testscript.Env) error {
	return filepath.WalkDir(env.WorkDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".in") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		out := os.Expand(string(src), func(name string) string {
			if name == "NS" || name == "STACK" {
				return env.Getenv(name)
			}
			return "$" + name
		})
		return os.WriteFile(strings.TrimSuffix(path, ".in"), []byte(out), 0o644)
	})
}
