package importer

import (
	"regexp"
	"strings"

	netv1 "k8s.io/api/networking/v1"
)

// regexChars mark a path as a regular expression when use-regex is set.
const regexChars = "^$()[]*+?|{}\\"

// plainPath turns the capture idiom into a prefix, regular-expression paths
// into regex matches, and reports the paths that cannot be imported; it
// returns false when the path is not imported.
func (m *model) plainPath(in *netv1.Ingress, r *rule, set ingressSettings) bool {
	if c := capturePath.FindStringSubmatch(r.path); c != nil && set.captured {
		r.path, r.pathType = c[1], ""
		if r.path == "" {
			r.path = "/"
		}
		return true
	}
	regex := annotationTrue(in.Annotations, "use-regex") || set.captured
	isRegex := regex && (strings.ContainsAny(r.path, regexChars) || !validPath.MatchString(r.path))
	// a rewrite that uses captures, or one the import dropped, cannot follow
	// a regex match: the backend would get paths it never saw
	rewriteLost := set.captured || (in.Annotations[nginx+"rewrite-target"] != "" && set.rewrite == "")
	switch {
	case isRegex && rewriteLost:
		m.note(ref(in), "path "+r.path, Dropped, "a regular-expression path whose rewrite-target cannot be translated (Gateway API rewrites replace a prefix or the full path, without captures); write the rule by hand.")
		return false
	case isRegex:
		return m.regexPath(in, r)
	case !validPath.MatchString(r.path):
		m.note(ref(in), "path "+r.path, Dropped, "not a path Gateway API accepts, and not a regular expression (use-regex is not set); write the rule by hand.")
		return false
	}
	if set.captured {
		m.note(ref(in), "path "+r.path, Warning, "not of the form /prefix(/|$)(.*): imported as a prefix without the rewrite.")
	}
	return true
}

// regexPath translates an ingress-nginx regular-expression path. ingress-nginx
// writes it as `location ~* "^PATH"`: case-insensitive, anchored at the
// start of the path only. Envoy Gateway and Istio match a RegularExpression
// (RE2) against the whole path, so the import writes (?i)PATH.* to keep
// the meaning; PCRE-only syntax is reported.
func (m *model) regexPath(in *netv1.Ingress, r *rule) bool {
	value := "(?i)" + strings.TrimPrefix(r.path, "^")
	if !strings.HasSuffix(value, "$") || strings.HasSuffix(value, `\$`) {
		value += ".*"
	}
	if _, err := regexp.Compile(value); err != nil || len(value) > 1024 {
		m.note(ref(in), "path "+r.path, Dropped, "ingress-nginx matches it with PCRE; it is not an RE2 regular expression, the dialect of Envoy Gateway and Istio, so it is not imported: write the rule by hand.")
		return false
	}
	m.note(ref(in), "path "+r.path, Warning, "path_type = \"regex\", path %q: RegularExpression matches have implementation-specific support in Gateway API. ingress-nginx matched ~* \"^%s\" (case-insensitive, from the start of the path); the value is written for gateways that match the whole path with RE2 (Envoy Gateway, Istio). ingress-nginx also picked the first matching regex by path length, Gateway API leaves precedence between regex matches to the implementation.", value, strings.TrimPrefix(r.path, "^"))
	r.path, r.pathType = value, "regex"
	return true
}

// capturePath is ingress-nginx's idiom for "strip this prefix".
var capturePath = regexp.MustCompile(`^\^?(/[-A-Za-z0-9/._~]*?)/?\(/\|\$\)\(\.\*\)$`)

// validPath is what Gateway API accepts as a path.
var validPath = regexp.MustCompile(`^/[-A-Za-z0-9/._~!$&'()*+,;=:@%]*$`)
