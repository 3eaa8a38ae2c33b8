package importer

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"
)

const nginx = "nginx.ingress.kubernetes.io/"

// ignoredAnnotations carry no routing meaning.
var ignoredAnnotations = map[string]bool{
	"kubectl.kubernetes.io/last-applied-configuration": true,
}

// ingresses turns every Ingress into routes: primary Ingresses first, then
// canaries merged into the primary rule for the same host and path.
func (m *model) ingresses() {
	var canaries []*netv1.Ingress
	index := map[string]*rule{} // ns|host|pathType|path -> rule of a primary Ingress
	m.tlsHosts = tlsHosts(m.inIngresses)
	for _, in := range m.inIngresses {
		if annotationTrue(in.Annotations, "canary") {
			canaries = append(canaries, in)
			continue
		}
		if annotationTrue(in.Annotations, "ssl-passthrough") {
			m.passthroughIngress(in)
			continue
		}
		m.ingress(in, index)
	}
	for _, in := range canaries {
		m.canary(in, index)
	}
}

// ingressSettings are the annotations that shape every rule of an Ingress.
type ingressSettings struct {
	rewrite  string
	captured bool // rewrite-target "/$2" with paths like /prefix(/|$)(.*)
	redirect *redirect
	timeout  string
	grpc     bool
	cors     *corsBlock
	tls      *backendTLS
	appRoot  string // app-root: where "/" redirects
	vhost    string // upstream-vhost: the Host header backends get
}

func ref(in *netv1.Ingress) string { return "Ingress " + in.Namespace + "/" + in.Name }

func (m *model) ingress(in *netv1.Ingress, index map[string]*rule) {
	before := len(m.routes)
	defer func() {
		if len(m.routes) == before {
			m.note(ref(in), "spec.rules", Dropped, "the Ingress routes nothing that could be imported (no paths with a service backend, no default backend).")
		}
	}()
	set := m.annotations(in)
	set.cors = m.corsSettings(in, set.grpc)
	set.tls = m.backendTLSSettings(in)
	m.tls(in)
	redirects := m.sslRedirects(in)
	m.namespace(in.Namespace)
	if in.Spec.IngressClassName != nil {
		m.note(ref(in), "spec.ingressClassName", Translated, "class %q is replaced by gateway %s/%s.", *in.Spec.IngressClassName, m.gwNS, m.gwName)
	}
	byHost := map[string][]netv1.HTTPIngressPath{}
	var hosts []string
	for _, r := range in.Spec.Rules {
		if _, seen := byHost[r.Host]; !seen {
			hosts = append(hosts, r.Host)
		}
		if r.HTTP != nil {
			byHost[r.Host] = append(byHost[r.Host], r.HTTP.Paths...)
		} else {
			byHost[r.Host] = append(byHost[r.Host], netv1.HTTPIngressPath{})
		}
	}
	sort.Strings(hosts)
	for _, host := range hosts {
		name := in.Name
		if len(hosts) > 1 || in.Spec.DefaultBackend != nil {
			name = in.Name + "-" + hostSlug(host)
		}
		rt := m.newRoute(in, name, host, set.grpc)
		for _, p := range byHost[host] {
			if p.Backend.Service == nil && p.Backend.Resource == nil {
				continue // a host without paths: the default backend answers
			}
			m.addPath(in, rt, host, p, set, index)
		}
		m.finishRoute(in, rt, host, redirects, set)
	}
	if d := in.Spec.DefaultBackend; d != nil {
		rt := m.newRoute(in, in.Name+"-default", "", set.grpc)
		m.addPath(in, rt, "", netv1.HTTPIngressPath{Path: "/", Backend: *d}, set, index)
		m.finishRoute(in, rt, "", redirects, set)
	}
}

// finishRoute drops a route none of whose paths was imported, or attaches
// it to its listener and adds its HTTP-to-HTTPS redirect.
func (m *model) finishRoute(in *netv1.Ingress, rt *route, host string, redirects redirectHosts, set ingressSettings) {
	if len(rt.rules) == 0 {
		m.dropRoute()
		return
	}
	m.addAppRoot(rt, set)
	m.placeHost(in, rt, host, redirects, set.grpc)
	if redirects.covers(host) {
		m.httpsRedirect(in, rt)
	}
}

// tlsHosts are the hosts some primary Ingress has a TLS section for.
// ingress-nginx merges every Ingress of a host into one server, which has
// TLS when any of them has: the paths of the others are served over HTTPS
// too, and redirected there from plain HTTP (ssl-redirect).
func tlsHosts(ingresses []*netv1.Ingress) map[string]bool {
	out := map[string]bool{}
	for _, in := range ingresses {
		if annotationTrue(in.Annotations, "canary") {
			continue
		}
		for _, t := range in.Spec.TLS {
			for _, h := range t.Hosts {
				out[h] = true
			}
		}
	}
	return out
}

func hostSlug(host string) string {
	if host == "" {
		return "any-host"
	}
	return strings.ReplaceAll(strings.ReplaceAll(host, "*", "wildcard"), ".", "-")
}

func (m *model) newRoute(in *netv1.Ingress, name, host string, grpc bool) *route {
	kind := "route"
	if grpc {
		kind = "grpc_route"
	}
	key := in.Namespace + "/" + name
	rt := &route{label: m.uniqueLabel(kind, name, key), ns: in.Namespace, grpc: grpc, key: key}
	if host != "" {
		rt.hostnames = []string{host}
	}
	rt.comments = append(rt.comments, "from "+ref(in))
	m.routes = append(m.routes, rt)
	return rt
}

// dropRoute forgets the route just added: none of its paths was imported.
func (m *model) dropRoute() {
	m.routes = m.routes[:len(m.routes)-1]
}

// addPath adds one Ingress path as a rule.
func (m *model) addPath(in *netv1.Ingress, rt *route, host string, p netv1.HTTPIngressPath, set ingressSettings, index map[string]*rule) {
	r := &rule{path: p.Path, timeout: set.timeout}
	if r.path == "" {
		r.path = "/"
	}
	if p.PathType != nil && *p.PathType == netv1.PathTypeExact {
		r.pathType = "exact"
	}
	if p.Backend.Resource != nil {
		m.note(ref(in), "backend "+p.Path, Dropped, "resource backends (%s %s) have no Gateway API equivalent; the path is not imported.", p.Backend.Resource.Kind, p.Backend.Resource.Name)
		return
	}
	if msg := invalidServiceName(p.Backend.Service); msg != "" {
		m.note(ref(in), "backend "+p.Path, Dropped, "%s; the API server would refuse this Ingress, and the path is not imported.", msg)
		return
	}
	if rt.grpc && r.path != "/" {
		m.note(ref(in), "path "+r.path, Warning, "a gRPC route matches services and methods, not paths: this path is imported as a rule for every method.")
	}
	if !m.plainPath(in, r, set) {
		return
	}
	if p.PathType != nil && *p.PathType == netv1.PathTypeImplementationSpecific && r.pathType == "" {
		m.note(ref(in), "pathType "+p.Path, Warning, "ImplementationSpecific is imported as Prefix; ingress-nginx treats it as a prefix unless use-regex is set.")
	}
	if set.redirect != nil {
		r.redirect = set.redirect
	} else {
		svc := p.Backend.Service
		r.backends = []backend{{svc: m.serviceBlock(ref(in), in.Namespace, svc.Name, svc.Port)}}
		r.cors = set.cors
		if set.tls != nil {
			m.setBackendTLS(r.backends[0].svc, set.tls)
		}
		m.isolated(r.backends[0].svc)
		m.served(r.backends[0].svc)
		r.rewriteHost = set.vhost
		switch {
		case set.captured && capturePath.MatchString(p.Path):
			r.rewritePrefix = set.rewrite
		case !set.captured:
			r.rewriteFull = set.rewrite
		}
	}
	rt.rules = append(rt.rules, r)
	index[in.Namespace+"|"+host+"|"+r.pathType+"|"+r.path] = r
}

// tls records each TLS section as a note on the listener.
func (m *model) tls(in *netv1.Ingress) {
	for _, t := range in.Spec.TLS {
		hosts := strings.Join(t.Hosts, ", ")
		if hosts == "" {
			hosts = "every host"
		}
		m.tlsNotes = append(m.tlsNotes, fmt.Sprintf("TLS for %s needs certificate Secret %s/%s on this listener (from %s)", hosts, in.Namespace, t.SecretName, ref(in)))
		m.note(ref(in), "spec.tls", Translated, "TLS for %s: a note on the gateway's listener; the listener must terminate TLS with Secret %s/%s (copy it or add a ReferenceGrant).", hosts, in.Namespace, t.SecretName)
	}
}

// annotations translates the Ingress's annotations into rule settings and
// reports every one of them.
func (m *model) annotations(in *netv1.Ingress) ingressSettings {
	var set ingressSettings
	keys := make([]string, 0, len(in.Annotations))
	for k := range in.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		m.annotation(in, k, in.Annotations[k], &set)
	}
	return set
}

func (m *model) annotation(in *netv1.Ingress, key, value string, set *ingressSettings) {
	obj := ref(in)
	name, isNginx := strings.CutPrefix(key, nginx)
	switch {
	case ignoredAnnotations[key]:
	case key == "kubernetes.io/ingress.class":
		m.note(obj, key, Translated, "class %q is replaced by gateway %s/%s.", value, m.gwNS, m.gwName)
	case !isNginx:
		m.note(obj, key, Dropped, "not an ingress-nginx annotation; perimeter does not know its meaning.")
	case name == "rewrite-target":
		m.rewrite(obj, key, value, in, set)
	case annotationTrue(in.Annotations, "canary") && (name == "ssl-redirect" || name == "force-ssl-redirect" || name == "app-root" || name == "upstream-vhost" || isCORSAnnotation(name) || isProxySSLAnnotation(name)):
		m.note(obj, key, Dropped, "a canary Ingress only adds backends to the primary Ingress's rules; the primary's setting applies.")
	case name == "ssl-redirect" || name == "force-ssl-redirect" || isCORSAnnotation(name) || isProxySSLAnnotation(name):
		// read as a group by sslRedirects, corsSettings and backendTLSSettings, which report them
	case name == "permanent-redirect" || name == "temporal-redirect":
		m.redirect(obj, key, value, name, in, set)
	case name == "permanent-redirect-code":
		if set.redirect != nil || in.Annotations[nginx+"permanent-redirect"] != "" {
			m.note(obj, key, Translated, "the redirect's status code.")
		} else {
			m.note(obj, key, Dropped, "no permanent-redirect to apply it to.")
		}
	case name == "app-root":
		m.appRoot(obj, key, value, in.Annotations, set)
	case name == "upstream-vhost":
		m.upstreamVhost(obj, key, value, in.Annotations, set)
	case name == "proxy-read-timeout" || name == "proxy-send-timeout":
		m.timeout(obj, key, in, set)
	case name == "use-regex":
		m.note(obj, key, Translated, "paths of the /prefix(/|$)(.*) idiom become prefixes, other regular-expression paths regex matches (each reported); paths without regular-expression characters keep their type, though ingress-nginx matched them as case-insensitive string prefixes (/api also matched /apis), and applied use-regex to every path of the host, from any Ingress.")
	case name == "backend-protocol":
		m.backendProtocol(obj, key, value, set)
	case name == "whitelist-source-range" || name == "denylist-source-range":
		m.note(obj, key, Warning, "source ranges (%s) are not a routing feature in Gateway API. Restrict the backend with a NetworkPolicy ipBlock (an allow block with cidr(...)) instead — and note that a load balancer that rewrites source IPs (no externalTrafficPolicy: Local, no PROXY protocol) hides the client address from both.", value)
	case strings.HasPrefix(name, "canary"):
		m.note(obj, key, Dropped, "canary annotations only apply to an Ingress marked canary: \"true\".")
	default:
		m.note(obj, key, Dropped, "no Gateway API standard-channel equivalent is translated for this annotation.")
	}
}

func (m *model) rewrite(obj, key, value string, in *netv1.Ingress, set *ingressSettings) {
	if value == "/$2" {
		set.rewrite, set.captured = "/", true
		m.note(obj, key, Translated, "paths of the form /prefix(/|$)(.*) become prefix /prefix with rewrite { prefix = \"/\" }; other regular-expression paths are reported.")
		return
	}
	if strings.Contains(value, "$") || annotationTrue(in.Annotations, "use-regex") {
		m.note(obj, key, Dropped, "%q uses regular-expression captures; Gateway API rewrites only replace a path prefix or the full path. Rewrite the rules by hand (rewrite { prefix = ... }).", value)
		return
	}
	set.rewrite = value
	m.note(obj, key, Translated, "rewrite { path = %q }: ingress-nginx replaces the whole path of every matching request with the target (use the /prefix(/|$)(.*) and /$2 idiom to strip a prefix), and so does ReplaceFullPath.", value)
}

func (m *model) redirect(obj, key, value, name string, in *netv1.Ingress, set *ingressSettings) {
	u, err := url.Parse(value)
	if err != nil || u.Host == "" {
		m.note(obj, key, Dropped, "%q is not an absolute URL.", value)
		return
	}
	status := 302
	if name == "permanent-redirect" {
		status = 301
		if c, err := strconv.Atoi(in.Annotations[nginx+"permanent-redirect-code"]); err == nil {
			status = c
		}
	}
	r := &redirect{scheme: u.Scheme, hostname: u.Hostname(), status: status}
	if p, err := strconv.Atoi(u.Port()); err == nil {
		r.port = int32(p)
	}
	r.path = u.Path
	if r.path == "" {
		r.path = "/" // ingress-nginx redirects to the URL as given, not to the request's path
	}
	set.redirect = r
	if status != 301 && status != 302 {
		m.note(obj, key, Warning, "status %d is Extended support in Gateway API (301 and 302 are Core); check that the gateway implements it.", status)
	}
	if u.RawQuery != "" {
		m.note(obj, key, Warning, "redirect to %s; the query string is dropped (Gateway API redirects cannot set one).", value)
		return
	}
	m.note(obj, key, Translated, "redirect { ... status = %d } on every rule of this Ingress.", status)
}

func (m *model) timeout(obj, key string, in *netv1.Ingress, set *ingressSettings) {
	longest := 0
	for _, k := range []string{nginx + "proxy-read-timeout", nginx + "proxy-send-timeout"} {
		if n, err := strconv.Atoi(in.Annotations[k]); err == nil && n > longest {
			longest = n
		}
	}
	if longest == 0 {
		m.note(obj, key, Dropped, "%q is not a number of seconds.", in.Annotations[key])
		return
	}
	set.timeout = fmt.Sprintf("%ds", longest)
	m.note(obj, key, Warning, "timeout = %q (the longer of read and send): Gateway API times the whole request, ingress-nginx times each read or send.", set.timeout)
}

func (m *model) backendProtocol(obj, key, value string, set *ingressSettings) {
	switch strings.ToUpper(value) {
	case "GRPC":
		set.grpc = true
		m.note(obj, key, Translated, "%s: the Ingress becomes a grpc_route.", value)
	case "GRPCS":
		set.grpc = true
		m.note(obj, key, Translated, "%s: the Ingress becomes a grpc_route, and its backend services get a backend_tls block (a BackendTLSPolicy).", value)
	case "HTTPS":
		m.note(obj, key, Translated, "%s: the backend services get a backend_tls block (a BackendTLSPolicy): the gateway connects to them with TLS.", value)
	case "HTTP":
		m.note(obj, key, Translated, "HTTP is the default.")
	default:
		m.note(obj, key, Dropped, "%s backends have no Gateway API standard-channel equivalent.", value)
	}
}

// isolated reports, once per service, that exposing it through the gateway
// isolates its pods for ingress.
func (m *model) isolated(s *service) {
	obj := "Service " + s.ns + "/" + s.name
	for _, e := range m.report {
		if e.Object == obj && e.Item == "ingress isolation" {
			return
		}
	}
	m.note(obj, "ingress isolation", Warning, "as a route backend it gets a NetworkPolicy admitting the gateway's data-plane pods on its target port; from then on only the gateway and allow blocks naming it may reach its pods. Add allow blocks for in-cluster callers.")
}

// invalidServiceName says why an Ingress service backend cannot name a
// Service port ("" when it can): files may hold objects no API server
// accepted.
func invalidServiceName(svc *netv1.IngressServiceBackend) string {
	if svc == nil {
		return "the backend names no service"
	}
	if errs := validation.IsDNS1035Label(svc.Name); len(errs) > 0 {
		return fmt.Sprintf("service name %q is not a Service name (%s)", svc.Name, strings.Join(errs, "; "))
	}
	switch p := svc.Port; {
	case p.Name != "" && p.Number != 0:
		return fmt.Sprintf("service %s names its port both by name and by number", svc.Name)
	case p.Name != "" && len(validation.IsValidPortName(p.Name)) > 0:
		return fmt.Sprintf("service %s: %q is not a port name", svc.Name, p.Name)
	case p.Name == "" && len(validation.IsValidPortNum(int(p.Number))) > 0:
		return fmt.Sprintf("service %s: port %d is not a port number", svc.Name, p.Number)
	}
	return ""
}
