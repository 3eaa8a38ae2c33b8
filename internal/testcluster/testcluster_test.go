package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func TestMain(m *testing.M) { Main(m) }

const k8sVersion = "v1.37.2"

// The admin kubeconfig works with the kubectl that was built alongside, and
// both report the release version (unversioned builds say v0.0.0-master).
func TestKubeconfigAndVersions(t *testing.T) {
	c := Get(t)
	kubectl := filepath.Join(c.BinaryDir, "kubectl")

	out := runCmd(t, kubectl, "--kubeconfig", c.Kubeconfig, "version", "-o", "json")
	var v struct {
		Client struct{ GitVersion string } `json:"clientVersion"`
		Server struct{ GitVersion string } `json:"serverVersion"`
	}
	if err := json.Unmarshal(out, &v); err != nil {
		t.Fatalf("kubectl version: %v\n%s", err, out)
	}
	if v.Client.GitVersion != k8sVersion || v.Server.GitVersion != k8sVersion {
		t.Errorf("versions: client %q, server %q; want %s", v.Client.GitVersion, v.Server.GitVersion, k8sVersion)
	}

	out = runCmd(t, kubectl, "--kubeconfig", c.Kubeconfig, "config", "current-context")
	if got := strings.TrimSpace(string(out)); got != ContextName {
		t.Errorf("current context %q, want %q", got, ContextName)
	}

	// The Gateway API standard CRDs are installed and served.
	out = runCmd(t, kubectl, "--kubeconfig", c.Kubeconfig, "get", "crd", "-o", "name")
	for _, crd := range []string{"httproutes", "grpcroutes", "tlsroutes", "tcproutes", "udproutes", "listenersets", "referencegrants", "backendtlspolicies", "gateways", "gatewayclasses"} {
		if !strings.Contains(string(out), crd+".gateway.networking.k8s.io") {
			t.Errorf("CRD %s not installed; have:\n%s", crd, out)
		}
	}
	out = runCmd(t, kubectl, "--kubeconfig", c.Kubeconfig, "api-resources", "--api-group=gateway.networking.k8s.io", "-o", "name")
	if !strings.Contains(string(out), "httproutes.gateway.networking.k8s.io") {
		t.Errorf("httproutes not served:\n%s", out)
	}
}

func runCmd(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// RBAC is enforced: a restricted identity can do what it was granted, in
// the namespace it was granted, and nothing else.
func TestRestrictedConfig(t *testing.T) {
	c := Get(t)
	ctx := context.Background()
	ns, other := c.Namespace(t), c.Namespace(t)

	cfg := c.RestrictedConfig(t, "np-reader", []rbacv1.PolicyRule{{
		APIGroups: []string{"networking.k8s.io"},
		Resources: []string{"networkpolicies"},
		Verbs:     []string{"get", "list"},
	}}, ns)
	cs := kubernetes.NewForConfigOrDie(cfg)

	if _, err := cs.NetworkingV1().NetworkPolicies(ns).List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("granted list: %v", err)
	}
	_, err := cs.NetworkingV1().NetworkPolicies(other).List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("list in another namespace: got %v, want Forbidden", err)
	}
	np := &networkingv1.NetworkPolicy{ObjectMeta: metav1.ObjectMeta{Name: "deny-all"}}
	_, err = cs.NetworkingV1().NetworkPolicies(ns).Create(ctx, np, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("create without the verb: got %v, want Forbidden", err)
	}

	// A cluster-wide grant.
	cfg = c.RestrictedConfig(t, "ns-lister", []rbacv1.PolicyRule{{
		APIGroups: []string{""}, Resources: []string{"namespaces"}, Verbs: []string{"list"},
	}}, "")
	if _, err := kubernetes.NewForConfigOrDie(cfg).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("granted cluster-wide list: %v", err)
	}

	// A bare user has no rights; the admin has all.
	_, err = kubernetes.NewForConfigOrDie(c.User(t, "nobody")).CoreV1().Namespaces().List(ctx, metav1.ListOptions{})
	if !apierrors.IsForbidden(err) {
		t.Errorf("bare user: got %v, want Forbidden", err)
	}
	if _, err := kubernetes.NewForConfigOrDie(c.Config).CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); err != nil {
		t.Errorf("admin: %v", err)
	}

	// The restricted identity also works through a kubeconfig file.
	kc := c.WriteKubeconfig(t, c.User(t, "nobody-file"))
	cmd := exec.Command(filepath.Join(c.BinaryDir, "kubectl"), "--kubeconfig", kc, "auth", "whoami", "-o", "jsonpath={.status.userInfo.username}")
	out, err := cmd.Output()
	if err != nil || string(out) != "nobody-file" {
		t.Errorf("kubectl auth whoami: %q, %v", out, err)
	}
}

func TestDNSName(t *testing.T) {
	for in, want := range map[string]string{
		"TestFoo/sub_case#01":          "testfoo-sub-case-01",
		"--":                           "test",
		"ABC":                          "abc",
		strings.Repeat("x", 50) + "-y": strings.Repeat("x", 40),
	} {
		if got := dnsName(in, 40); got != want {
			t.Errorf("dnsName(%q) = %q, want %q", in, got, want)
		}
	}
}

// --- No stray processes -----------------------------------------------------

// The crash tests re-run this test binary with helperEnv set, so that
// TestCrashHelper starts a control plane and then dies in the given way.
const (
	helperEnv = "PERIMETER_TESTCLUSTER_CRASH_MODE"
	reportEnv = "PERIMETER_TESTCLUSTER_CRASH_REPORT"
)

type crashReport struct {
	PIDs []int
	Dir  string
}

// TestCrashHelper does nothing in a normal run.
func TestCrashHelper(t *testing.T) {
	mode := os.Getenv(helperEnv)
	if mode == "" {
		return
	}
	c := Get(t)
	rep := crashReport{Dir: c.cp.Dir()}
	for _, pid := range childPIDs() {
		rep.PIDs = append(rep.PIDs, pid)
	}
	data, _ := json.Marshal(rep)
	tmp := os.Getenv(reportEnv) + ".tmp"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, os.Getenv(reportEnv)); err != nil {
		t.Fatal(err)
	}
	switch mode {
	case "panic":
		panic("crash helper: a test panics")
	case "goroutine-panic":
		go panic("crash helper: a goroutine panics")
	case "fail":
		t.Fatal("crash helper: a test fails")
		return
	}
	// timeout, sigkill, sigint: wait to be ended.
	time.Sleep(10 * time.Minute)
}

// childPIDs lists this process's kube-apiserver and etcd children.
func childPIDs() []int {
	self := strconv.Itoa(os.Getpid())
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var pids []int
	for _, p := range stats {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(data)
		i, j := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if i < 0 || j < i || s[i+1:j] != "etcd" && s[i+1:j] != "kube-apiserver" {
			continue
		}
		i = j
		if f := strings.Fields(s[i+1:]); len(f) > 1 && f[1] == self {
			pid, _ := strconv.Atoi(strings.Fields(s)[0])
			pids = append(pids, pid)
		}
	}
	return pids
}

// alive reports whether pid runs (a zombie, already dead, does not count).
func alive(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	s := string(data)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		if f := strings.Fields(s[i+1:]); len(f) > 0 && (f[0] == "Z" || f[0] == "X") {
			return false
		}
	}
	return true
}

// However a test binary ends, its kube-apiserver and etcd end with it and
// their data folder is removed.
func TestNoStrayProcesses(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("needs /proc")
	}
	Get(t) // skip (or fail under CI) like every cluster test when unavailable
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// A real -test.timeout needs a deadline beyond the start of a control
	// plane (5-10 s, more on a loaded machine), so that case gets a generous
	// one and waits for it alongside the others, which run one at a time.
	timeout := crashCase{mode: "timeout", args: []string{"-test.timeout=60s"}}
	others := []crashCase{
		{mode: "fail"},
		{mode: "panic"},
		{mode: "goroutine-panic"},
		{mode: "sigint", signal: syscall.SIGINT},
		{mode: "sigkill", signal: syscall.SIGKILL},
	}
	t.Run(timeout.mode, func(t *testing.T) {
		t.Parallel()
		timeout.run(t, self)
	})
	t.Run("exits", func(t *testing.T) {
		t.Parallel()
		for _, tc := range others {
			t.Run(tc.mode, func(t *testing.T) { tc.run(t, self) })
		}
	})
}

// crashCase runs the test binary's TestCrashHelper in the given mode,
// optionally signals it once it has reported its control plane, and checks
// that the control plane's processes and data folder are gone after it ends.
type crashCase struct {
	mode   string
	args   []string
	signal syscall.Signal
}

func (tc crashCase) run(t *testing.T, self string) {
	report := filepath.Join(t.TempDir(), "report.json")
	args := append([]string{"-test.run=^TestCrashHelper$", "-test.v"}, tc.args...)
	cmd := exec.Command(self, args...)
	cmd.Env = append(os.Environ(), helperEnv+"="+tc.mode, reportEnv+"="+report)
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	// Wait for the report (the file is renamed into place when complete).
	var rep crashReport
	reported := func() bool {
		data, err := os.ReadFile(report)
		return err == nil && json.Unmarshal(data, &rep) == nil && rep.Dir != ""
	}
	var err error
	exited := false
	for deadline := time.Now().Add(3 * time.Minute); !reported(); {
		select {
		case err = <-done:
			exited = true
			if !reported() {
				t.Fatalf("helper ended before reporting: %v\n%s", err, output.Bytes())
			}
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("helper did not report\n%s", output.Bytes())
		}
	}
	if len(rep.PIDs) != 2 {
		t.Errorf("helper reported %d control plane processes, want 2 (etcd, kube-apiserver): %v", len(rep.PIDs), rep.PIDs)
	}
	if tc.signal != 0 && !exited {
		if err := cmd.Process.Signal(tc.signal); err != nil {
			t.Fatal(err)
		}
	}
	if !exited {
		select {
		case err = <-done:
		case <-time.After(3 * time.Minute):
			_ = cmd.Process.Kill()
			t.Fatalf("helper did not end\n%s", output.Bytes())
		}
	}
	// Every mode ends the helper with a failure or a signal.
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		t.Errorf("helper: got %v, want a failing exit", err)
	}

	// Everything is gone within a few seconds.
	var left []int
	for end := time.Now().Add(15 * time.Second); ; {
		left = left[:0]
		for _, pid := range rep.PIDs {
			if alive(pid) {
				left = append(left, pid)
			}
		}
		_, dirErr := os.Stat(rep.Dir)
		if len(left) == 0 && os.IsNotExist(dirErr) {
			break
		}
		if time.Now().After(end) {
			for _, pid := range left {
				_ = syscall.Kill(-pid, syscall.SIGKILL)
			}
			t.Fatalf("after the helper ended (%v): processes %v still run; data folder %s: %v\n%s",
				err, left, rep.Dir, dirErr, output.Bytes())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if testing.Verbose() {
		lines := strings.Split(strings.TrimSpace(output.String()), "\n")
		t.Logf("helper ended with %v; last line: %s", err, lines[len(lines)-1])
	}
}
