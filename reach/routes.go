package reach

import (
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

// Request is an HTTP request as a gateway sees it. Listeners, when not
// nil, are the gateway listeners (sectionNames) it arrives on; routes
// attached to other listeners do not see it.
type Request struct {
	Host, Path, Method string
	Listeners          []string
}

// RouteMatch is the HTTPRoute rule that answers a request.
type RouteMatch struct {
	Route *gwv1.HTTPRoute
	Rule  int
	// Host is the route hostname that matched ("" when the route lists none).
	Host string
}

// Backends are the rule's backends (none for a redirect).
func (m RouteMatch) Backends() []gwv1.HTTPBackendRef { return m.Route.Spec.Rules[m.Rule].BackendRefs }

// HTTPRoutesOf converts the HTTPRoutes among objects to their typed form.
func HTTPRoutesOf(objs []*unstructured.Unstructured) ([]gwv1.HTTPRoute, error) {
	var out []gwv1.HTTPRoute
	for _, u := range objs {
		if u.GroupVersionKind().GroupKind().String() != "HTTPRoute.gateway.networking.k8s.io" {
			continue
		}
		var r gwv1.HTTPRoute
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &r); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

// candidate is a matching (route, rule, match) with its precedence keys.
type candidate struct {
	m                       RouteMatch
	preciseHost, hostLen    int
	exact                   bool
	pathLen                 int
	method, headers, params int
	key                     string // namespace/name
	match                   int
}

// ResolveHTTP finds the rule of the routes attached to Gateway ns/name that
// answers req, by Gateway API precedence: the most specific hostname, then
// an exact path, the longest prefix, a method match, the most header and
// query matches, the route first by namespace/name (creation times are
// not known), the first rule. Matches on headers or query parameters need
// values a bare request does not carry, so they never match; listener
// hostnames are not considered.
func ResolveHTTP(routes []gwv1.HTTPRoute, ns, name string, req Request) (RouteMatch, bool) {
	var cands []candidate
	for i := range routes {
		r := &routes[i]
		if !attached(r, ns, name, req.Listeners) {
			continue
		}
		host, ok := matchHostnames(r.Spec.Hostnames, req.Host)
		if !ok {
			continue
		}
		cands = append(cands, ruleCandidates(r, host, req)...)
	}
	if len(cands) == 0 {
		return RouteMatch{}, false
	}
	sort.SliceStable(cands, func(i, j int) bool { return better(cands[i], cands[j]) })
	return cands[0].m, true
}

func attached(r *gwv1.HTTPRoute, ns, name string, listeners []string) bool {
	for _, p := range r.Spec.ParentRefs {
		pns := r.Namespace
		if p.Namespace != nil {
			pns = string(*p.Namespace)
		}
		if string(p.Name) == name && pns == ns && (p.Kind == nil || *p.Kind == "Gateway") && onListener(p.SectionName, listeners) {
			return true
		}
	}
	return false
}

func onListener(section *gwv1.SectionName, listeners []string) bool {
	if section == nil || listeners == nil {
		return true
	}
	for _, l := range listeners {
		if l == string(*section) {
			return true
		}
	}
	return false
}

// matchHostnames returns the route hostname matching host: precise, or a
// wildcard "*.example.com" covering one or more labels.
func matchHostnames(hostnames []gwv1.Hostname, host string) (string, bool) {
	if len(hostnames) == 0 {
		return "", true
	}
	best, found := "", false
	for _, h := range hostnames {
		s := string(h)
		ok := s == host || (strings.HasPrefix(s, "*.") && strings.HasSuffix(host, s[1:]) && len(host) > len(s)-1)
		if ok && (!found || hostRank(s) > hostRank(best)) {
			best, found = s, true
		}
	}
	return best, found
}

func hostRank(h string) int {
	if strings.HasPrefix(h, "*") {
		return len(h)
	}
	return 1000 + len(h)
}

func ruleCandidates(r *gwv1.HTTPRoute, host string, req Request) []candidate {
	var out []candidate
	for i, rule := range r.Spec.Rules {
		matches := rule.Matches
		if len(matches) == 0 {
			matches = []gwv1.HTTPRouteMatch{{}}
		}
		for j, m := range matches {
			c, ok := matchRequest(m, req)
			if !ok {
				continue
			}
			c.m = RouteMatch{Route: r, Rule: i, Host: host}
			c.key, c.match = r.Namespace+"/"+r.Name, j
			if host != "" && !strings.HasPrefix(host, "*") {
				c.preciseHost = len(host)
			}
			c.hostLen = len(host)
			out = append(out, c)
		}
	}
	return out
}

func matchRequest(m gwv1.HTTPRouteMatch, req Request) (candidate, bool) {
	var c candidate
	if len(m.Headers) > 0 || len(m.QueryParams) > 0 {
		return c, false
	}
	if m.Method != nil {
		if !strings.EqualFold(string(*m.Method), req.Method) {
			return c, false
		}
		c.method = 1
	}
	typ, value := gwv1.PathMatchPathPrefix, "/"
	if m.Path != nil {
		if m.Path.Type != nil {
			typ = *m.Path.Type
		}
		if m.Path.Value != nil {
			value = *m.Path.Value
		}
	}
	switch typ {
	case gwv1.PathMatchExact:
		c.exact, c.pathLen = true, len(value)
		return c, req.Path == value
	case gwv1.PathMatchPathPrefix:
		c.pathLen = len(value)
		return c, prefixMatches(value, req.Path)
	}
	return c, false
}

// prefixMatches matches path elements: "/foo" matches "/foo" and "/foo/x",
// not "/foobar"; a trailing slash in the prefix is ignored.
func prefixMatches(prefix, path string) bool {
	p := strings.TrimSuffix(prefix, "/")
	return p == "" || path == p || strings.HasPrefix(path, p+"/")
}

func better(a, b candidate) bool {
	for _, d := range []int{a.preciseHost - b.preciseHost, a.hostLen - b.hostLen, boolInt(a.exact) - boolInt(b.exact),
		a.pathLen - b.pathLen, a.method - b.method, a.headers - b.headers, a.params - b.params} {
		if d != 0 {
			return d > 0
		}
	}
	if a.key != b.key {
		return a.key < b.key
	}
	if a.m.Rule != b.m.Rule {
		return a.m.Rule < b.m.Rule
	}
	return a.match < b.match
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
