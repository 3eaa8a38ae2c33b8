package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
	"github.com/perimeter-dev/perimeter/ownership"
)

type bench struct {
	cp                 *controlplane.ControlPlane
	audit              *audit
	perimeter, kubectl string
	baseline           string // a second perimeter binary, run before perimeter on its own stack ("" = none)
	timeline           bool   // print each perimeter command's requests in time order
	tmp, tools         string
	server             *serverProcs
	files              int    // HCL files the intent is spread over
	profiles           string // folder for perimeter's CPU and heap profiles ("" = none)
	repeat             int    // times each read-only operation (a plan) runs per round
}

// op is one operation, as each tool does it.
type op struct {
	name string
	// perimeter and kubectl give the arguments (after the binary) and the
	// exit code that means success.
	perimeter func(s *stackFiles) ([]string, int)
	kubectl   func(s *stackFiles) ([]string, int)
	readOnly  bool // changes nothing: may run several times in a round (-repeat)
}

// ops are the operations of a round, in order: each leaves the state the
// next one starts from.
var ops = []op{
	{"first apply",
		func(s *stackFiles) ([]string, int) { return []string{"apply", s.v1, "--auto-approve"}, 0 },
		func(s *stackFiles) ([]string, int) {
			return []string{"apply", "--server-side", "--field-manager", "kubectl-bench", "-f", s.v1yaml}, 0
		}, false},
	{"no-op plan",
		func(s *stackFiles) ([]string, int) { return []string{"plan", s.v1, "--detailed-exitcode"}, 0 },
		func(s *stackFiles) ([]string, int) {
			return []string{"diff", "--server-side", "--field-manager", "kubectl-bench", "-f", s.v1yaml}, 0
		}, true},
	{"1% plan",
		func(s *stackFiles) ([]string, int) { return []string{"plan", s.v2, "--detailed-exitcode"}, 2 },
		func(s *stackFiles) ([]string, int) {
			return []string{"diff", "--server-side", "--field-manager", "kubectl-bench", "-f", s.v2yaml}, 1
		}, true},
	{"1% apply",
		func(s *stackFiles) ([]string, int) { return []string{"apply", s.v2, "--auto-approve"}, 0 },
		func(s *stackFiles) ([]string, int) {
			return []string{"apply", "--server-side", "--field-manager", "kubectl-bench", "-f", s.v2yaml}, 0
		}, false},
	{"destroy",
		func(s *stackFiles) ([]string, int) { return []string{"destroy", s.v2, "--auto-approve"}, 0 },
		func(s *stackFiles) ([]string, int) { return []string{"delete", "--wait=false", "-f", s.v2yaml}, 0 }, false},
}

// sample is one command's measurements.
type sample struct {
	wall, cpu   time.Duration
	serverCPU   time.Duration // kube-apiserver and etcd
	rssKB       int64
	requests    counts
	connections int64
}

// results are the samples by operation and tool.
type results map[string]map[string][]sample

func (b *bench) namespaces(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(b.cp.Config)
	if err != nil {
		return err
	}
	for _, name := range []string{perimeterNS, kubectlNS, baselineNS} {
		_, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return err
		}
	}
	return nil
}

// measure runs the rounds for one stack size and delay.
func (b *bench) measure(ctx context.Context, n int, delay time.Duration, rounds int) (results, error) {
	dir := filepath.Join(b.tmp, fmt.Sprintf("n%d-d%v", n, delay))
	s, err := writeStack(dir, b.perimeter, n, b.files)
	if err != nil {
		return nil, err
	}
	u, err := url.Parse(b.cp.Config.Host)
	if err != nil {
		return nil, err
	}
	px, err := startProxy(u.Host, delay)
	if err != nil {
		return nil, err
	}
	defer px.Close()
	cfg := rest.CopyConfig(b.cp.Config)
	cfg.Host = "https://" + px.Addr()
	kubeconfig := filepath.Join(dir, "kubeconfig")
	if err := controlplane.WriteKubeconfig(kubeconfig, cfg, "bench"); err != nil {
		return nil, err
	}
	res := results{}
	for r := 0; r < rounds; r++ {
		if err := b.cleanup(ctx); err != nil {
			return nil, err
		}
		for _, o := range ops {
			times := 1
			if o.readOnly {
				times = b.repeat
			}
			for rep := 0; rep < times; rep++ {
				for _, tool := range strings.Split(b.tools, ",") {
					bin, argsOf := b.perimeter, o.perimeter
					switch tool {
					case "kubectl":
						bin, argsOf = b.kubectl, o.kubectl
					case "baseline":
						bin = b.baseline
					}
					args, want := argsOf(s.forTool(tool))
					var env []string
					if b.profiles != "" && tool != "kubectl" {
						name := filepath.Join(b.profiles, fmt.Sprintf("n%d-d%v-r%d-%s-%s", n, delay, r+1, strings.NewReplacer(" ", "-", "%", "pct").Replace(o.name), tool))
						if times > 1 {
							name += fmt.Sprintf("-%d", rep+1)
						}
						env = []string{"PERIMETER_CPUPROFILE=" + name + ".cpu", "PERIMETER_MEMPROFILE=" + name + ".mem", "GODEBUG=gctrace=1", "BENCH_OUTPUT=" + name + ".out"}
					}
					smp, err := b.one(bin, append(args, "--kubeconfig", kubeconfig), want, px, env, b.timeline && tool != "kubectl")
					if err != nil {
						return nil, fmt.Errorf("N=%d delay %v round %d, %s, %s: %v", n, delay, r+1, o.name, tool, err)
					}
					if res[o.name] == nil {
						res[o.name] = map[string][]sample{}
					}
					res[o.name][tool] = append(res[o.name][tool], smp)
					fmt.Fprintf(os.Stderr, "N=%d delay=%v round %d %-11s %-9s %8v cpu %7v server %7v %4d MB  %s\n", n, delay, r+1, o.name, tool,
						smp.wall.Round(time.Millisecond), smp.cpu.Round(time.Millisecond), smp.serverCPU.Round(10*time.Millisecond), smp.rssKB/1024, smp.requests)
				}
			}
		}
	}
	return res, nil
}

// one runs a command and measures it; the exit code must be want.
func (b *bench) one(bin string, args []string, want int, px *proxy, env []string, timeline bool) (sample, error) {
	if err := b.audit.mark(); err != nil {
		return sample{}, err
	}
	conns := px.connections.Load()
	serverBefore := b.server.cpu()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(append(os.Environ(), "NO_COLOR=1", "KUBECTL_EXTERNAL_DIFF=diff -u -N"), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	serverCPU := b.server.cpu() - serverBefore
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		return sample{}, err
	}
	for _, e := range env {
		if path, ok := strings.CutPrefix(e, "BENCH_OUTPUT="); ok {
			// the command's output, with the collector's trace (heap sizes)
			if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
				return sample{}, err
			}
		}
	}
	if code != want {
		tail := out.String()
		if len(tail) > 3000 {
			tail = "..." + tail[len(tail)-3000:]
		}
		return sample{}, fmt.Errorf("%s %s: exit code %d, want %d\n%s", filepath.Base(bin), strings.Join(args, " "), code, want, tail)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	// client-go names the binary in its user agent
	reqs, err := b.audit.since(filepath.Base(bin) + "/")
	if err != nil {
		return sample{}, err
	}
	if timeline {
		all, err := b.audit.requestsSince(filepath.Base(bin)+"/", start)
		if err != nil {
			return sample{}, err
		}
		fmt.Fprintf(os.Stderr, "%s %s\n", filepath.Base(bin), strings.Join(args[:1], " "))
		printTimeline(os.Stderr, all, wall)
	}
	return sample{wall: wall, cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), rssKB: ru.Maxrss,
		requests: reqs, connections: px.connections.Load() - conns, serverCPU: serverCPU}, nil
}

// cleanup empties both namespaces with one collection delete per
// namespace and kind, and removes perimeter's ApplySet parent, should an
// earlier round have stopped half-way.
func (b *bench) cleanup(ctx context.Context) error {
	cs, err := kubernetes.NewForConfig(b.cp.Config)
	if err != nil {
		return err
	}
	for _, ns := range []string{perimeterNS, kubectlNS, baselineNS} {
		if err := cs.NetworkingV1().NetworkPolicies(ns).DeleteCollection(ctx, metav1.DeleteOptions{}, metav1.ListOptions{}); err != nil {
			return err
		}
	}
	for _, tool := range []string{"perimeter", "baseline"} {
		stack, ns := stackOf(tool)
		err = cs.CoreV1().ConfigMaps(ns).Delete(ctx, ownership.ParentName(stack), metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) {
			return err
		}
	}
	return nil
}
