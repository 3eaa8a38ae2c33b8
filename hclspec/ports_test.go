package hclspec

import (
	"strings"
	"testing"
)

func TestParsePort(t *testing.T) {
	for _, tc := range []struct {
		in, want, err string
	}{
		{"443", "443/TCP", ""},
		{"443/tcp", "443/TCP", ""},
		{"53/UDP", "53/UDP", ""},
		{"8000-8100/udp", "8000-8100/UDP", ""},
		{"9000-9000", "9000/TCP", ""},
		{"metrics", "metrics/TCP", ""},
		{"sctp", "all/SCTP", ""},
		{"0", "", "not a port number"},
		{"70000/tcp", "", "not a port number"},
		{"9000-8000", "", "ends before it starts"},
		{"443/icmp", "", "not tcp, udp or sctp"},
		{"a-very-long-port-name", "", "named port"},
		{"1-2-3", "", "named port"},
		{"", "", "named port"},
	} {
		p, err := ParsePort(tc.in)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("ParsePort(%q): %v", tc.in, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("ParsePort(%q) error = %v, want %q", tc.in, err, tc.err)
		case tc.err == "" && p.String() != tc.want:
			t.Errorf("ParsePort(%q) = %s, want %s", tc.in, p, tc.want)
		}
	}
}
