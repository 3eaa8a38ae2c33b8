package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// examples/platform/README.md shows check, explain and matrix output: it
// must be what perimeter prints today.
func TestPlatformREADMEOutput(t *testing.T) {
	readme, err := os.ReadFile("../../examples/platform/README.md")
	if err != nil {
		t.Fatal(err)
	}
	dir := "../../examples/platform"
	for _, args := range [][]string{
		{"check", dir},
		{"explain", dir, "--from", "service.users", "--to", `cidr("169.254.169.254/32")`, "--port", "80/tcp"},
		{"explain", dir, "--from", "service.users", "--to", `fqdn("api.stripe.com")`, "--port", "443/tcp"},
		{"explain", dir, "--from", "service.reports", "--to", `cidr("8.8.8.8/32")`, "--port", "443/tcp"},
		{"explain", dir, "--from", "service.orders", "--to", "service.users"},
		{"matrix", dir},
	} {
		var out, errb bytes.Buffer
		t.Setenv("NO_COLOR", "1")
		if code := run(args, &out, &errb); code != 0 {
			t.Fatalf("perimeter %s: exit %d\n%s", strings.Join(args, " "), code, errb.String())
		}
		if !bytes.Contains(readme, out.Bytes()) {
			t.Errorf("examples/platform/README.md does not show the output of perimeter %s:\n%s", strings.Join(args, " "), out.String())
		}
	}
}
