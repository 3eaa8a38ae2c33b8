package dataplane

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
)

// kubeRouter is a running kube-router with its network-policy controller
// only. Its log tells when a sync of the iptables rules starts and ends.
type kubeRouter struct {
	cmd     *exec.Cmd
	logPath string
	done    chan struct{}

	mu      sync.Mutex
	changed *sync.Cond
	syncs   []syncRun // in the order they started
	exited  bool
}

// syncRun is one full sync: when its start and end lines were read (end
// zero while it runs) and whether it was aborted.
type syncRun struct {
	start, end time.Time
	aborted    bool
}

// startKubeRouter starts kube-router in this process's network namespace
// (which mustBeSandboxed checked) as the node NodeName.
func startKubeRouter(binary, kubeconfig, logPath string) (*kubeRouter, error) {
	if err := mustBeSandboxed("start kube-router"); err != nil {
		return nil, err
	}
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	kr := &kubeRouter{logPath: logPath, done: make(chan struct{})}
	kr.changed = sync.NewCond(&kr.mu)
	kr.cmd = exec.Command(binary,
		"--run-firewall=true", "--run-router=false", "--run-service-proxy=false",
		"--hostname-override="+NodeName, "--health-port=0", "--metrics-port=0",
		"--kubeconfig="+kubeconfig, "--iptables-sync-period=5m", "-v=1")
	// It dies with the thread that started it, which waits for it below.
	kr.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	pr, pw := io.Pipe()
	kr.cmd.Stdout, kr.cmd.Stderr = pw, pw
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // Pdeathsig is bound to this thread
		if err := kr.cmd.Start(); err != nil {
			started <- fmt.Errorf("starting kube-router: %w", err)
			return
		}
		started <- nil
		_ = kr.cmd.Wait()
		pw.Close()
	}()
	if err := <-started; err != nil {
		logFile.Close()
		return nil, err
	}
	go kr.read(pr, logFile)
	return kr, nil
}

// read follows the log, recording syncs as their lines arrive.
func (kr *kubeRouter) read(r io.Reader, log *os.File) {
	defer close(kr.done)
	defer log.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		line := sc.Text()
		now := time.Now()
		fmt.Fprintln(log, line)
		kr.mu.Lock()
		switch {
		case strings.Contains(line, "Starting sync of iptables with version"):
			kr.syncs = append(kr.syncs, syncRun{start: now})
		case strings.Contains(line, "Aborting sync"):
			if n := len(kr.syncs); n > 0 {
				kr.syncs[n-1].aborted = true
			}
		case strings.Contains(line, "sync iptables took"):
			if n := len(kr.syncs); n > 0 && kr.syncs[n-1].end.IsZero() {
				kr.syncs[n-1].end = now
			}
		}
		kr.changed.Broadcast()
		kr.mu.Unlock()
	}
	kr.mu.Lock()
	kr.exited = true
	kr.changed.Broadcast()
	kr.mu.Unlock()
}

// waitSync waits for a sync that started after since to finish, and fails
// when it was aborted, kube-router exited or timeout passed.
func (kr *kubeRouter) waitSync(ctx context.Context, since time.Time, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	wake := time.AfterFunc(timeout, func() {
		kr.mu.Lock()
		kr.changed.Broadcast()
		kr.mu.Unlock()
	})
	defer wake.Stop()
	kr.mu.Lock()
	defer kr.mu.Unlock()
	for {
		for _, s := range kr.syncs {
			if s.start.After(since) && !s.end.IsZero() {
				if s.aborted {
					return fmt.Errorf("kube-router aborted a sync (see %s)", kr.logPath)
				}
				return nil
			}
		}
		switch {
		case kr.exited:
			return fmt.Errorf("kube-router exited (see %s)", kr.logPath)
		case time.Now().After(deadline) || ctx.Err() != nil:
			return fmt.Errorf("no kube-router sync finished within %v (see %s)", timeout, kr.logPath)
		}
		kr.changed.Wait()
	}
}

// stop stops kube-router by its pid and waits for it.
func (kr *kubeRouter) stop() {
	if kr.cmd.Process != nil {
		_ = kr.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-kr.done:
	case <-time.After(10 * time.Second):
		_ = kr.cmd.Process.Kill()
		<-kr.done
	}
}
