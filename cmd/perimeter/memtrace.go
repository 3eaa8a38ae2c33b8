package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// memTrace records, when PERIMETER_MEMTRACE=FILE is set, the process's
// memory at the end of each phase of a command: resident set (anonymous
// and file-backed, from /proc/self/status where there is one, and its
// peak so far) and the Go heap. A plan's peak RSS is the sum of what one
// phase holds, the collector's headroom and the binary's pages; this says
// which phase sets it, from the released binary, without a profiler
// (docs/benchmarks.md, "Issue 15, fourth pass").
var memTrace = newMemTracer(os.Getenv("PERIMETER_MEMTRACE"))

// memTracer writes one tab-separated line per phase. The zero value (and
// nil) records nothing.
type memTracer struct {
	mu    sync.Mutex
	out   io.WriteCloser
	start time.Time
}

// newMemTracer opens path for the trace; "" traces nothing. A path that
// cannot be created is reported once on stderr and traces nothing: the
// command itself still runs.
func newMemTracer(path string) *memTracer {
	if path == "" {
		return nil
	}
	f, err := os.Create(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "PERIMETER_MEMTRACE=%s: %v\n", path, err)
		return nil
	}
	fmt.Fprintln(f, "phase\tseconds\trss_kb\trss_anon_kb\trss_file_kb\tpeak_rss_kb\theap_mb\theap_sys_mb")
	return &memTracer{out: f, start: time.Now()}
}

// phase records the memory as phase ends. No collection is forced: the
// figures are what the command holds as it runs.
func (t *memTracer) phase(name string) {
	if t == nil {
		return
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	st := procStatus()
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.out, "%s\t%.3f\t%s\t%s\t%s\t%s\t%.1f\t%.1f\n", name, time.Since(t.start).Seconds(),
		st["VmRSS"], st["RssAnon"], st["RssFile"], st["VmHWM"], float64(ms.HeapAlloc)/1e6, float64(ms.HeapSys)/1e6)
}

// close records the "end" phase and closes the file.
func (t *memTracer) close() {
	if t == nil {
		return
	}
	t.phase("end")
	t.out.Close()
}

// procStatus reads the kB figures of /proc/self/status; each is "-"
// where the system has no such file (not Linux).
func procStatus() map[string]string {
	out := map[string]string{"VmRSS": "-", "RssAnon": "-", "RssFile": "-", "VmHWM": "-"}
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return out
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), ":")
		if _, want := out[name]; !ok || !want {
			continue
		}
		fields := strings.Fields(value)
		if len(fields) == 2 && fields[1] == "kB" {
			if _, err := strconv.ParseUint(fields[0], 10, 64); err == nil {
				out[name] = fields[0]
			}
		}
	}
	return out
}
