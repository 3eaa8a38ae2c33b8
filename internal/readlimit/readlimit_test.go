package readlimit

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "f")
	if err := os.WriteFile(p, []byte(strings.Repeat("x", 100)), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := ReadFile(p, 100); err != nil || len(b) != 100 {
		t.Errorf("at the limit: %d bytes, %v", len(b), err)
	}
	var tooLarge *TooLargeError
	if _, err := ReadFile(p, 99); !errors.As(err, &tooLarge) || tooLarge.Size != 100 || err.Error() != p+" is 100 bytes, more than 99 bytes, the limit for one input file" {
		t.Errorf("over the limit: %v", err)
	}
	// a device that never ends is read up to the limit, no further
	if _, err := ReadFile("/dev/zero", 1<<20); !errors.As(err, &tooLarge) || tooLarge.Size != -1 {
		t.Errorf("/dev/zero: %v", err)
	}
	if _, err := ReadFile(dir, 10); err == nil {
		t.Error("a directory was read")
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{
		"4194304": 4 << 20, "4MiB": 4 << 20, "4M": 4 << 20, "4 MiB": 4 << 20, "512KiB": 512 << 10, "1.5GiB": 3 << 29,
		"10MB": 10_000_000, "1kb": 1000, "64k": 64 << 10,
	} {
		if got, err := ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "0", "-1", "lots", "4 parsecs", "1.2.3M", "1e30"} {
		if n, err := ParseBytes(bad); err == nil {
			t.Errorf("ParseBytes(%q) = %d, want an error", bad, n)
		}
	}
	for n, want := range map[int64]string{512: "512 bytes", 1024: "1 KiB", 2029: "2 KiB", 1536: "1.5 KiB", 4 << 20: "4 MiB", 50 << 20: "50 MiB", 3 << 29: "1.5 GiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
