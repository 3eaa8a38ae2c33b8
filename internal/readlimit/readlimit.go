// Package readlimit reads input files with a size bound, so that a huge or
// endless file (a 50 MB blob, /dev/zero behind a symlink) ends in a clear
// error instead of exhausting memory.
package readlimit

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// TooLargeError says a file is larger than the limit.
type TooLargeError struct {
	Path  string
	Size  int64 // the size on disk, or -1 when only "more than Limit" is known
	Limit int64
}

func (e *TooLargeError) Error() string {
	if e.Size < 0 {
		return fmt.Sprintf("%s is larger than %s, the limit for one input file", e.Path, Bytes(e.Limit))
	}
	return fmt.Sprintf("%s is %s, more than %s, the limit for one input file", e.Path, Bytes(e.Size), Bytes(e.Limit))
}

// ReadFile reads the file at path if it holds at most limit bytes (limit
// <= 0: no limit). It never reads more than limit+1 bytes, even from a file
// that grows while it is read or a device or pipe that never ends.
func ReadFile(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Mode().IsRegular() && limit > 0 && st.Size() > limit {
		return nil, &TooLargeError{Path: path, Size: st.Size(), Limit: limit}
	}
	return Read(f, path, limit, st.Size())
}

// Read reads r to the end if it holds at most limit bytes (limit <= 0: no
// limit); sizeHint, when positive, sizes the buffer. name is used in the
// error.
func Read(r io.Reader, name string, limit, sizeHint int64) ([]byte, error) {
	if limit <= 0 {
		return io.ReadAll(r)
	}
	buf := make([]byte, 0, min(max(sizeHint, 512), limit)+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if int64(len(buf)) > limit {
			return nil, &TooLargeError{Path: name, Size: -1, Limit: limit}
		}
		if errors.Is(err, io.EOF) {
			return buf, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// Bytes formats a byte count for people: "4 MiB", "1.5 KiB", "512 bytes".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	s := strings.TrimSuffix(strconv.FormatFloat(float64(n)/float64(div), 'f', 1, 64), ".0")
	return s + " " + []string{"KiB", "MiB", "GiB", "TiB", "PiB"}[exp]
}

// ParseBytes reads a size such as "4194304", "4MiB", "4M", "512KiB", "10MB"
// or "1GiB". K, M, G and the IEC suffixes are powers of 1024; KB, MB and GB
// are powers of 1000.
func ParseBytes(s string) (int64, error) {
	num, unit := s, ""
	for i, r := range s {
		if (r < '0' || r > '9') && r != '.' {
			num, unit = s[:i], s[i:]
			break
		}
	}
	mult := map[string]float64{
		"": 1, "B": 1,
		"K": 1 << 10, "KI": 1 << 10, "KIB": 1 << 10, "KB": 1e3,
		"M": 1 << 20, "MI": 1 << 20, "MIB": 1 << 20, "MB": 1e6,
		"G": 1 << 30, "GI": 1 << 30, "GIB": 1 << 30, "GB": 1e9,
	}[strings.ToUpper(strings.TrimSpace(unit))]
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || mult == 0 || v <= 0 || v*mult > 1<<50 {
		return 0, fmt.Errorf("%q is not a size (examples: 4194304, 4MiB, 512KiB, 10MB)", s)
	}
	return int64(v * mult), nil
}
