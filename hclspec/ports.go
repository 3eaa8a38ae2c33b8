package hclspec

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var (
	numericPort = regexp.MustCompile(`^([0-9]+)(?:-([0-9]+))?$`)
	namedPort   = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`)
)

// ParsePort parses "443", "443/tcp", "8000-8100/udp", "53/UDP", "metrics/tcp"
// or a bare protocol ("udp", meaning every UDP port). The protocol defaults to
// TCP. Named ports follow the IANA service name rules NetworkPolicy uses.
func ParsePort(spec string) (PortSpec, error) {
	s := strings.TrimSpace(spec)
	p := PortSpec{Protocol: "TCP"}
	if i := strings.LastIndex(s, "/"); i >= 0 {
		proto, err := parseProtocol(s[i+1:])
		if err != nil {
			return p, fmt.Errorf("port %q: %v", spec, err)
		}
		p.Protocol, s = proto, s[:i]
	} else if proto, err := parseProtocol(s); err == nil {
		p.Protocol = proto
		return p, nil
	}
	if m := numericPort.FindStringSubmatch(s); m != nil {
		return parseRange(spec, p, m[1], m[2])
	}
	if len(s) <= 15 && namedPort.MatchString(s) && strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") && !strings.Contains(s, "--") {
		p.Name = s
		return p, nil
	}
	return p, fmt.Errorf("port %q is not a port number (1-65535), a range like 8000-8100, or a named port, optionally followed by /tcp, /udp or /sctp", spec)
}

func parseRange(spec string, p PortSpec, from, to string) (PortSpec, error) {
	start, err := portNumber(from)
	if err != nil {
		return p, fmt.Errorf("port %q: %v", spec, err)
	}
	p.Port = start
	if to == "" {
		return p, nil
	}
	end, err := portNumber(to)
	if err != nil {
		return p, fmt.Errorf("port %q: %v", spec, err)
	}
	if end < start {
		return p, fmt.Errorf("port range %q ends before it starts", spec)
	}
	if end > start {
		p.EndPort = end
	}
	return p, nil
}

func portNumber(s string) (int32, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 {
		return 0, fmt.Errorf("%s is not a port number (1-65535)", s)
	}
	return int32(n), nil
}

func parseProtocol(s string) (string, error) {
	switch strings.ToUpper(s) {
	case "TCP", "UDP", "SCTP":
		return strings.ToUpper(s), nil
	}
	return "", fmt.Errorf("protocol %q is not tcp, udp or sctp", s)
}

// String renders the port spec canonically, e.g. "8000-8100/UDP".
func (p PortSpec) String() string {
	switch {
	case p.Name != "":
		return p.Name + "/" + p.Protocol
	case p.Port == 0:
		return "all/" + p.Protocol
	case p.EndPort != 0:
		return fmt.Sprintf("%d-%d/%s", p.Port, p.EndPort, p.Protocol)
	}
	return fmt.Sprintf("%d/%s", p.Port, p.Protocol)
}
