package controlplane

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The reaper is a tiny shell process that outlives us if we die. It reads
// process-group ids from a pipe whose write end only we hold; when the pipe
// reaches EOF without a "done" line (we exited without Stop: a panic, a test
// timeout, SIGKILL), it kills those groups and removes the work folder.
//
// envtest starts etcd and kube-apiserver each in its own process group
// (Setpgid), so a group id is the process id and the group holds nothing else.
const reaperScript = `
trap '' INT TERM HUP PIPE
dir=$1
groups=
while IFS= read -r line; do
	case $line in
	done) exit 0 ;;
	reset) groups= ;;
	''|*[!0-9]*) ;;
	*) groups="$groups $line" ;;
	esac
done
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
sleep 1
case $dir in /*perimeter-controlplane-*) rm -rf -- "$dir" ;; esac
`

type reaper struct {
	cmd *exec.Cmd

	mu   sync.Mutex
	w    *os.File // nil once released
	sent map[int]bool
}

func startReaper(dir string) (*reaper, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("/bin/sh", "-c", reaperScript, "perimeter-controlplane-reaper", dir)
	cmd.Stdin = r
	// Stdout and stderr stay nil (/dev/null): the reaper must not hold open
	// the pipes that `go test` reads, or go test would wait for it.
	//
	// Its own process group, so a Ctrl-C to our group does not reach it
	// (it ignores the signal anyway, and kills the control plane when we go).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	r.Close()
	// Reap it when it exits, so it does not linger as a zombie.
	go func() { _ = cmd.Wait() }()
	return &reaper{cmd: cmd, w: w, sent: map[int]bool{}}, nil
}

func (r *reaper) send(line string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		_, _ = fmt.Fprintln(r.w, line)
	}
}

func (r *reaper) add(pid int) {
	r.mu.Lock()
	seen := r.sent[pid]
	r.sent[pid] = true
	r.mu.Unlock()
	if !seen {
		r.send(strconv.Itoa(pid))
	}
}

// watchChildren reports our etcd and kube-apiserver children to the reaper
// while the control plane starts, until ctx is done.
func (r *reaper) watchChildren(ctx context.Context) {
	t := time.NewTicker(25 * time.Millisecond)
	defer t.Stop()
	for {
		for _, pid := range controlPlaneChildren() {
			r.add(pid)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// resetToChildren replaces the reaper's list with the children alive now:
// the short-lived `--help` runs envtest makes during start are dropped.
func (r *reaper) resetToChildren() {
	r.mu.Lock()
	r.sent = map[int]bool{}
	r.mu.Unlock()
	r.send("reset")
	for _, pid := range controlPlaneChildren() {
		r.add(pid)
	}
}

// release tells the reaper to exit without killing anything.
func (r *reaper) release() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w == nil {
		return
	}
	_, _ = fmt.Fprintln(r.w, "done")
	_ = r.w.Close()
	r.w = nil
}

// abandon closes the pipe without "done": the reaper kills what it knows.
func (r *reaper) abandon() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.w != nil {
		_ = r.w.Close()
		r.w = nil
	}
}

// controlPlaneChildren lists our child processes named etcd or
// kube-apiserver that lead their own process group (Linux /proc; elsewhere
// it finds nothing and the reaper has nothing to do).
func controlPlaneChildren() []int {
	self := os.Getpid()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		// pid (comm) state ppid pgrp ...; comm may contain spaces.
		s := string(data)
		open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || closing < open {
			continue
		}
		comm := s[open+1 : closing]
		if comm != "etcd" && comm != "kube-apiserver" {
			continue
		}
		fields := strings.Fields(s[closing+1:])
		if len(fields) < 3 {
			continue
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(s[:open]))
		ppid, _ := strconv.Atoi(fields[1])
		pgrp, _ := strconv.Atoi(fields[2])
		if ppid == self && pgrp == pid && pid > 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}
