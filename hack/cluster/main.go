// Command cluster runs a local Kubernetes control plane (etcd and
// kube-apiserver v1.37, RBAC on, Gateway API standard CRDs installed) until
// it receives SIGINT or SIGTERM. It is what `make cluster` starts in the
// background (through hack/cluster.sh) and what `make demo` plans against.
//
//	go run ./hack/cluster [-dir .cache/cluster]
//
// In -dir it writes: pid (its process id, while it runs), kubeconfig (the
// admin identity, context "perimeter-local"), controlplane.log (the
// processes' output) and usage.txt (how to use and stop it). It removes pid
// and kubeconfig when it stops. There is no scheduler, controller manager or
// kubelet: objects are stored and validated, nothing runs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
)

// ContextName is the kubeconfig context of the local cluster.
const ContextName = "perimeter-local"

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "cluster:", err)
		os.Exit(1)
	}
}

func run() error {
	dir := flag.String("dir", "", "state folder (default <repo>/.cache/cluster)")
	flag.Parse()
	if *dir == "" {
		root, err := controlplane.RepoRoot()
		if err != nil {
			return err
		}
		*dir = filepath.Join(root, ".cache", "cluster")
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	*dir = abs
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return err
	}
	pidFile := filepath.Join(*dir, "pid")
	kubeconfig := filepath.Join(*dir, "kubeconfig")
	if pid, ok := running(pidFile); ok {
		return fmt.Errorf("already running as pid %d (stop it with make cluster-stop)", pid)
	}
	_ = os.Remove(kubeconfig)
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		return err
	}
	defer os.Remove(pidFile)

	// Stop on the first signal, also while starting.
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP)
	defer cancel()

	logFile, err := os.Create(filepath.Join(*dir, "controlplane.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()

	binDir, err := controlplane.BinaryDir(ctx, true, os.Stderr)
	if err != nil {
		return err
	}
	began := time.Now()
	cp, err := controlplane.Start(ctx, controlplane.Options{BinaryDir: binDir, Output: logFile})
	if err != nil {
		return fmt.Errorf("%w (see %s)", err, logFile.Name())
	}
	defer func() {
		_ = os.Remove(kubeconfig)
		if err := cp.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "cluster: stopping:", err)
		} else {
			fmt.Println("Local control plane stopped.")
		}
	}()
	if err := controlplane.WriteKubeconfig(kubeconfig, cp.Config, ContextName); err != nil {
		return err
	}

	usage := usageText(cp, binDir, kubeconfig, time.Since(began))
	if err := os.WriteFile(filepath.Join(*dir, "usage.txt"), []byte(usage), 0o644); err != nil {
		return err
	}
	fmt.Print(usage)

	<-ctx.Done()
	fmt.Println("Stopping the local control plane...")
	return nil
}

func usageText(cp *controlplane.ControlPlane, binDir, kubeconfig string, took time.Duration) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Local control plane (kube-apiserver v1.37 + etcd, RBAC, Gateway API CRDs) is running\n")
	fmt.Fprintf(&b, "  API server: %s   pid: %d   started in %v\n", cp.Config.Host, os.Getpid(), took.Round(100*time.Millisecond))
	fmt.Fprintf(&b, "Use it:\n")
	fmt.Fprintf(&b, "  export KUBECONFIG=%s\n", kubeconfig)
	fmt.Fprintf(&b, "  export PATH=%s:$PATH   # the matching kubectl\n", binDir)
	fmt.Fprintf(&b, "  kubectl get crds\n")
	fmt.Fprintf(&b, "  bin/perimeter render examples/seed\n")
	fmt.Fprintf(&b, "Stop it:\n")
	fmt.Fprintf(&b, "  make cluster-stop   (or kill -TERM %d, or Ctrl-C in the foreground)\n", os.Getpid())
	return b.String()
}

// running reports the pid in pidFile if that process is alive.
func running(pidFile string) (int, bool) {
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return 0, false
	}
	if err := syscall.Kill(pid, 0); err != nil && !errors.Is(err, syscall.EPERM) {
		return 0, false
	}
	// A recycled pid belongs to some other program.
	if exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && !strings.Contains(filepath.Base(exe), "cluster") {
		return 0, false
	}
	return pid, true
}
