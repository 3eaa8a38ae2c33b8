// Command hostile times the perimeter binary on the hostile inputs of issue
// 13 and their kin (internal/hostile): for each, the exit status, the
// median wall time of -runs runs and the peak resident memory, as a
// Markdown table for docs/safety.md.
//
//	go build -o bin/perimeter ./cmd/perimeter
//	go run ./bench/hostile -perimeter bin/perimeter [-runs 5] [-run REGEXP]
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"syscall"
	"time"

	"github.com/perimeter-dev/perimeter/internal/hostile"
)

func main() {
	bin := flag.String("perimeter", "bin/perimeter", "the perimeter binary to time")
	runs := flag.Int("runs", 5, "runs per case; the median time is shown")
	only := flag.String("run", "", "only the cases whose name matches this regular expression")
	timeout := flag.Duration("timeout", time.Minute, "kill a run after this long (a binary without the bounds takes minutes)")
	flag.Parse()
	filter := regexp.MustCompile(*only)
	fmt.Printf("%d cores, %s/%s, %d runs per case\n\n", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, *runs)
	fmt.Println("| input | command | exit | median time | median CPU | peak RSS | diagnostic |")
	fmt.Println("|---|---|---|---|---|---|---|")
	failed := false
	for _, c := range hostile.Cases() {
		if !filter.MatchString(c.Name) {
			continue
		}
		dir, err := os.MkdirTemp("", "perimeter-hostile-")
		check(err)
		args, err := c.Write(dir)
		check(err)
		// The child's peak RSS counts what it shares with this process
		// before exec: give the generated inputs back first.
		debug.FreeOSMemory()
		var times, cpu []time.Duration
		var rss int64
		code := 0
		var stderr bytes.Buffer
		for range *runs {
			stderr.Reset()
			ctx, cancel := context.WithTimeout(context.Background(), *timeout)
			cmd := exec.CommandContext(ctx, *bin, args...)
			cmd.Env = append(os.Environ(), "NO_COLOR=1")
			cmd.Stderr = &stderr
			start := time.Now()
			err := cmd.Run()
			times = append(times, time.Since(start))
			killed := ctx.Err() == context.DeadlineExceeded
			cancel()
			code = cmd.ProcessState.ExitCode()
			if killed {
				stderr.Reset()
				fmt.Fprintf(&stderr, "(killed after %v)", *timeout)
			} else if err != nil && code < 0 {
				check(err)
			}
			if u, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				rss = max(rss, u.Maxrss)
			}
			cpu = append(cpu, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
		os.RemoveAll(dir)
		slices.Sort(times)
		slices.Sort(cpu)
		ok := code == 1 && regexp.MustCompile(c.Want).Match(stderr.Bytes())
		failed = failed || !ok
		first, _, _ := bytes.Cut(bytes.TrimSpace(stderr.Bytes()), []byte("\n"))
		if len(first) > 60 {
			first = append(first[:60:60], "…"...)
		}
		verdict := ""
		if !ok {
			verdict = " **(unexpected)**"
		}
		fmt.Printf("| %s | %s | %d%s | %v | %v | %d MB | %s |\n", c.Name, args[0], code, verdict,
			times[len(times)/2].Round(time.Millisecond), cpu[len(cpu)/2].Round(time.Millisecond), rss/1024, first)
	}
	if failed {
		os.Exit(1)
	}
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}
