package importer

import (
	"strings"

	"k8s.io/apimachinery/pkg/util/validation"
)

// appRootStatus is the code ingress-nginx redirects app-root with.
const appRootStatus = 302

// appRoot reads app-root. ingress-nginx answers a request for exactly "/"
// on the Ingress's hosts with `return 302 $scheme://$http_host<app-root>`,
// before any location matches: each route of the Ingress gets a first rule
// matching exactly "/" that redirects to the path, keeping scheme and host.
func (m *model) appRoot(obj, key, value string, a map[string]string, set *ingressSettings) {
	if grpcBackend(a) {
		m.note(obj, key, Dropped, "a gRPC route matches services and methods, not paths; nothing to redirect.")
		return
	}
	if !validPath.MatchString(value) {
		m.note(obj, key, Dropped, "%q is not an absolute path, which ingress-nginx requires; nothing is redirected.", value)
		return
	}
	set.appRoot = value
	m.note(obj, key, Translated, "a first rule on each route of the Ingress matches exactly \"/\" and redirects to %q with status %d (redirect { path = %q }), as ingress-nginx did; the scheme and host stay the request's.", value, appRootStatus, value)
}

// addAppRoot puts the app-root redirect first in rt: an Exact match takes
// precedence over every prefix in Gateway API, and over a later Exact "/"
// by rule order, as ingress-nginx's server-level redirect did.
func (m *model) addAppRoot(rt *route, set ingressSettings) {
	if set.appRoot == "" || len(rt.rules) == 0 {
		return
	}
	r := &rule{path: "/", pathType: "exact", redirect: &redirect{path: set.appRoot, status: appRootStatus}}
	rt.rules = append([]*rule{r}, rt.rules...)
}

// upstreamVhost reads upstream-vhost: ingress-nginx sends it as the Host
// header to the backends, which a URLRewrite hostname does.
func (m *model) upstreamVhost(obj, key, value string, a map[string]string, set *ingressSettings) {
	host := strings.TrimSpace(value)
	switch {
	case grpcBackend(a):
		m.note(obj, key, Dropped, "grpc_route rules have no rewrite in perimeter; set the :authority the backend expects by hand.")
	case strings.Contains(host, "$"):
		m.note(obj, key, Dropped, "%q uses nginx variables; Gateway API rewrites the Host header to a fixed name only.", value)
	case len(validation.IsDNS1123Subdomain(host)) > 0:
		m.note(obj, key, Dropped, "%q is not a precise hostname (lower case, no port), which is all a Gateway API rewrite accepts.", value)
	default:
		set.vhost = host
		m.note(obj, key, Translated, "rewrite { hostname = %q } on every rule with backends: the gateway sends it as the Host header, as ingress-nginx did (URLRewrite is Extended support in Gateway API).", host)
	}
}

// grpcBackend reports whether the Ingress becomes a grpc_route; annotations
// are read in name order, so those before backend-protocol ask here.
func grpcBackend(a map[string]string) bool {
	return strings.HasPrefix(strings.ToUpper(a[nginx+"backend-protocol"]), "GRPC")
}
