package reach

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

func httpRoute(name string, hosts []gwv1.Hostname, section string, rules ...gwv1.HTTPRouteRule) gwv1.HTTPRoute {
	ns := gwv1.Namespace("infra")
	ref := gwv1.ParentReference{Name: "gw", Namespace: &ns}
	if section != "" {
		s := gwv1.SectionName(section)
		ref.SectionName = &s
	}
	return gwv1.HTTPRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "app", Name: name},
		Spec: gwv1.HTTPRouteSpec{CommonRouteSpec: gwv1.CommonRouteSpec{ParentRefs: []gwv1.ParentReference{ref}}, Hostnames: hosts, Rules: rules}}
}

func pathRule(typ gwv1.PathMatchType, value string, method string) gwv1.HTTPRouteRule {
	m := gwv1.HTTPRouteMatch{Path: &gwv1.HTTPPathMatch{Type: &typ, Value: &value}}
	if method != "" {
		hm := gwv1.HTTPMethod(method)
		m.Method = &hm
	}
	return gwv1.HTTPRouteRule{Matches: []gwv1.HTTPRouteMatch{m}}
}

func TestResolveHTTP(t *testing.T) {
	routes := []gwv1.HTTPRoute{
		httpRoute("b-wild", []gwv1.Hostname{"*.example.com"}, "", pathRule(gwv1.PathMatchPathPrefix, "/", "")),
		httpRoute("a-api", []gwv1.Hostname{"api.example.com"}, "",
			pathRule(gwv1.PathMatchPathPrefix, "/users", ""),
			pathRule(gwv1.PathMatchExact, "/users/me", ""),
			pathRule(gwv1.PathMatchPathPrefix, "/users", "POST"),
			pathRule(gwv1.PathMatchPathPrefix, "/", "")),
		httpRoute("c-any", nil, "http", pathRule(gwv1.PathMatchPathPrefix, "/", "")),
	}
	for _, tc := range []struct {
		req        Request
		route      string
		rule       int
		unanswered bool
	}{
		{req: Request{Host: "api.example.com", Path: "/users/1", Method: "GET"}, route: "a-api", rule: 0},
		{req: Request{Host: "api.example.com", Path: "/users/me", Method: "GET"}, route: "a-api", rule: 1},
		{req: Request{Host: "api.example.com", Path: "/users", Method: "POST"}, route: "a-api", rule: 2},
		{req: Request{Host: "api.example.com", Path: "/usersx", Method: "GET"}, route: "a-api", rule: 3},
		{req: Request{Host: "www.example.com", Path: "/x", Method: "GET"}, route: "b-wild"},
		{req: Request{Host: "a.b.example.com", Path: "/", Method: "GET"}, route: "b-wild"},
		{req: Request{Host: "example.com", Path: "/", Method: "GET"}, route: "c-any"},
		{req: Request{Host: "example.com", Path: "/", Method: "GET", Listeners: []string{"https"}}, unanswered: true},
		{req: Request{Host: "other.org", Path: "/", Method: "GET", Listeners: []string{"http"}}, route: "c-any"},
	} {
		m, ok := ResolveHTTP(routes, "infra", "gw", tc.req)
		switch {
		case ok == tc.unanswered:
			t.Errorf("%+v: answered %v", tc.req, ok)
		case ok && (m.Route.Name != tc.route || m.Rule != tc.rule):
			t.Errorf("%+v: got %s rule %d, want %s rule %d", tc.req, m.Route.Name, m.Rule, tc.route, tc.rule)
		}
	}
}
