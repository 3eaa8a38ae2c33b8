// Command overlay measures GitOps rendering at scale: an intent with N
// services (each with an egress connection, so two policies per service)
// across three environments is compiled and written as a kustomize tree,
// rendered again after one connection changed, then one overlay is built with
// kustomize (krusty). It prints the times and the peak resident memory of
// the first render.
//
//	go run ./bench/overlay -services 10000 [-files 10] [-skip-build]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"path"
	"runtime"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/perimeter-dev/perimeter/bench/overlay/benchintent"
	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

func main() {
	services := flag.Int("services", 10000, "number of services")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the render here")
	memprofile := flag.String("memprofile", "", "write a heap profile here once the tree is laid out (before writing)")
	files := flag.Int("files", 10, "spread the services over this many HCL files")
	skipBuild := flag.Bool("skip-build", false, "do not run kustomize build")
	keep := flag.String("out", "", "render into this directory and keep it (default: a temporary one)")
	writeIntent := flag.String("write-intent", "", "only write the intent's HCL files into this directory (to time the CLI on it)")
	flag.Parse()
	src := benchintent.Intent(*services, *files)
	if *writeIntent != "" {
		check(os.MkdirAll(*writeIntent, 0o755))
		for name, b := range src {
			check(os.WriteFile(path.Join(*writeIntent, name), b, 0o644))
		}
		return
	}
	out := *keep
	if out == "" {
		tmp, err := os.MkdirTemp("", "perimeter-bench-")
		check(err)
		defer os.RemoveAll(tmp)
		out = tmp
	}

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		check(pprof.StartCPUProfile(f))
	}
	start := time.Now()
	objects := render(src, out, *memprofile)
	renderTime := time.Since(start)
	pprof.StopCPUProfile()
	renderRSS := peakRSS()
	fmt.Printf("render: %v, %d objects per environment, peak RSS %d MB\n", renderTime.Round(time.Millisecond), objects, renderRSS)

	// The everyday case in a GitOps repository: one connection changes and
	// the tree is rendered again; only the files that differ are written.
	edited := bytes.Replace(src["main.hcl"], []byte("ports = [443]"), []byte("ports = [8443]"), 1)
	if bytes.Equal(edited, src["main.hcl"]) {
		check(fmt.Errorf("no connection port to edit"))
	}
	src["main.hcl"] = edited
	start = time.Now()
	render(src, out, "")
	fmt.Printf("re-render after one connection changed: %v\n", time.Since(start).Round(time.Millisecond))
	if *skipBuild {
		return
	}

	start = time.Now()
	built, err := overlay.BuildDir(out + "/overlays/prod")
	check(err)
	buildTime := time.Since(start)

	fmt.Printf("services: %d in %d files, environments: 3, objects per environment: %d, cores: %d\n", *services, max(*files, 1), objects, runtime.NumCPU())
	fmt.Printf("render (parse, compile x3, overlay, write): %v, peak RSS %d MB\n", renderTime.Round(time.Millisecond), renderRSS)
	fmt.Printf("kustomize build overlays/prod (krusty):     %v, %d objects, peak RSS %d MB\n", buildTime.Round(time.Millisecond), len(built), peakRSS())
}

// render compiles every environment and writes the tree; it returns the
// number of objects in one environment.
func render(src map[string][]byte, out, memprofile string) int {
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpuBefore := cpuTime()
	began := time.Now()
	sources, diags := hclspec.Parse(src)
	checkDiags(diags.HasErrors(), diags.Error())
	start := time.Now()
	tree, diags, err := overlay.Render(sources, hclspec.Options{})
	checkDiags(diags.HasErrors(), diags.Error())
	check(err)
	built := time.Now()
	cpu := cpuTime() - cpuBefore
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	inMemoryRSS := peakRSS()
	if memprofile != "" {
		f, err := os.Create(memprofile)
		check(err)
		check(pprof.WriteHeapProfile(f))
		check(f.Close())
		built = time.Now()
	}
	changes, err := manifest.Write(context.Background(), out, tree)
	check(err)
	fmt.Printf("  parse %v, compile x3 and lay out overlays %v, compare and write %d of %d files %v\n", start.Sub(began).Round(time.Millisecond),
		built.Sub(start).Round(time.Millisecond), len(changes.Write), len(tree), time.Since(built).Round(time.Millisecond))
	fmt.Printf("  in memory (parse, compile x3, layout, YAML) %v, CPU %v, allocated %d MB, peak RSS %d MB by then\n", built.Sub(began).Round(time.Millisecond),
		cpu.Round(time.Millisecond), (after.TotalAlloc-before.TotalAlloc)>>20, inMemoryRSS)
	return objectsIn(tree, "dev")
}

// objectsIn counts the objects an overlay builds to: the base's files and
// the overlay's own resources (not kustomizations, not patches).
func objectsIn(t manifest.Tree, env string) int {
	n := 0
	for p := range t {
		dir, file := path.Split(p)
		if file != "kustomization.yaml" && (dir == "base/" || dir == "overlays/"+env+"/") {
			n++
		}
	}
	return n
}

// cpuTime is the user and system CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func peakRSS() int64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return ru.Maxrss / 1024
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func checkDiags(failed bool, msg string) {
	if failed {
		fmt.Fprintln(os.Stderr, msg)
		os.Exit(1)
	}
}
