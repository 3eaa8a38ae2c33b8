package dataplane

import (
	"bytes"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// RootState is what the sandbox must never change in the machine's own
// network namespace: its links, routes, iptables rules and ipsets, each as
// the normalised output of the command that lists it.
type RootState map[string]string

// guardCommands list the root namespace's state. Counters and timestamps
// are stripped before comparing (see normalise), so traffic of other
// programs does not count as a change.
var guardCommands = [][]string{
	{"ip", "-o", "link", "show"},
	{"ip", "-o", "-4", "addr", "show"},
	{"ip", "-4", "route", "show", "table", "all"},
	{"ip", "-6", "route", "show", "table", "all"},
	{"ip", "-4", "rule", "show"},
	{"iptables-save"},
	{"ip6tables-save"},
	{"ipset", "list", "-n"},
}

var (
	counters = regexp.MustCompile(`\[\d+:\d+\]`)
	linkDyn  = regexp.MustCompile(`\b(state|qlen|mode|group) \S+`)
)

// SnapshotRoot records the root namespace's state. Call it from a process
// in the root namespace (before starting the sandbox); a command that is
// missing (no ipset yet) records its error, which must then match too.
func SnapshotRoot() RootState {
	s := RootState{}
	for _, c := range guardCommands {
		out, err := exec.Command(c[0], c[1:]...).CombinedOutput()
		text := normalise(string(out))
		if err != nil {
			text = "error: " + err.Error()
		}
		s[strings.Join(c, " ")] = text
	}
	return s
}

// normalise drops comment lines (iptables-save stamps the time), packet
// counters and link fields that change with traffic or carrier.
func normalise(s string) string {
	var b bytes.Buffer
	for _, line := range strings.Split(s, "\n") {
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		line = counters.ReplaceAllString(line, "")
		line = linkDyn.ReplaceAllString(line, "")
		b.WriteString(line + "\n")
	}
	return b.String()
}

// Diff describes how after differs from s, or is "" when they are equal.
func (s RootState) Diff(after RootState) string {
	var b strings.Builder
	for _, c := range guardCommands {
		k := strings.Join(c, " ")
		if s[k] != after[k] {
			fmt.Fprintf(&b, "%s changed:\n--- before\n%s--- after\n%s", k, s[k], after[k])
		}
	}
	return b.String()
}
