package dataplane

import (
	"context"
	"errors"
	"fmt"
	"os"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// InNode reports whether this process is the program RunInNode started
// inside the node namespace.
func InNode() bool { return os.Getenv(envNode) != "" }

// FindTools locates what the sandbox runs, for a program outside the
// tests: the control plane binaries in $KUBEBUILDER_ASSETS or the
// repository's cache (built when missing), and kube-router as
// KubeRouterBinary finds it.
func FindTools(ctx context.Context) (Tools, error) {
	if dir := os.Getenv("KUBEBUILDER_ASSETS"); dir != "" {
		t := Tools{ControlPlaneDir: dir}
		var err error
		t.KubeRouter, err = KubeRouterBinary(ctx, true)
		if err != nil {
			return t, err
		}
		return t, checkHost()
	}
	return Prerequisites(ctx)
}

// checkHost is Prerequisites without looking for binaries.
func checkHost() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespaces need root")
	}
	return nil
}

// ToolsFromEnv are the tools RunInNode passed down.
func ToolsFromEnv() Tools {
	return Tools{KubeRouter: os.Getenv(envKubeRouter), ControlPlaneDir: os.Getenv(envCPDir)}
}

// Enforced is the outcome of EnforceChecks.
type Enforced struct {
	World   *World
	Results []CheckResult
}

// EnforceChecks starts the sandbox in the node namespace (call it from
// the program RunInNode started), enacts the intent's world with its
// policies, probes every check block, and stops the sandbox.
func EnforceChecks(ctx context.Context, in *hclspec.Intent, policies []networkingv1.NetworkPolicy) (*Enforced, error) {
	wd, err := NewWorld(in, policies)
	if err != nil {
		return nil, err
	}
	sb, err := Start(ctx, ToolsFromEnv())
	if err != nil {
		return nil, fmt.Errorf("starting the packet sandbox: %w", err)
	}
	defer sb.Stop()
	sc := sb.Scene(ctx)
	en, err := sc.Enact(wd)
	if err != nil {
		return nil, err
	}
	res, err := sc.Checks(en, in)
	if err != nil {
		return nil, err
	}
	return &Enforced{World: wd, Results: res}, nil
}
