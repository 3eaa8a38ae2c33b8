package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/lock"
)

// signalWriter collects output and closes seen once it contains want.
type signalWriter struct {
	mu   sync.Mutex
	b    bytes.Buffer
	want string
	seen chan struct{}
	once sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	n, err := w.b.Write(p)
	if strings.Contains(w.b.String(), w.want) {
		w.once.Do(func() { close(w.seen) })
	}
	return n, err
}

func (w *signalWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.String()
}

func lockIntent(t *testing.T) (dir, stack, ns string, c *testcluster.Cluster) {
	c = testcluster.Get(t)
	ns = c.Namespace(t)
	stack = "s" + ns[len(ns)-6:]
	dir = t.TempDir()
	hcl := fmt.Sprintf("perimeter {\n  stack = %q\n}\n\nnamespace \"app\" {\n  name         = %q\n  default_deny = [\"ingress\"]\n}\n", stack, ns)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(hcl), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, stack, ns, c
}

// apply --lock-timeout waits while another run holds the lock, and goes
// ahead once it is released.
func TestApplyWaitsForLock(t *testing.T) {
	dir, stack, _, c := lockIntent(t)
	cs := kubernetes.NewForConfigOrDie(c.Config)
	held, err := lock.Acquire(context.Background(), cs.CoordinationV1(), "default", stack, lock.Holder{ID: "other-run", Host: "elsewhere"}, lock.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stderr := &signalWriter{want: "Waiting up to 2m0s for the lock", seen: make(chan struct{})}
	var stdout bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"apply", "--kubeconfig", c.Kubeconfig, "--auto-approve", "--lock-timeout", "2m", dir}, &stdout, stderr)
	}()
	select {
	case <-stderr.seen:
	case code := <-done:
		t.Fatalf("apply did not wait for the lock: exit %d\n%s%s", code, stdout.String(), stderr.String())
	case <-time.After(time.Minute):
		t.Fatal("apply neither waited nor finished")
	}
	if !strings.Contains(stderr.String(), "held by lock ID other-run") {
		t.Errorf("the wait does not name the holder:\n%s", stderr.String())
	}
	if err := held.Release(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(stdout.String(), "Apply complete! Resources: 1 added") {
			t.Fatalf("apply after the release: exit %d\n%s%s", code, stdout.String(), stderr.String())
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("apply did not finish after the lock was released")
	}
}

// Two applies of one stack at once, as two processes (as two people run
// them; TestMain puts the test binary on PATH as perimeter): the second
// plans only after the first has applied (so it has nothing left to do),
// and both succeed.
func TestTwoAppliesAtOnce(t *testing.T) {
	dir, _, _, c := lockIntent(t)
	type result struct {
		code     int
		out, err string
	}
	results := make(chan result, 2)
	for range 2 {
		go func() {
			var out, errb bytes.Buffer
			cmd := exec.Command("perimeter", "apply", "--kubeconfig", c.Kubeconfig, "--auto-approve", "--lock-timeout", "2m", dir)
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			code := cmd.ProcessState.ExitCode()
			if err != nil && code <= 0 {
				fmt.Fprintf(&errb, "running perimeter: %v", err)
				code = 1
			}
			results <- result{code, out.String(), errb.String()}
		}()
	}
	var applied, unchanged int
	for range 2 {
		r := <-results
		if r.code != 0 {
			t.Fatalf("an apply failed: exit %d\n%s%s", r.code, r.out, r.err)
		}
		switch {
		case strings.Contains(r.out, "Apply complete! Resources: 1 added"):
			applied++
		case strings.Contains(r.out, "No changes."):
			unchanged++
		default:
			t.Errorf("unexpected output:\n%s%s", r.out, r.err)
		}
	}
	if applied != 1 || unchanged != 1 {
		t.Errorf("%d applies created the objects and %d found nothing to do; want 1 and 1", applied, unchanged)
	}
}
