// Package outage stops the real kube-apiserver in the middle of an apply
// (issue 5: "the API server stopped in the middle of an apply -> non-zero
// exit with a clear message, and after restart a re-run converges").
//
// It has its own control plane, not internal/testcluster's shared one,
// because it stops and restarts that control plane's kube-apiserver; etcd
// keeps running with its data, so the restarted server sees what was
// written before the outage.
package outage

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/buildtags"
	"github.com/perimeter-dev/perimeter/internal/controlplane"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// The package's control plane: started on first use, stopped after the
// tests. If the test binary dies instead (panic, -timeout, SIGKILL), the
// control plane's reaper stops etcd and kube-apiserver.
var shared struct {
	once   sync.Once
	binDir string
	binErr error
	cp     *controlplane.ControlPlane
	err    error
	down   bool // the API server is stopped
}

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if testing.Short() && !testcluster.Required() {
			shared.binErr = errors.New("-short: tests that need a control plane are skipped")
		} else {
			// Outside the tests' -timeout: a first build takes minutes.
			shared.binDir, shared.binErr = controlplane.BinaryDir(context.Background(), true, os.Stderr)
			if shared.binErr != nil && testcluster.Required() {
				fmt.Fprintf(os.Stderr, "outage: no control plane binaries (CI=true, so this fails): %v\n", shared.binErr)
				return 1
			}
		}
		if shared.binErr == nil {
			// The CLI test's binary, built while the control plane starts.
			sweepCLIBuilds()
			binDir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", cliBuildPrefix, os.Getpid()))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(binDir)
			startCLIBuild(binDir)
			defer func() {
				cli.cancel()
				<-cli.done
			}()
		}
		defer func() {
			if shared.cp != nil {
				if err := shared.cp.Stop(); err != nil {
					fmt.Fprintf(os.Stderr, "outage: stopping the control plane: %v\n", err)
				}
			}
		}()
		return m.Run()
	}()
	os.Exit(code)
}

// controlPlane returns the package's control plane with its API server
// running (a test that failed while it was stopped left it so).
func controlPlane(t *testing.T) *controlplane.ControlPlane {
	t.Helper()
	shared.once.Do(func() {
		if shared.err = shared.binErr; shared.err != nil {
			return
		}
		began := time.Now()
		shared.cp, shared.err = controlplane.Start(context.Background(), controlplane.Options{BinaryDir: shared.binDir})
		if shared.err == nil {
			t.Logf("control plane started in %v", time.Since(began).Round(10*time.Millisecond))
		}
	})
	if shared.err != nil {
		if testcluster.Required() {
			t.Fatalf("control plane unavailable (CI=true, so this fails): %v", shared.err)
		}
		t.Skipf("control plane unavailable: %v", shared.err)
	}
	if shared.down {
		startAPIServer(t)
	}
	return shared.cp
}

func stopAPIServer(cp *controlplane.ControlPlane) error {
	shared.down = true
	return cp.StopAPIServer()
}

func startAPIServer(t *testing.T) {
	t.Helper()
	began := time.Now()
	if err := shared.cp.StartAPIServer(); err != nil {
		t.Fatal(err)
	}
	shared.down = false
	t.Logf("kube-apiserver restarted and ready in %v", time.Since(began).Round(10*time.Millisecond))
}

// intent is a stack in its own namespace with many objects: allows allow
// blocks, each compiling to one egress NetworkPolicy, plus the namespace's
// default-deny and the service's DNS egress.
type intent struct {
	stack, ns, dir string
	allows         int
	lines          map[string]int // policy name -> line of its allow block in main.hcl
}

// objects is how many objects the intent compiles to.
func (in *intent) objects() int { return in.allows + 2 }

func newIntent(t *testing.T, cp *controlplane.ControlPlane, stack string, allows int) *intent {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	// A fresh name each time, so -count=N reuses the control plane.
	var suffix [3]byte
	if _, err := rand.Read(suffix[:]); err != nil {
		t.Fatal(err)
	}
	stack += "-" + hex.EncodeToString(suffix[:])
	in := &intent{stack: stack, ns: stack, dir: t.TempDir(), allows: allows, lines: map[string]int{}}
	if _, err := cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: in.ns}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `perimeter {
  stack = %q
}

namespace "app" {
  name         = %q
  default_deny = ["ingress"]
}

service "users" {
  namespace = namespace.app
  selector  = { app = "users" }
  port      = 80
}
`, in.stack, in.ns)
	for i := range allows {
		b.WriteString("\n")
		in.lines[fmt.Sprintf("out-%d-egress", i)] = strings.Count(b.String(), "\n") + 1
		fmt.Fprintf(&b, `allow "out %d" {
  from  = service.users
  to    = cidr("198.18.%d.0/24")
  ports = [443]
}
`, i, i)
	}
	if err := os.WriteFile(filepath.Join(in.dir, "main.hcl"), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return in
}

func (in *intent) request(t *testing.T) plan.Request {
	t.Helper()
	loaded, _, diags := hclspec.Load(in.dir, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	objs, diags := generate.Objects(loaded)
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	if len(objs) != in.objects() {
		t.Fatalf("the intent compiles to %d objects, want %d", len(objs), in.objects())
	}
	return plan.Request{Stack: loaded.Stack, StateNamespace: loaded.StateNamespace, Target: "outage-test",
		Desired: objs, Kinds: generate.Kinds,
		OwnerSelector: ownership.MemberSelector(loaded.Stack, loaded.StateNamespace),
		Owned: func(o *unstructured.Unstructured) bool {
			return ownership.IsMember(o, loaded.Stack, loaded.StateNamespace)
		}}
}

func (in *intent) plan(t *testing.T, c *cluster.Client) *plan.Plan {
	t.Helper()
	p, err := plan.Make(context.Background(), c, in.request(t))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// live lists the NetworkPolicies in the stack's namespace, as change IDs.
func (in *intent) live(t *testing.T, cp *controlplane.ControlPlane) map[string]bool {
	t.Helper()
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	list, err := cs.NetworkingV1().NetworkPolicies(in.ns).List(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, np := range list.Items {
		out["NetworkPolicy "+in.ns+"/"+np.Name] = true
	}
	return out
}

// desired are the change IDs of every object of the intent.
func (in *intent) desired(t *testing.T) []string {
	var ids []string
	for _, o := range in.request(t).Desired {
		ids = append(ids, o.GetKind()+" "+o.GetNamespace()+"/"+o.GetName())
	}
	sort.Strings(ids)
	return ids
}

func newClient(t *testing.T, cp *controlplane.ControlPlane) *cluster.Client {
	t.Helper()
	c, err := cluster.New(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// outageWording is what a failure during the outage must say: that the API
// server could not be reached, not a bare transport error.
var outageWording = regexp.MustCompile(`cannot reach the API server|lost the connection to the API server|the API server is unavailable|the API server at \S+ did not answer`)

// checkResumePlan plans after the restart: exactly the objects that are not
// in the cluster are creates, the rest are unchanged; then it applies that
// plan and checks a third plan is empty.
func checkResumePlan(t *testing.T, cp *controlplane.ControlPlane, in *intent, live map[string]bool) {
	t.Helper()
	c := newClient(t, cp)
	p := in.plan(t, c)
	var wantCreates, gotCreates []string
	for _, id := range in.desired(t) {
		if !live[id] {
			wantCreates = append(wantCreates, id)
		}
	}
	for _, ch := range p.Changes {
		switch ch.Action {
		case plan.Create:
			gotCreates = append(gotCreates, ch.ID())
		case plan.NoOp:
		default:
			t.Errorf("plan after the restart: %s %s; want only creates of what is missing", ch.Action, ch.ID())
		}
	}
	sort.Strings(gotCreates)
	if strings.Join(gotCreates, "\n") != strings.Join(wantCreates, "\n") {
		t.Fatalf("plan after the restart creates\n%s\nwant exactly the missing objects\n%s", strings.Join(gotCreates, "\n"), strings.Join(wantCreates, "\n"))
	}
	if add, change, destroy := p.Counts(); add != len(wantCreates) || change != 0 || destroy != 0 {
		t.Fatalf("plan after the restart: %d to add, %d to change, %d to destroy; want %d, 0, 0", add, change, destroy, len(wantCreates))
	}
	r, err := apply.Run(context.Background(), c, p, apply.Options{KindOrder: generate.Kinds})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || r.Added != len(wantCreates) || r.Changed != 0 || r.Destroyed != 0 {
		t.Fatalf("re-run after the restart: %+v", r)
	}
	if again := in.plan(t, c); again.HasChanges() {
		a, ch, d := again.Counts()
		t.Fatalf("not converged: the next plan has %d to add, %d to change, %d to destroy", a, ch, d)
	}
}

// TestAPIServerStopsMidApply: apply.Run against a kube-apiserver that is
// stopped after the first results. The rest fail with a clear message, the
// report says so (the CLI exits 1 on it), and once the server is back the
// plan is exactly the missing creates and the re-run converges.
func TestAPIServerStopsMidApply(t *testing.T) {
	cp := controlPlane(t)
	in := newIntent(t, cp, "outage-pkg", 64)
	c := newClient(t, cp)
	p := in.plan(t, c)
	if add, change, destroy := p.Counts(); add != in.objects() || change != 0 || destroy != 0 {
		t.Fatalf("first plan: %d to add, %d to change, %d to destroy", add, change, destroy)
	}

	const stopAfter = 10
	var (
		seen    int
		stopped = make(chan error, 1)
	)
	began := time.Now()
	r, err := apply.Run(context.Background(), c, p, apply.Options{
		KindOrder: generate.Kinds,
		// fewer in flight than objects (the default, 64, is about all of
		// them), so that requests are still to be sent when the server stops
		Concurrency: 16,
		Progress: func(res apply.Result) {
			seen++ // Progress calls are serialised by apply
			if seen != stopAfter {
				return
			}
			go func() { stopped <- stopAPIServer(cp) }()
			// Hold this result until the server is gone (bounded, so a
			// server that does not stop fails the test instead of hanging
			// it): the requests still in flight finish or fail, and every
			// later one meets a stopped server, whatever the timing.
			select {
			case err := <-stopped:
				stopped <- err
			case <-time.After(45 * time.Second):
				t.Error("kube-apiserver did not stop within 45s")
			}
		},
	})
	if err != nil {
		t.Fatalf("apply.Run: %v", err)
	}
	select {
	case err := <-stopped:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("kube-apiserver did not stop")
	}
	t.Logf("apply with the outage took %v: %d added, %d failed", time.Since(began).Round(time.Millisecond), r.Added, r.Failed)

	// What the CLI turns into exit status 1.
	if r.Failed == 0 {
		t.Fatalf("every request succeeded although the API server stopped after %d results: %+v", stopAfter, r)
	}
	if r.Added < stopAfter || r.Added+r.Failed != in.objects() || len(r.Results) != in.objects() {
		t.Fatalf("report: %d added, %d failed, %d results; want at least %d added and %d results in all", r.Added, r.Failed, len(r.Results), stopAfter, in.objects())
	}
	reported := map[string]bool{} // succeeded
	shown := 0
	for _, res := range r.Results {
		if res.Error == "" {
			reported[res.Object] = true
			continue
		}
		if shown < 3 {
			t.Logf("failure: %s (%s): %s", res.Object, res.Source, res.Error)
			shown++
		}
		if !outageWording.MatchString(res.Error) {
			t.Errorf("unclear failure for %s: %q", res.Object, res.Error)
		}
		name := res.Object[strings.LastIndex(res.Object, "/")+1:]
		if line, ok := in.lines[name]; ok && res.Source != fmt.Sprintf("main.hcl:%d", line) {
			t.Errorf("failure for %s points at %q, want main.hcl:%d", res.Object, res.Source, line)
		}
	}

	startAPIServer(t)
	// etcd kept what was written before the outage: every success in the
	// report is in the cluster, every object missing from it was reported
	// as failed.
	live := in.live(t, cp)
	for id := range reported {
		if !live[id] {
			t.Errorf("%s was reported created but is not in the cluster", id)
		}
	}
	if len(live) < len(reported) {
		t.Fatalf("%d objects in the cluster, %d reported created", len(live), len(reported))
	}
	checkResumePlan(t, cp, in, live)
}

// TestCLIAPIServerStopsMidApply drives the real binary: `perimeter apply
// --auto-approve` while the test stops kube-apiserver as soon as a few of
// its objects exist. It must exit 1 naming the failed objects with their
// HCL file:line; after the restart `plan --detailed-exitcode` shows exactly
// the missing creates (exit 2), apply converges and plan then exits 0.
func TestCLIAPIServerStopsMidApply(t *testing.T) {
	cp := controlPlane(t)
	bin := buildCLI(t)
	kubeconfig := filepath.Join(t.TempDir(), "kubeconfig")
	if err := controlplane.WriteKubeconfig(kubeconfig, cp.Config, "outage"); err != nil {
		t.Fatal(err)
	}
	// The outage races with the CLI (see cliOutage). Should the CLI ever
	// finish every request before the server stops, that attempt proves
	// nothing: try again with a new stack, a bounded number of times.
	for attempt := 1; ; attempt++ {
		if cliOutage(t, cp, bin, kubeconfig) {
			return
		}
		if attempt == 3 {
			t.Fatal("in 3 attempts, perimeter apply always finished before kube-apiserver stopped")
		}
		t.Logf("attempt %d: perimeter apply finished before kube-apiserver stopped; again with a new stack", attempt)
	}
}

// cliOutage runs one outage against the CLI. It returns false, having
// checked the apply converged, when the CLI finished before the outage.
func cliOutage(t *testing.T, cp *controlplane.ControlPlane, bin, kubeconfig string) bool {
	// More objects than in TestAPIServerStopsMidApply: the server is
	// stopped from outside the process here.
	in := newIntent(t, cp, "outage-cli", 200)
	perimeter := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(bin, append(args, "--kubeconfig", kubeconfig, in.dir)...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var exit *exec.ExitError
		if err != nil && !errors.As(err, &exit) {
			t.Fatalf("perimeter %s: %v", strings.Join(args, " "), err)
		}
		return out.String(), cmd.ProcessState.ExitCode()
	}

	// Watch the namespace's NetworkPolicies; stop the API server at the
	// stopAfter-th creation. This races with the CLI, which applies 64 at
	// a time (16 when this was measured): kube-apiserver refuses
	// connections some 20ms after SIGTERM, by when a few dozen more
	// objects exist (measured: up to ~45 at 16), so with 202 objects many
	// are still to come; a run that finishes first is attempted again.
	const stopAfter = 5
	cs, err := kubernetes.NewForConfig(cp.Config)
	if err != nil {
		t.Fatal(err)
	}
	w, err := cs.NetworkingV1().NetworkPolicies(in.ns).Watch(context.Background(), metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error, 1)
	go func() {
		defer w.Stop()
		n := 0
		for ev := range w.ResultChan() {
			if ev.Type == watch.Added {
				if n++; n == stopAfter {
					// Close the watch first: an open watch holds up the
					// server's graceful shutdown past envtest's stop timeout.
					w.Stop()
					stopped <- stopAPIServer(cp)
					return
				}
			}
		}
		stopped <- errors.New("the watch ended before the CLI created enough objects")
	}()

	began := time.Now()
	out, code := perimeter("apply", "--auto-approve")
	took := time.Since(began)
	var stopErr error
	select {
	case stopErr = <-stopped:
	case <-time.After(60 * time.Second):
		t.Fatalf("kube-apiserver was not stopped; perimeter apply exited %d after %v:\n%s", code, took, out)
	}
	if stopErr != nil {
		t.Fatalf("stopping kube-apiserver: %v\nperimeter apply exited %d:\n%s", stopErr, code, out)
	}
	t.Logf("perimeter apply exited %d after %v", code, took.Round(time.Millisecond))
	if code == 0 {
		startAPIServer(t)
		if live := in.live(t, cp); len(live) != in.objects() ||
			!strings.Contains(out, fmt.Sprintf("Apply complete! Resources: %d added", in.objects())) {
			t.Fatalf("perimeter apply exited 0, but %d of %d objects are in the cluster:\n%s", len(live), in.objects(), out)
		}
		return false
	}
	if code != 1 {
		t.Fatalf("perimeter apply exited %d, want 1:\n%s", code, out)
	}

	// Every failed object is named with its HCL file:line and a clear reason.
	failedLine := regexp.MustCompile(`^NetworkPolicy ` + regexp.QuoteMeta(in.ns) + `/(\S+): FAILED to create \((main\.hcl:\d+)\)$`)
	failed := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		m := failedLine.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		failed["NetworkPolicy "+in.ns+"/"+m[1]] = true
		if line, ok := in.lines[m[1]]; ok && m[2] != fmt.Sprintf("main.hcl:%d", line) {
			t.Errorf("%s is attributed to %s, want main.hcl:%d", m[1], m[2], line)
		}
		if !sc.Scan() || !outageWording.MatchString(sc.Text()) {
			t.Errorf("failure of %s without a clear reason: %q", m[1], sc.Text())
		}
	}
	summary := regexp.MustCompile(`Apply failed: (\d+) request\(s\) failed\. Resources: (\d+) added`).FindStringSubmatch(out)
	if len(failed) == 0 || summary == nil || summary[1] != fmt.Sprint(len(failed)) {
		t.Fatalf("perimeter apply output does not name the failures (%d FAILED lines):\n%s", len(failed), out)
	}
	t.Logf("perimeter apply: %d failed, %s added", len(failed), summary[2])
	// The stack's lock could not be released with the API server down:
	// the run says so, with the command that releases it.
	unlock := regexp.MustCompile(`if it stays, run perimeter force-unlock ([0-9a-f]{16})`).FindStringSubmatch(out)
	if unlock == nil {
		t.Fatalf("perimeter apply does not say how to release the lock it could not release:\n%s", out)
	}

	startAPIServer(t)
	live := in.live(t, cp)
	for _, id := range in.desired(t) {
		if !live[id] && !failed[id] {
			t.Errorf("%s is not in the cluster, but perimeter apply did not report it failed", id)
		}
	}
	out, code = perimeter("plan", "--detailed-exitcode")
	missing := in.objects() - len(live)
	if want := fmt.Sprintf("Plan: %d to add, 0 to change, 0 to destroy.", missing); code != 2 || !strings.Contains(out, want) {
		t.Fatalf("plan after the restart exited %d, want 2 and %q:\n%s", code, want, out)
	}
	// The plan's creates are exactly the missing objects.
	created := regexp.MustCompile(`# NetworkPolicy ` + regexp.QuoteMeta(in.ns) + `/(\S+) will be created`)
	var gotCreates, wantCreates []string
	for _, m := range created.FindAllStringSubmatch(out, -1) {
		gotCreates = append(gotCreates, "NetworkPolicy "+in.ns+"/"+m[1])
	}
	for _, id := range in.desired(t) {
		if !live[id] {
			wantCreates = append(wantCreates, id)
		}
	}
	sort.Strings(gotCreates)
	if strings.Join(gotCreates, "\n") != strings.Join(wantCreates, "\n") {
		t.Fatalf("plan after the restart creates\n%s\nwant exactly the missing objects\n%s", strings.Join(gotCreates, "\n"), strings.Join(wantCreates, "\n"))
	}
	// The lock left behind stops the re-run until released.
	if out, code := perimeter("apply", "--auto-approve"); code != 1 || !strings.Contains(out, "force-unlock "+unlock[1]) {
		t.Fatalf("re-run while the crashed run's lock is held exited %d, want 1 naming lock %s:\n%s", code, unlock[1], out)
	}
	if out, code := perimeter("force-unlock", unlock[1]); code != 0 {
		t.Fatalf("force-unlock %s exited %d:\n%s", unlock[1], code, out)
	}
	checkResumePlanCLI(t, perimeter, missing)
	return true
}

func checkResumePlanCLI(t *testing.T, perimeter func(...string) (string, int), missing int) {
	t.Helper()
	out, code := perimeter("apply", "--auto-approve")
	if want := fmt.Sprintf("Apply complete! Resources: %d added, 0 changed, 0 destroyed.", missing); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("re-run exited %d, want 0 and %q:\n%s", code, want, out)
	}
	if out, code := perimeter("plan", "--detailed-exitcode"); code != 0 {
		t.Fatalf("plan after the re-run exited %d, want 0:\n%s", code, out)
	}
}

// The CLI is built in the background while the control plane starts.
var cli struct {
	done   chan struct{}
	bin    string
	err    error
	took   time.Duration
	cancel context.CancelFunc
}

// cliBuildPrefix names the temporary folders the CLI is built into,
// followed by the building process's id.
const cliBuildPrefix = "perimeter-outage-cli-"

// sweepCLIBuilds removes the build folders of test processes that died
// without cleaning up (a -timeout panic, SIGKILL).
func sweepCLIBuilds() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), cliBuildPrefix+"*"))
	for _, dir := range dirs {
		pidText, _, _ := strings.Cut(strings.TrimPrefix(filepath.Base(dir), cliBuildPrefix), "-")
		pid, err := strconv.Atoi(pidText)
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // still running
		}
		_ = os.RemoveAll(dir)
	}
}

// startCLIBuild starts `go build ./cmd/perimeter` into dir.
func startCLIBuild(dir string) {
	cli.done = make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	cli.cancel = cancel
	go func() {
		defer close(cli.done)
		began := time.Now()
		root, err := controlplane.RepoRoot()
		if err != nil {
			cli.err = err
			return
		}
		cli.bin = filepath.Join(dir, "perimeter")
		cmd := exec.CommandContext(ctx, "go", "build", "-tags", buildtags.Tags, "-o", cli.bin, "./cmd/perimeter")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			cli.err = fmt.Errorf("go build ./cmd/perimeter: %w\n%s", err, out)
		}
		cli.took = time.Since(began)
	}()
}

// buildCLI returns the perimeter binary built from this repository.
func buildCLI(t *testing.T) string {
	t.Helper()
	if cli.done == nil {
		t.Fatal("the perimeter binary is not being built")
	}
	waited := time.Now()
	<-cli.done
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	// Into the control plane's folder, which its reaper removes even when
	// this process dies without running TestMain's cleanup.
	if moved := filepath.Join(shared.cp.Dir(), "perimeter"); cli.bin != moved {
		if err := os.Rename(cli.bin, moved); err != nil {
			t.Fatal(err)
		}
		cli.bin = moved
	}
	t.Logf("built perimeter in %v (waited %v for it)", cli.took.Round(10*time.Millisecond), time.Since(waited).Round(10*time.Millisecond))
	return cli.bin
}
