// Package dataplane enforces NetworkPolicies on real packets: it runs
// kube-router's network-policy controller (iptables and ipset) against a
// real API server, turns Pods into network namespaces joined to a bridge by
// veths, and probes TCP and UDP connections between them.
//
// Everything runs inside a private "node" network namespace: Main re-runs
// the test binary there (the API server and etcd listen on that
// namespace's loopback, kube-router rewrites that namespace's netfilter),
// and refuses to start kube-router in the machine's root namespace. Main
// records the root namespace's links, addresses, routes, iptables rules
// and ipsets before and compares them after the tests; a difference fails
// the run.
//
//	func TestMain(m *testing.M) { dataplane.Main(m) }
//
//	func TestX(t *testing.T) {
//		sb := dataplane.Get(t)
//		sc := sb.Scene(t) // pods and policies of this test, removed after
//		...
//	}
//
// It needs Linux, root, ip, iptables and ipset, and kube-router (built by
// hack/kuberouter.sh). Without them the tests are skipped, or fail with
// CI=true. See docs/dataplane.md.
package dataplane

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// Environment of the child test binary inside the node namespace.
const (
	envNode       = "PERIMETER_DATAPLANE_NODE"
	envKubeRouter = "PERIMETER_DATAPLANE_KUBE_ROUTER"
	envCPDir      = "PERIMETER_DATAPLANE_CONTROLPLANE"
)

var shared struct {
	mu      sync.Mutex
	inMain  bool
	prereq  error // why the sandbox cannot start (outside the node namespace)
	once    sync.Once
	sandbox *Sandbox
	err     error
}

// Main runs the package's tests inside a fresh node network namespace and
// exits with their status; see the package documentation.
// The after functions run after the tests, inside the node namespace
// (e.g. to report a tally).
func Main(m *testing.M, after ...func()) {
	flag.Parse()
	os.Exit(runMain(m, after))
}

func runMain(m *testing.M, after []func()) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()
	if node := os.Getenv(envNode); node != "" {
		return runInside(m, after)
	}
	tools, err := Prerequisites(context.Background())
	if err != nil {
		fmt.Fprintf(os.Stderr, "dataplane: no sandbox: %v\n", err)
		if testcluster.Required() {
			fmt.Fprintln(os.Stderr, "dataplane: CI=true, so this is a failure, not a skip")
			return 1
		}
		shared.prereq = err
		return m.Run()
	}
	code, err := RunInNode(tools, "/proc/self/exe", os.Args[1:])
	if err != nil {
		fmt.Fprintf(os.Stderr, "dataplane: %v\n", err)
		return 1
	}
	return code
}

// Tools are the programs the sandbox runs.
type Tools struct {
	ControlPlaneDir string // kube-apiserver, etcd
	KubeRouter      string // the kube-router binary
}

// Prerequisites checks that the sandbox can run here (Linux, root, ip,
// iptables, ipset) and locates the control plane and kube-router,
// building them (and installing iptables and ipset) when missing. With
// -short and without CI=true it does not even look.
func Prerequisites(ctx context.Context) (Tools, error) {
	var t Tools
	if testing.Testing() && testing.Short() && !testcluster.Required() {
		return t, errors.New("-short: the packet tests are skipped")
	}
	if runtime.GOOS != "linux" {
		return t, fmt.Errorf("network namespaces need Linux, not %s", runtime.GOOS)
	}
	if os.Geteuid() != 0 {
		return t, errors.New("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return t, errors.New("the ip command (iproute2) is missing")
	}
	var err error
	if t.KubeRouter, err = KubeRouterBinary(ctx, true); err != nil {
		return t, err
	}
	for _, c := range []string{"iptables", "iptables-save", "ipset"} {
		if _, err := exec.LookPath(c); err != nil {
			return t, fmt.Errorf("%s is missing (Debian: apt-get install iptables ipset)", c)
		}
	}
	if t.ControlPlaneDir, err = controlplane.BinaryDir(ctx, true, os.Stderr); err != nil {
		return t, err
	}
	return t, nil
}

// KubeRouterBinary returns the kube-router to run: $PERIMETER_KUBE_ROUTER,
// or the one hack/kuberouter.sh built (building it, when build is set),
// or kube-router on PATH.
func KubeRouterBinary(ctx context.Context, build bool) (string, error) {
	if p := os.Getenv("PERIMETER_KUBE_ROUTER"); p != "" {
		return p, nil
	}
	root, rootErr := controlplane.RepoRoot()
	if rootErr == nil {
		args := []string{filepath.Join(root, "hack", "kuberouter.sh")}
		if !build {
			args = append(args, "--print")
		}
		cmd := exec.CommandContext(ctx, "bash", args...)
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err == nil {
			lines := strings.Fields(string(out))
			if len(lines) > 0 {
				return filepath.Join(lines[len(lines)-1], "kube-router"), nil
			}
		}
		if build {
			return "", fmt.Errorf("hack/kuberouter.sh: %v", err)
		}
	}
	if p, err := exec.LookPath("kube-router"); err == nil {
		return p, nil
	}
	return "", errors.New("kube-router not found: build it with hack/kuberouter.sh or put it on PATH")
}

// RunInNode runs program with args inside a new node network namespace
// and returns its exit status. Before, it removes namespaces left by
// killed runs and records the root namespace's state; after, it removes
// every namespace of this run and fails when the root namespace changed.
// SIGINT and SIGTERM are passed on to the program.
func RunInNode(tools Tools, program string, args []string) (int, error) {
	before := SnapshotRoot()
	if stale, err := RemoveStale(); len(stale) > 0 || err != nil {
		fmt.Fprintf(os.Stderr, "dataplane: removed namespaces of killed runs: %v (%v)\n", stale, err)
	}
	runPrefix := fmt.Sprintf("%s%d-", Prefix, os.Getpid())
	node := runPrefix + "node"
	if err := addNetns(node); err != nil {
		return 1, err
	}
	self, err := netnsInode("/proc/self/ns/net")
	if err != nil {
		return 1, err
	}
	cmd := exec.Command(program, args...)
	cmd.Env = append(os.Environ(), envNode+"="+node, fmt.Sprintf("%s=%d", envRootNetns, self), envKubeRouter+"="+tools.KubeRouter, envCPDir+"="+tools.ControlPlaneDir)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	// The child dies with the thread that started it, which waits for it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		for s := range sigs {
			if cmd.Process != nil {
				_ = cmd.Process.Signal(s)
			}
		}
	}()
	runErr := inNetns(netnsPath(node), func() error {
		if err := cmd.Start(); err != nil {
			return err
		}
		return cmd.Wait()
	})
	var errs []error
	for _, n := range ourNetns(runPrefix, false) {
		errs = append(errs, delNetns(n))
	}
	if d := before.Diff(SnapshotRoot()); d != "" {
		errs = append(errs, fmt.Errorf("the root network namespace changed during the run:\n%s", d))
	}
	code, err := exitCode(runErr)
	if err := errors.Join(append(errs, err)...); err != nil {
		return max(code, 1), err
	}
	return code, nil
}

// exitCode is a finished program's exit status; an error that is not an
// exit status (it could not start) is returned with status 1.
func exitCode(err error) (int, error) {
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0, nil
	case errors.As(err, &exit):
		return max(exit.ExitCode(), 1), nil // -1: killed by a signal
	}
	return 1, err
}

// runInside runs the tests in the node namespace; the sandbox starts on
// the first Get and stops after the tests.
func runInside(m *testing.M, after []func()) int {
	if err := mustBeSandboxed("run the packet tests"); err != nil {
		fmt.Fprintf(os.Stderr, "dataplane: %v\n", err)
		return 1
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		stopShared()
		os.Exit(130)
	}()
	defer stopShared()
	code := m.Run()
	for _, f := range after {
		f()
	}
	return code
}

func stopShared() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.sandbox != nil {
		shared.sandbox.Stop()
		shared.sandbox = nil
	}
}

// Get returns the test binary's sandbox, starting it on first use. It
// fails the test when CI=true and the sandbox cannot start, and skips it
// otherwise.
func Get(t testing.TB) *Sandbox {
	t.Helper()
	shared.mu.Lock()
	inMain := shared.inMain
	shared.mu.Unlock()
	if !inMain {
		t.Fatal("dataplane.Get needs dataplane.Main: add `func TestMain(m *testing.M) { dataplane.Main(m) }`")
	}
	shared.once.Do(func() {
		if shared.prereq != nil {
			shared.err = shared.prereq
			return
		}
		sb, err := Start(context.Background(), Tools{KubeRouter: os.Getenv(envKubeRouter), ControlPlaneDir: os.Getenv(envCPDir)})
		shared.mu.Lock()
		shared.sandbox, shared.err = sb, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	sb, err := shared.sandbox, shared.err
	shared.mu.Unlock()
	if err == nil && sb == nil {
		err = errors.New("the sandbox was stopped")
	}
	if err != nil {
		if testcluster.Required() {
			t.Fatalf("packet sandbox unavailable (CI=true, so this fails): %v", err)
		}
		t.Skipf("packet sandbox unavailable: %v", err)
	}
	return sb
}
