package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

func TestMemTraceWritesAPhasePerLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.tsv")
	tr := newMemTracer(path)
	tr.phase("compiled")
	tr.close()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("want a header and two phases, got:\n%s", b)
	}
	header := strings.Split(lines[0], "\t")
	for i, want := range []string{"compiled", "end"} {
		fields := strings.Split(lines[i+1], "\t")
		if len(fields) != len(header) || fields[0] != want {
			t.Fatalf("line %d = %q, want phase %s with the header's %d columns", i+2, lines[i+1], want, len(header))
		}
		if heap, err := strconv.ParseFloat(fields[6], 64); err != nil || heap <= 0 {
			t.Errorf("heap_mb = %q, want a positive number", fields[6])
		}
		if runtime.GOOS != "linux" {
			continue
		}
		rss, err1 := strconv.Atoi(fields[2])
		anon, err2 := strconv.Atoi(fields[3])
		file, err3 := strconv.Atoi(fields[4])
		peak, err4 := strconv.Atoi(fields[5])
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil || rss <= 0 || anon+file > rss+64 || peak < rss {
			t.Errorf("rss, anon, file, peak = %s, %s, %s, %s: want kB figures with anon+file = rss <= peak", fields[2], fields[3], fields[4], fields[5])
		}
	}
}

func TestMemTraceOff(t *testing.T) {
	var tr *memTracer = newMemTracer("")
	if tr != nil {
		t.Fatal("an empty PERIMETER_MEMTRACE traces")
	}
	tr.phase("compiled") // a nil tracer records nothing and does not panic
	tr.close()
	if newMemTracer(filepath.Join(t.TempDir(), "missing", "trace.tsv")) != nil {
		t.Error("a path that cannot be created gives a tracer")
	}
}
