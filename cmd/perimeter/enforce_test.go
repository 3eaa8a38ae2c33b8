package main

import (
	"context"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/perimeter-dev/perimeter/internal/dataplane"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// TestEnforceScripts runs check --enforce for real: the command re-runs
// itself in a private network namespace with kube-router, an API server
// and pods as namespaces. It needs root (CI has it): without the sandbox's
// prerequisites it is skipped, or fails with CI=true.
func TestEnforceScripts(t *testing.T) {
	if testing.Short() && !testcluster.Required() {
		t.Skip("-short: the packet sandbox is not started")
	}
	tools, err := dataplane.FindTools(context.Background())
	if err != nil {
		if testcluster.Required() {
			t.Fatalf("packet sandbox unavailable (CI=true, so this fails): %v", err)
		}
		t.Skipf("packet sandbox unavailable: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir: "testdata/enforce",
		Setup: func(env *testscript.Env) error {
			env.Setenv("NO_COLOR", "1")
			env.Setenv("KUBEBUILDER_ASSETS", tools.ControlPlaneDir)
			env.Setenv("PERIMETER_KUBE_ROUTER", tools.KubeRouter)
			return nil
		},
	})
}
