package cluster

import (
	"strings"
	"testing"
)

func TestNegate(t *testing.T) {
	for _, tc := range []struct{ in, want, err string }{
		{in: "applyset.kubernetes.io/part-of=applyset-abc-v1", want: "applyset.kubernetes.io/part-of!=applyset-abc-v1"},
		{in: "a==b", want: "a!=b"},
		{in: "a=b,c=d", err: "not one key=value requirement"},
		{in: "a", err: "not one key=value requirement"},
		{in: "", err: "not one key=value requirement"},
		{in: "a in (b)", err: "not one key=value requirement"},
	} {
		got, err := negate(tc.in)
		switch {
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("negate(%q) error = %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("negate(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
}
