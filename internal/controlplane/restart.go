package controlplane

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// StopAPIServer stops kube-apiserver (SIGTERM, then its graceful shutdown)
// and leaves etcd running with its data, as in an API server outage or
// upgrade. Requests fail with "connection refused" until StartAPIServer.
// Stop still stops everything, whether the API server runs or not.
//
// StopAPIServer, StartAPIServer and Stop must not run concurrently.
func (cp *ControlPlane) StopAPIServer() error {
	if cp == nil || cp.env == nil || cp.env.ControlPlane.APIServer == nil {
		return errors.New("controlplane: not running")
	}
	err := cp.env.ControlPlane.APIServer.Stop()
	if cp.reaper != nil {
		// Forget the old process group: its id may be reused.
		cp.reaper.resetToChildren()
	}
	if err != nil {
		return fmt.Errorf("stopping kube-apiserver: %w", err)
	}
	return nil
}

// StartAPIServer starts kube-apiserver again after StopAPIServer, on the
// same address with the same serving certificates and client CA, so Config,
// kubeconfigs written from it and identities from AddUser keep working. It
// returns once the server is ready and serves the installed CRDs again
// (their definitions are in etcd; the server needs a moment to load them).
func (cp *ControlPlane) StartAPIServer() error {
	if cp == nil || cp.env == nil || cp.env.ControlPlane.APIServer == nil {
		return errors.New("controlplane: not running")
	}
	timeout := cp.env.ControlPlaneStartTimeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	// Tell the reaper about the new process as soon as it exists: as Start
	// does, and also through a cheap 1ms poll of our own children, so that
	// the window in which dying would leave it running is a few ms, not 25.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	var watchers sync.WaitGroup
	if cp.reaper != nil {
		watchers.Add(2)
		go func() {
			defer watchers.Done()
			cp.reaper.watchChildren(watchCtx)
		}()
		go func() {
			defer watchers.Done()
			for {
				if pids := apiServerChildren(); len(pids) > 0 {
					for _, pid := range pids {
						cp.reaper.add(pid)
					}
					return
				}
				select {
				case <-watchCtx.Done():
					return
				case <-time.After(time.Millisecond):
				}
			}
		}()
	}
	err := cp.env.ControlPlane.APIServer.Start()
	stopWatch()
	watchers.Wait()
	if cp.reaper != nil {
		cp.reaper.resetToChildren()
	}
	if err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	if err := cp.waitReady(timeout); err != nil {
		return fmt.Errorf("kube-apiserver restarted but is not ready: %w", err)
	}
	return nil
}

// waitReady polls /readyz as the admin, then discovery until it lists every
// installed CRD. (Not envtest.WaitForCRDs: it logs through controller-runtime's
// logger, which complains on stderr when nothing set it.)
func (cp *ControlPlane) waitReady(timeout time.Duration) error {
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	missing := func() string {
		if body, err := cs.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx); err != nil {
			return fmt.Sprintf("/readyz: %v: %s", err, body)
		}
		for _, crd := range cp.env.CRDs {
			for _, v := range crd.Spec.Versions {
				if !v.Served {
					continue
				}
				gv := crd.Spec.Group + "/" + v.Name
				list, err := cs.Discovery().ServerResourcesForGroupVersion(gv)
				if err != nil {
					return fmt.Sprintf("discovery of %s: %v", gv, err)
				}
				if !slices.ContainsFunc(list.APIResources, func(r metav1.APIResource) bool { return r.Name == crd.Spec.Names.Plural }) {
					return fmt.Sprintf("%s is not served in %s", crd.Spec.Names.Plural, gv)
				}
			}
		}
		return ""
	}
	for {
		m := missing()
		if m == "" {
			return nil
		}
		select {
		case <-ctx.Done():
			return errors.New(m)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// apiServerChildren lists our child processes named kube-apiserver that
// lead their own process group, from /proc/self/task/*/children: a few
// small reads, unlike controlPlaneChildren's walk of every process.
// (Linux with CONFIG_PROC_CHILDREN; elsewhere it finds nothing.)
func apiServerChildren() []int {
	files, _ := filepath.Glob("/proc/self/task/*/children")
	var pids []int
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, field := range strings.Fields(string(data)) {
			pid, err := strconv.Atoi(field)
			if err != nil {
				continue
			}
			stat, err := os.ReadFile("/proc/" + field + "/stat")
			if err != nil {
				continue
			}
			// pid (comm) state ppid pgrp ...; comm may contain spaces.
			s := string(stat)
			open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
			if open < 0 || closing < open || s[open+1:closing] != "kube-apiserver" {
				continue
			}
			fields := strings.Fields(s[closing+1:])
			if len(fields) < 3 {
				continue
			}
			if pgrp, _ := strconv.Atoi(fields[2]); pgrp == pid {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
