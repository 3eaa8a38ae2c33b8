package hclspec

import (
	"fmt"
	"regexp"
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// The checks here mirror what the API server and the Gateway API CRDs would
// reject, so users hear about it at file:line:col instead of at apply time.

// validateDNSLabel checks a namespace or label-like name (RFC 1123 label).
func validateDNSLabel(s string) string {
	if errs := validation.IsDNS1123Label(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// validateObjectName checks a Kubernetes object name (RFC 1123 subdomain).
func validateObjectName(s string) string {
	if errs := validation.IsDNS1123Subdomain(s); len(errs) > 0 {
		return strings.Join(errs, "; ")
	}
	return ""
}

// validateLabel checks one key/value pair of a label selector.
func validateLabel(key, value string) string {
	if errs := validation.IsQualifiedName(key); len(errs) > 0 {
		return fmt.Sprintf("label key %q: %s", key, strings.Join(errs, "; "))
	}
	if errs := validation.IsValidLabelValue(value); len(errs) > 0 {
		return fmt.Sprintf("label value %q for %q: %s", value, key, strings.Join(errs, "; "))
	}
	return ""
}

// gatewayHostname is the Gateway API Hostname pattern (precise hostname or
// a single leading wildcard label); IPs and ports are not hostnames.
var gatewayHostname = regexp.MustCompile(`^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

// validateHostname checks a route or listener hostname as Gateway API does.
func validateHostname(h string) string {
	switch {
	case h == "":
		return "a hostname must not be empty"
	case len(h) > 253:
		return "a hostname must be at most 253 characters"
	case strings.Contains(h, ":"):
		return "a hostname must not contain a port or be an IPv6 address"
	case !gatewayHostname.MatchString(h):
		return "a hostname must be lower-case letters, digits, '-' and '.', optionally starting with '*.' (e.g. api.example.com or *.example.com)"
	}
	if ipLike.MatchString(h) {
		return "a hostname must not be an IP address"
	}
	return ""
}

var ipLike = regexp.MustCompile(`^[0-9]+(\.[0-9]+){3}$`)

// pathChars is the character set Gateway API allows in Exact and PathPrefix
// path values.
var pathChars = regexp.MustCompile(`^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$`)

// validatePath checks an Exact or PathPrefix path value as the HTTPRoute CRD's
// validation rules do.
func validatePath(p string) string {
	switch {
	case !strings.HasPrefix(p, "/"):
		return "a path must be absolute and start with '/'"
	case len(p) > 1024:
		return "a path must be at most 1024 characters"
	case strings.Contains(p, "//"), strings.Contains(p, "/./"), strings.Contains(p, "/../"),
		strings.HasSuffix(p, "/."), strings.HasSuffix(p, "/.."):
		return "a path must not contain '//', '/./' or '/../', or end with '/.' or '/..'"
	case strings.Contains(p, "%2f"), strings.Contains(p, "%2F"), strings.Contains(p, "#"):
		return "a path must not contain an encoded slash ('%2F') or '#'"
	case !pathChars.MatchString(p):
		return "a path may only contain the characters [-A-Za-z0-9/._~!$&'()*+,;=:@] and %-escapes"
	}
	return ""
}

// headerName is the Gateway API HTTP header name pattern.
var headerName = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$`)

// duration is the Gateway API Duration format (GEP-2257).
var duration = regexp.MustCompile(`^([0-9]{1,5}(h|m|s|ms)){1,4}$`)

// gRPC names as the GRPCRoute CRD accepts them.
var (
	grpcServiceName = regexp.MustCompile(`^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$`)
	grpcMethodName  = regexp.MustCompile(`^[A-Za-z_][A-Za-z_0-9]*$`)
)
