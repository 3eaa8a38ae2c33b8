package importer

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"
)

// sslRedirectStatus is ingress-nginx's default HTTP-to-HTTPS redirect code
// (the http-redirect-code setting). Gateway API accepts it, as Extended
// support (301 and 302 are Core).
const sslRedirectStatus = 308

// redirectHosts says which hosts of one Ingress ingress-nginx redirects from
// HTTP to HTTPS.
type redirectHosts struct {
	force   bool            // force-ssl-redirect: every host, TLS or not
	ssl     bool            // ssl-redirect (default true): hosts with TLS
	allTLS  bool            // a TLS section without hosts covers every host
	tls     map[string]bool // hosts listed in TLS sections of any Ingress
	enabled bool            // the redirect routes can be written
}

// covers reports whether requests for host are redirected. A rule without
// host is redirected only when forced: ingress-nginx's catch-all server has
// no certificate of the Ingress.
func (r redirectHosts) covers(host string) bool {
	if !r.enabled {
		return false
	}
	if r.force {
		return true
	}
	return r.ssl && host != "" && r.tlsCovers(host)
}

func (r redirectHosts) tlsCovers(host string) bool {
	if r.allTLS || r.tls[host] {
		return true
	}
	if _, parent, ok := strings.Cut(host, "."); ok && r.tls["*."+parent] {
		return true
	}
	return false
}

// sslRedirects reads ssl-redirect and force-ssl-redirect with the TLS
// section, as ingress-nginx does: a host with TLS is redirected unless
// ssl-redirect is "false"; force-ssl-redirect redirects every host. It
// reports what the import does about it, and whether the redirect routes
// can be written (they need the gateway's plain-HTTP listener).
func (m *model) sslRedirects(in *netv1.Ingress) redirectHosts {
	obj := ref(in)
	a := in.Annotations
	force, forceOK := nginxBool(a, "force-ssl-redirect")
	ssl, sslOK := nginxBool(a, "ssl-redirect")
	r := redirectHosts{force: forceOK && force, ssl: !sslOK || ssl, tls: maps.Clone(m.tlsHosts)}
	if r.tls == nil {
		r.tls = map[string]bool{}
	}
	for _, t := range in.Spec.TLS {
		if len(t.Hosts) == 0 {
			r.allTLS = true
		}
		for _, h := range t.Hosts {
			r.tls[h] = true
		}
	}
	redirected := map[string]bool{} // the hosts with paths that are redirected
	for _, rl := range in.Spec.Rules {
		if rl.HTTP != nil && (r.force || (r.ssl && rl.Host != "" && r.tlsCovers(rl.Host))) {
			redirected[rl.Host] = true
		}
	}
	if in.Spec.DefaultBackend != nil && r.force {
		redirected[""] = true
	}
	hosts := slices.Sorted(maps.Keys(redirected))
	item := nginx + "ssl-redirect"
	why := "ingress-nginx redirects HTTP to HTTPS for the hosts with TLS (ssl-redirect defaults to \"true\")"
	if r.force {
		item = nginx + "force-ssl-redirect"
		why = "force-ssl-redirect redirects HTTP to HTTPS for every host, with TLS or not"
	} else if _, set := a[item]; !set {
		item = "spec.tls"
	}
	for _, k := range []string{"ssl-redirect", "force-ssl-redirect"} {
		raw, set := a[nginx+k]
		b, valid := nginxBool(a, k)
		v := strconv.FormatBool(b)
		switch {
		case !set:
		case !valid:
			m.note(obj, nginx+k, Dropped, "%q is not a boolean; ingress-nginx ignores it and keeps its default.", raw)
		case k == "ssl-redirect" && v == "false" && !r.force:
			m.note(obj, nginx+k, Warning, "\"false\": no redirect route is written. ingress-nginx also serves these hosts over plain HTTP; the imported routes attach to %s only, so if plain HTTP must keep working, copy the routes with listener set to the plain-HTTP listener.", m.listenerText())
		case k == "force-ssl-redirect" && v == "false":
			m.note(obj, nginx+k, Translated, "\"false\" is the default: only hosts with TLS are redirected (ssl-redirect).")
		case v == "false":
			m.note(obj, nginx+k, Translated, "\"false\" is overridden by force-ssl-redirect, as in ingress-nginx.")
		case nginx+k != item:
			m.note(obj, nginx+k, Translated, "\"true\": see %s.", item)
		}
	}
	if len(hosts) == 0 {
		if _, set := a[nginx+"force-ssl-redirect"]; r.force && set {
			m.note(obj, item, Translated, "%s; the Ingress has no rule to redirect.", why)
		} else if v, ok := nginxBool(a, "ssl-redirect"); ok && v && !r.force {
			m.note(obj, item, Translated, "\"true\": no host of the Ingress has TLS, so nothing is redirected (use force-ssl-redirect to redirect without TLS).")
		}
		return r
	}
	var quoted []string
	for _, h := range hosts {
		if h == "" {
			h = "every host (default backend)"
		}
		quoted = append(quoted, strconv.Quote(h))
	}
	listed := strings.Join(quoted, ", ")
	switch {
	case strings.HasPrefix(strings.ToUpper(a[nginx+"backend-protocol"]), "GRPC"):
		m.note(obj, item, Warning, "%s, but gRPC clients do not follow redirects: no redirect route is written for %s. Serve gRPC on the HTTPS listener only.", why, listed)
		return r
	case m.httpListener == "":
		m.note(obj, item, Warning, "%s (%s). The redirect belongs to a route on the gateway's plain-HTTP listener, whose name is unknown: rerun with --http-listener NAME (or with the Gateway object in the input), or add:\n"+
			"route %q {\n  namespace = %q\n  gateway   = gateway.%s\n  listener  = \"http\"\n  hostnames = [%s]\n  rule {\n    path = \"/\"\n    redirect {\n      scheme = \"https\"\n      status = %d\n    }\n  }\n}",
			why, listed, in.Name+"-https-redirect", in.Namespace, m.gatewayLabel(), listed, sslRedirectStatus)
		return r
	case m.httpListener == m.gwListener:
		m.note(obj, item, Warning, "%s (%s), but the routes attach to listener %q, which is the plain-HTTP listener: a redirect there would loop. Attach the routes to the HTTPS listener (--gateway ns/name:LISTENER) and import again.", why, listed, m.gwListener)
		return r
	}
	r.enabled = true
	m.note(obj, item, Translated, "%s: a route on listener %q redirects %s to https with the same paths.", why, m.httpListener, listed)
	m.note(obj, "redirect status", Warning, "ingress-nginx redirects with %d (its http-redirect-code default); Gateway API accepts %d as Extended support (301 and 302 are Core): check that the gateway supports it, else change status to 301.", sslRedirectStatus, sslRedirectStatus)
	if m.gwListener == "" {
		m.note(obj, "listener", Warning, "the routes attach to every listener of gateway %s/%s, the plain-HTTP one included, where the redirect route matches the same hosts and paths: name the HTTPS listener (--gateway %s/%s:LISTENER) so that HTTP requests are only redirected.", m.gwNS, m.gwName, m.gwNS, m.gwName)
	}
	return r
}

// httpsRedirect adds, beside rt, a route on the plain-HTTP listener that
// redirects rt's hosts and paths to https.
func (m *model) httpsRedirect(in *netv1.Ingress, rt *route) {
	key := rt.key + "#https-redirect"
	out := &route{label: m.uniqueLabel("route", rt.label+"-https-redirect", key), ns: rt.ns, key: key,
		listener: m.httpListener, hostnames: rt.hostnames,
		comments: []string{fmt.Sprintf("from %s: HTTP requests are redirected to HTTPS (ssl-redirect)", ref(in))}}
	seen := map[string]bool{}
	for _, r := range rt.rules {
		k := r.pathType + "|" + r.path
		if seen[k] {
			continue
		}
		seen[k] = true
		out.rules = append(out.rules, &rule{path: r.path, pathType: r.pathType, redirect: &redirect{scheme: "https", status: sslRedirectStatus}})
	}
	m.routes = append(m.routes, out)
}

// listenerText names the listener the imported routes attach to.
func (m *model) listenerText() string {
	if m.gwListener == "" {
		return "every listener of the gateway"
	}
	return "listener " + strconv.Quote(m.gwListener)
}

// annotationTrue reports whether a boolean annotation is set and true, as
// ingress-nginx reads it.
func annotationTrue(a map[string]string, name string) bool {
	b, _ := nginxBool(a, name)
	return b
}

// nginxBool reads a boolean annotation as ingress-nginx does
// (strconv.ParseBool: "true", "True", "1", ...); ok is false when it is
// absent or not a boolean, and ingress-nginx then uses its default.
func nginxBool(a map[string]string, name string) (value, ok bool) {
	v, set := a[nginx+name]
	if !set {
		return false, false
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	return b, err == nil
}
