package dataplane

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Prefix starts the name of every network namespace the sandbox creates:
// "perimdp-<pid>-...", so that those of a run that was killed can be found
// (their pid is gone) and removed at the next start.
const Prefix = "perimdp-"

const netnsDir = "/run/netns"

// netnsInode is the inode of a network namespace file.
func netnsInode(path string) (uint64, error) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	return st.Ino, nil
}

// envRootNetns carries the inode of the network namespace that started the
// sandbox (the one to protect) to the program running inside it.
const envRootNetns = "PERIMETER_DATAPLANE_ROOT_NETNS"

// InRootNetns reports whether this process is in the machine's root
// network namespace: that of pid 1 (when this process may look at it, which
// a container may forbid) or that of the process that started the sandbox
// ($PERIMETER_DATAPLANE_ROOT_NETNS, which must then be set). An error
// means it cannot tell, which callers must treat as "yes".
func InRootNetns() (bool, error) {
	self, err := netnsInode("/proc/self/ns/net")
	if err != nil {
		return true, err
	}
	known := false
	if root, err := netnsInode("/proc/1/ns/net"); err == nil {
		if self == root {
			return true, nil
		}
		known = true
	}
	if v := os.Getenv(envRootNetns); v != "" {
		root, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return true, fmt.Errorf("%s=%q: %w", envRootNetns, v, err)
		}
		if self == root {
			return true, nil
		}
		known = true
	}
	if !known {
		return true, fmt.Errorf("neither /proc/1/ns/net nor %s tells the root network namespace", envRootNetns)
	}
	return false, nil
}

// mustBeSandboxed refuses to go on in the root network namespace: nothing
// that changes netfilter, links or routes may run there.
func mustBeSandboxed(what string) error {
	root, err := InRootNetns()
	if err != nil {
		return fmt.Errorf("refusing to %s: cannot tell the network namespace: %w", what, err)
	}
	if root {
		return fmt.Errorf("refusing to %s: this process is in the machine's root network namespace", what)
	}
	return nil
}

// run runs a command and returns its error with its output.
func run(name string, args ...string) error {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// ip runs the ip command (in this process's network namespace unless the
// arguments say otherwise with -n).
func ip(args ...string) error { return run("ip", args...) }

// addNetns creates a named network namespace with its loopback up.
func addNetns(name string) error {
	if err := ip("netns", "add", name); err != nil {
		return err
	}
	return ip("-n", name, "link", "set", "lo", "up")
}

// delNetns removes a named network namespace; its veths go with it.
func delNetns(name string) error {
	if _, err := os.Stat(filepath.Join(netnsDir, name)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return ip("netns", "del", name)
}

// ourNetns lists the namespaces with the sandbox's prefix; stale selects
// those whose creating process (the pid in the name) is gone, or every
// one with the given run prefix when run is not "".
func ourNetns(runPrefix string, staleOnly bool) []string {
	entries, _ := os.ReadDir(netnsDir)
	var out []string
	for _, e := range entries {
		n := e.Name()
		if !strings.HasPrefix(n, Prefix) {
			continue
		}
		if runPrefix != "" && !strings.HasPrefix(n, runPrefix) {
			continue
		}
		if staleOnly && pidAlive(pidOf(n)) {
			continue
		}
		out = append(out, n)
	}
	return out
}

// pidOf reads the pid from "perimdp-<pid>-...".
func pidOf(name string) int {
	rest := strings.TrimPrefix(name, Prefix)
	n, _ := strconv.Atoi(strings.SplitN(rest, "-", 2)[0])
	return n
}

func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	return unix.Kill(pid, 0) == nil || errors.Is(unix.Kill(pid, 0), unix.EPERM)
}

// RemoveStale deletes the namespaces left by killed runs, and returns
// their names.
func RemoveStale() ([]string, error) {
	var errs []error
	stale := ourNetns("", true)
	for _, n := range stale {
		errs = append(errs, delNetns(n))
	}
	return stale, errors.Join(errs...)
}

// inNetns runs fn on a thread that has entered the network namespace at
// path. The thread is never handed back to the Go scheduler (it exits
// with the goroutine), so no other goroutine runs in that namespace by
// accident. Sockets fn creates stay in the namespace for their lifetime.
func inNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // no Unlock: the thread dies with the goroutine
		fd, err := unix.Open(path, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", path, err)
			return
		}
		err = unix.Setns(fd, unix.CLONE_NEWNET)
		unix.Close(fd)
		if err != nil {
			errc <- fmt.Errorf("entering %s: %w", path, err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// netnsPath is the file of a named namespace.
func netnsPath(name string) string { return filepath.Join(netnsDir, name) }
