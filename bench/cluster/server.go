package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// serverProcs are the control plane's processes (kube-apiserver and etcd),
// found by the folder of the control plane in their command lines: the
// CPU time they spend on a command is the server side of its cost, which
// on a machine of 2 cores competes with the client's own.
type serverProcs struct{ pids []int }

func findServer(cpDir string) (*serverProcs, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	s := &serverProcs{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		args := strings.Split(string(cmdline), "\x00")
		name := filepath.Base(args[0])
		if (name == "kube-apiserver" || name == "etcd") && strings.Contains(string(cmdline), cpDir) {
			s.pids = append(s.pids, pid)
		}
	}
	if len(s.pids) != 2 {
		return nil, fmt.Errorf("found %d control plane processes of %s, want kube-apiserver and etcd", len(s.pids), cpDir)
	}
	return s, nil
}

// cpu is the user and system time the processes have used so far.
func (s *serverProcs) cpu() time.Duration {
	var ticks int64
	for _, pid := range s.pids {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// fields after the command name (which may hold spaces) in parentheses
		rest := string(stat[strings.LastIndexByte(string(stat), ')')+2:])
		f := strings.Fields(rest)
		if len(f) < 13 {
			continue
		}
		utime, _ := strconv.ParseInt(f[11], 10, 64)
		stime, _ := strconv.ParseInt(f[12], 10, 64)
		ticks += utime + stime
	}
	return time.Duration(ticks) * 10 * time.Millisecond // USER_HZ is 100 on Linux
}
