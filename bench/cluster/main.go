// Command cluster measures perimeter against kubectl on a real local
// control plane (etcd + kube-apiserver, as the tests use), on the same
// objects, through a TCP proxy that can add round-trip time:
//
//	go run ./bench/cluster -n 1000 -rounds 3 -delay 0,10ms
//
// For each N and each one-way delay it starts from an empty namespace per
// tool and runs, per round, each operation with perimeter then kubectl
// (A B A B): first apply, no-op plan (kubectl diff --server-side), 1% plan,
// 1% apply, destroy (kubectl delete --wait=false: perimeter does not wait
// for deletions to finish either). It reports per operation the wall
// time (min and median), the CPU time and peak RSS of the command's
// process, the API requests it made (from the API server's audit log, by
// verb) and the TCP connections it opened, and the ratio perimeter ÷
// kubectl. The machine's core count is printed with the table.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/perimeter-dev/perimeter/internal/buildtags"
	"github.com/perimeter-dev/perimeter/internal/controlplane"
)

func main() {
	ns := flag.String("n", "1000", "stack sizes (objects), comma-separated")
	rounds := flag.Int("rounds", 3, "rounds per stack size and delay (each runs every operation with both tools)")
	delays := flag.String("delay", "0,10ms", "one-way delays the proxy adds, comma-separated (10ms = 20 ms more per round trip)")
	perimeterBin := flag.String("perimeter", "", "perimeter binary to measure (default: built from this tree)")
	baseline := flag.String("baseline", "", "a second perimeter binary (say, built from main) to run before perimeter in every round, on its own stack, as tool \"baseline\"")
	timeline := flag.Bool("timeline", false, "print each perimeter command's requests in the order the server received them, with times from the command's start")
	only := flag.String("tools", "perimeter,kubectl", "which tools to run")
	files := flag.Int("files", 10, "spread the intent over this many HCL files")
	repeat := flag.Int("repeat", 1, "run each plan (no-op and 1%, which change nothing) this many times per round, the tools alternating, for steadier figures on a busy machine")
	profiles := flag.String("profiles", "", "write perimeter's CPU and heap profiles, and its output with the garbage collector's trace, of every command into this folder")
	writeIntent := flag.String("write-intent", "", "only write the intent of a stack of the first -n size (stack bench, namespace pbench, unchanged) into this folder, for measuring single commands against a control plane of your own (docs/benchmarks.md)")
	shape := flag.String("shape", "bench", "with -write-intent: the benchmark's stack (bench), or -n services without a default deny (no-deny), over -n/20 namespaces (namespaces), each behind a route of one gateway (routes), or each allowed out to a domain name through cluster policies (fqdn)")
	proxyFor := flag.String("proxy-for", "", "only run the delaying proxy (the first -delay) in front of this kubeconfig's API server, writing a kubeconfig that goes through it to -proxy-kubeconfig, until interrupted")
	proxyKubeconfig := flag.String("proxy-kubeconfig", "", "with -proxy-for: where to write the kubeconfig that goes through the proxy")
	flag.Parse()
	if *proxyFor != "" {
		if err := serveProxy(*proxyFor, *proxyKubeconfig, *delays); err != nil {
			fmt.Fprintln(os.Stderr, "bench/cluster:", err)
			os.Exit(1)
		}
		return
	}
	if *writeIntent == "" && *shape != "bench" {
		fmt.Fprintln(os.Stderr, "bench/cluster: -shape only chooses what -write-intent writes; the benchmark itself runs its own stack")
		os.Exit(2)
	}
	if *writeIntent != "" && *shape != "bench" {
		n, err := strconv.Atoi(strings.TrimSpace(strings.Split(*ns, ",")[0]))
		if err == nil {
			err = writeShape(*writeIntent, *shape, n)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench/cluster:", err)
			os.Exit(1)
		}
		return
	}
	if *writeIntent != "" {
		if err := writeIntentOnly(*writeIntent, *ns, *files); err != nil {
			fmt.Fprintln(os.Stderr, "bench/cluster:", err)
			os.Exit(1)
		}
		return
	}
	if *baseline != "" && !strings.Contains(*only, "baseline") {
		*only = "baseline," + *only
	}
	if err := run(*ns, *delays, *perimeterBin, *only, *profiles, *rounds, *files, extra{baseline: *baseline, timeline: *timeline, repeat: *repeat}); err != nil {
		fmt.Fprintln(os.Stderr, "bench/cluster:", err)
		os.Exit(1)
	}
}

// extra are the options for comparing builds and seeing a command's requests.
type extra struct {
	baseline string
	timeline bool
	repeat   int
}

func run(sizes, delays, perimeterBin, tools, profiles string, rounds, files int, x extra) error {
	ctx := context.Background()
	tmp, err := os.MkdirTemp("", "perimeter-bench-cluster-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if perimeterBin == "" {
		perimeterBin = filepath.Join(tmp, "perimeter")
		build := exec.Command("go", "build", "-tags", buildtags.Tags, "-o", perimeterBin, "./cmd/perimeter")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("building perimeter: %v", err)
		}
	}
	binDir, err := controlplane.BinaryDir(ctx, false, os.Stderr)
	if err != nil {
		return err
	}
	flags, aud, err := auditFlags(tmp)
	if err != nil {
		return err
	}
	cp, err := controlplane.Start(ctx, controlplane.Options{BinaryDir: binDir, APIServerFlags: flags})
	if err != nil {
		return err
	}
	defer cp.Stop()
	stopOnSignal(cp)
	server, err := findServer(cp.Dir())
	if err != nil {
		return err
	}
	b := &bench{cp: cp, audit: aud, perimeter: perimeterBin, kubectl: filepath.Join(binDir, "kubectl"), tmp: tmp, tools: tools, server: server, profiles: profiles, files: files,
		baseline: x.baseline, timeline: x.timeline, repeat: max(x.repeat, 1)}
	if err := b.namespaces(ctx); err != nil {
		return err
	}
	if err := b.warmUp(ctx); err != nil {
		return err
	}
	fmt.Printf("cores: %d, %s, perimeter %s, kubectl %s\n", runtime.NumCPU(), time.Now().UTC().Format("2006-01-02 15:04 MST"), perimeterBin, b.kubectl)
	if x.baseline != "" {
		fmt.Printf("baseline %s\n", x.baseline)
	}
	for _, d := range strings.Split(delays, ",") {
		delay, err := time.ParseDuration(strings.TrimSpace(d))
		if err != nil {
			return fmt.Errorf("-delay %q: %v", d, err)
		}
		for _, s := range strings.Split(sizes, ",") {
			var n int
			if _, err := fmt.Sscan(strings.TrimSpace(s), &n); err != nil || n < 3 {
				return fmt.Errorf("-n %q: want a number of objects, at least 3", s)
			}
			res, err := b.measure(ctx, n, delay, rounds)
			if err != nil {
				return err
			}
			printTable(os.Stdout, n, delay, rounds, res)
		}
	}
	return nil
}

// stopOnSignal stops the control plane on Ctrl-C (its reaper covers a
// crash).
func stopOnSignal(cp *controlplane.ControlPlane) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sigs
		_ = cp.Stop()
		os.Exit(130)
	}()
}
