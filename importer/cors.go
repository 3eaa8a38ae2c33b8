package importer

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"
)

// ingress-nginx's CORS defaults, used when enable-cors is "true" and an
// annotation is absent or invalid (internal/ingress/annotations/cors).
var (
	nginxCORSMethods = []string{"GET", "PUT", "POST", "DELETE", "PATCH", "OPTIONS"}
	nginxCORSHeaders = []string{"DNT", "Keep-Alive", "User-Agent", "X-Requested-With", "If-Modified-Since", "Cache-Control", "Content-Type", "Range", "Authorization"}
)

const nginxCORSMaxAge = 1728000

// The patterns ingress-nginx checks the CORS annotations with; a value that
// fails them is replaced by the default.
var (
	nginxCORSOrigin  = regexp.MustCompile(`^(https?://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*)?$`)
	nginxCORSMethod  = regexp.MustCompile(`^([A-Za-z]+,?\s?)+$`)
	nginxCORSHeader  = regexp.MustCompile(`^([A-Za-z0-9\-\_]+,?\s?)+$`)
	nginxCORSExpose  = regexp.MustCompile(`^(([A-Za-z0-9\-\_]+|\*),?\s?)+$`)
	gatewayCORSOrig  = regexp.MustCompile(`(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)`)
	gatewayCORSVerbs = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"}
)

// corsBlock is a cors block of a rule.
type corsBlock struct {
	origins, methods, headers, expose []string
	credentials                       bool
	maxAge                            int32 // 0: not written (the CRD's default)
}

func isCORSAnnotation(name string) bool {
	return name == "enable-cors" || strings.HasPrefix(name, "cors-")
}

// corsSettings translates enable-cors and the cors-* annotations into the
// cors block every backend rule of the Ingress gets, with ingress-nginx's
// defaults written out, and reports each annotation.
func (m *model) corsSettings(in *netv1.Ingress, grpc bool) *corsBlock {
	obj := ref(in)
	a := in.Annotations
	var present []string
	for _, k := range slices.Sorted(maps.Keys(a)) {
		if name, ok := strings.CutPrefix(k, nginx); ok && isCORSAnnotation(name) {
			present = append(present, k)
		}
	}
	if len(present) == 0 {
		return nil
	}
	if enabled, _ := nginxBool(a, "enable-cors"); !enabled {
		for _, k := range present {
			if k == nginx+"enable-cors" {
				m.note(obj, k, Translated, "%q: no CORS, as in ingress-nginx.", a[k])
			} else {
				m.note(obj, k, Dropped, "enable-cors is not \"true\", so ingress-nginx ignores this annotation; nothing to translate.")
			}
		}
		return nil
	}
	if grpc {
		for _, k := range present {
			m.note(obj, k, Dropped, "a GRPCRoute has no CORS filter; browsers calling gRPC-Web need CORS from the gateway's own configuration.")
		}
		return nil
	}
	c := &corsBlock{credentials: true, maxAge: nginxCORSMaxAge}
	var defaults []string
	value := func(name string) (string, bool) {
		v, ok := a[nginx+name]
		return strings.TrimSpace(v), ok && strings.TrimSpace(v) != ""
	}
	// origins
	if v, ok := value("cors-allow-origin"); !ok {
		c.origins = []string{"*"}
		defaults = append(defaults, `allow_origins = ["*"]`)
	} else {
		c.origins = m.corsOrigins(obj, v)
	}
	// methods
	if v, ok := value("cors-allow-methods"); ok && nginxCORSMethod.MatchString(v) {
		for _, x := range splitList(v) {
			x = strings.ToUpper(x)
			switch {
			case !slices.Contains(gatewayCORSVerbs, x):
				m.note(obj, nginx+"cors-allow-methods", Warning, "%q is not an HTTP method Gateway API accepts in allowMethods; left out.", x)
			case !slices.Contains(c.methods, x):
				c.methods = append(c.methods, x)
			}
		}
		m.note(obj, nginx+"cors-allow-methods", Translated, "allow_methods (upper-cased, duplicates removed).")
	} else {
		if ok {
			m.note(obj, nginx+"cors-allow-methods", Warning, "%q does not pass ingress-nginx's check, so ingress-nginx uses its default; so does the import.", v)
		}
		c.methods = nginxCORSMethods
		defaults = append(defaults, "allow_methods = "+strings.Join(nginxCORSMethods, ", "))
	}
	// headers
	if v, ok := value("cors-allow-headers"); ok && nginxCORSHeader.MatchString(v) {
		c.headers = dedupe(splitList(v))
		m.note(obj, nginx+"cors-allow-headers", Translated, "allow_headers.")
	} else {
		if ok {
			m.note(obj, nginx+"cors-allow-headers", Warning, "%q does not pass ingress-nginx's check, so ingress-nginx uses its default; so does the import.", v)
		}
		c.headers = nginxCORSHeaders
		defaults = append(defaults, "allow_headers = "+strings.Join(nginxCORSHeaders, ", "))
	}
	// exposed headers: none by default
	if v, ok := value("cors-expose-headers"); ok {
		if nginxCORSExpose.MatchString(v) {
			c.expose = dedupe(splitList(v))
			m.note(obj, nginx+"cors-expose-headers", Translated, "expose_headers.")
		} else {
			m.note(obj, nginx+"cors-expose-headers", Warning, "%q does not pass ingress-nginx's check, so ingress-nginx exposes no header; neither does the import.", v)
		}
	}
	// credentials: true unless "false"
	if v, ok := value("cors-allow-credentials"); ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			m.note(obj, nginx+"cors-allow-credentials", Warning, "%q is not a boolean; ingress-nginx then allows credentials, and so does the import.", v)
		} else {
			c.credentials = b
			m.note(obj, nginx+"cors-allow-credentials", Translated, "allow_credentials = %t.", b)
		}
	} else {
		defaults = append(defaults, "allow_credentials = true")
	}
	// max age
	if v, ok := value("cors-max-age"); ok {
		n, err := strconv.ParseInt(v, 10, 32)
		switch {
		case err != nil:
			m.note(obj, nginx+"cors-max-age", Warning, "%q is not a number of seconds; ingress-nginx then uses %d, and so does the import.", v, nginxCORSMaxAge)
		case n < 1:
			c.maxAge = 1
			m.note(obj, nginx+"cors-max-age", Warning, "%d: Gateway API needs at least 1 second; max_age = 1 (browsers cache the preflight answer for a second).", n)
		default:
			c.maxAge = int32(n)
			m.note(obj, nginx+"cors-max-age", Translated, "max_age = %d.", n)
		}
	} else {
		defaults = append(defaults, "max_age = 1728000 (20 days)")
	}
	for _, l := range []struct {
		key   string
		items *[]string
	}{{"cors-allow-headers", &c.headers}, {"cors-expose-headers", &c.expose}} {
		if len(*l.items) > 64 {
			m.note(obj, nginx+l.key, Warning, "Gateway API allows at most 64 headers; the first 64 are kept.")
			*l.items = (*l.items)[:64]
		}
	}
	if len(c.origins) == 0 {
		m.note(obj, nginx+"enable-cors", Warning, "no allowed origin is left, so no cors block is written: no cross-origin request is allowed.")
		return nil
	}
	why := "a cors block on every rule of this Ingress."
	if len(defaults) > 0 {
		why += " ingress-nginx's defaults are written out: " + strings.Join(defaults, "; ") + "."
	}
	m.note(obj, nginx+"enable-cors", Translated, "%s", why)
	if slices.Contains(c.origins, "*") && c.credentials {
		m.note(obj, "cors credentials", Warning, "every origin may send credentialed requests (allow_origins = [\"*\"] with allow_credentials = true, ingress-nginx's defaults): the gateway echoes the request's Origin. Narrow allow_origins unless that is intended.")
	}
	return c
}

// corsOrigins splits cors-allow-origin as ingress-nginx does (a "*" allows
// every origin; invalid entries are skipped) and keeps what Gateway API
// accepts.
func (m *model) corsOrigins(obj, v string) []string {
	key := nginx + "cors-allow-origin"
	var out []string
	wildcard := false
	for _, o := range splitList(v) {
		if o == "*" {
			m.note(obj, key, Translated, "allow_origins = [\"*\"].")
			return []string{"*"}
		}
		switch {
		case !nginxCORSOrigin.MatchString(o):
			m.note(obj, key, Warning, "%q is not an origin ingress-nginx accepts (it skips it); left out.", o)
		case !gatewayCORSOrig.MatchString(o) || len(o) > 253:
			m.note(obj, key, Warning, "%q is not an origin Gateway API accepts (scheme://host[:port]); left out.", o)
		case !slices.Contains(out, o):
			out = append(out, o)
			wildcard = wildcard || strings.Contains(o, "*.")
		}
	}
	if len(out) > 0 {
		m.note(obj, key, Translated, "allow_origins.")
	}
	if wildcard {
		m.note(obj, key, Warning, "a wildcard origin (*.) matches one label in ingress-nginx but any number of labels in Gateway API (https://*.example.com also allows https://a.b.example.com).")
	}
	if len(out) > 64 {
		m.note(obj, key, Warning, "Gateway API allows at most 64 origins; the first 64 are kept.")
		out = out[:64]
	}
	return out
}

func splitList(v string) []string {
	var out []string
	for _, x := range strings.Split(v, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

func dedupe(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
