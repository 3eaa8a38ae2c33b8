package importer

import (
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"
)

// preciseHostname is the Gateway API PreciseHostname pattern, without IP
// addresses (which a BackendTLSPolicy hostname must not be).
var preciseHostname = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$`)

var ipAddress = regexp.MustCompile(`^[0-9]+(\.[0-9]+){3}$`)

// backendTLS is a service block's backend_tls block.
type backendTLS struct {
	hostname  string
	caCerts   []string // ConfigMaps with ca.crt
	wellKnown string   // "System"
	from      string   // the object it was read from, for conflict reports
}

func (t *backendTLS) equal(o *backendTLS) bool {
	return t.hostname == o.hostname && strings.Join(t.caCerts, ",") == strings.Join(o.caCerts, ",") && t.wellKnown == o.wellKnown
}

// isProxySSLAnnotation names the proxy-ssl-* annotations read with
// backend-protocol.
func isProxySSLAnnotation(name string) bool {
	switch name {
	case "proxy-ssl-name", "proxy-ssl-secret", "proxy-ssl-verify", "proxy-ssl-server-name":
		return true
	}
	return false
}

// backendTLSSettings reads backend-protocol HTTPS or GRPCS with
// proxy-ssl-name, proxy-ssl-secret, proxy-ssl-verify and
// proxy-ssl-server-name into the backend_tls block the Ingress's backend
// services get, and reports each of them. BackendTLSPolicy always validates
// the backend's certificate, while ingress-nginx does not unless
// proxy-ssl-verify is "on": that difference is a warning.
func (m *model) backendTLSSettings(in *netv1.Ingress) *backendTLS {
	obj := ref(in)
	a := in.Annotations
	proto := strings.ToUpper(a[nginx+"backend-protocol"])
	tlsBackend := proto == "HTTPS" || proto == "GRPCS"
	var present []string
	for _, k := range []string{"proxy-ssl-name", "proxy-ssl-secret", "proxy-ssl-server-name", "proxy-ssl-verify"} {
		if _, ok := a[nginx+k]; ok {
			present = append(present, nginx+k)
		}
	}
	if !tlsBackend {
		for _, k := range present {
			m.note(obj, k, Dropped, "the backends speak plain %s (backend-protocol), so ingress-nginx does not use TLS to them; nothing to translate.", or(proto, "HTTP"))
		}
		return nil
	}
	t := &backendTLS{from: obj}
	if name := strings.TrimSpace(a[nginx+"proxy-ssl-name"]); name != "" {
		if preciseHostname.MatchString(name) && !ipAddress.MatchString(name) && len(name) <= 253 {
			t.hostname = name
			m.note(obj, nginx+"proxy-ssl-name", Translated, "backend_tls { hostname = %q }: the SNI sent and the name the backend's certificate must carry.", name)
		} else {
			m.note(obj, nginx+"proxy-ssl-name", Warning, "%q is not a hostname a BackendTLSPolicy accepts (lower-case DNS name, no wildcard, no IP address); SERVICE.NAMESPACE.svc is written instead.", name)
		}
	}
	if secret := strings.TrimSpace(a[nginx+"proxy-ssl-secret"]); secret != "" {
		ns, name, ok := strings.Cut(secret, "/")
		if !ok {
			ns, name = in.Namespace, secret
		}
		t.caCerts = []string{name}
		m.note(obj, nginx+"proxy-ssl-secret", Warning, "backend_tls { ca_certificates = [%q] }: a BackendTLSPolicy reads the CA bundle from a ConfigMap, not a Secret. Create ConfigMap %q with the ca.crt of Secret %s/%s in the namespace of each backend service. A client certificate in that Secret (tls.crt, tls.key: mutual TLS to the backend) has no standard-channel equivalent and is not sent.", name, name, ns, name)
	} else {
		t.wellKnown = "System"
	}
	verify := a[nginx+"proxy-ssl-verify"] == "on"
	switch {
	case verify:
		m.note(obj, nginx+"proxy-ssl-verify", Translated, "\"on\": the backend's certificate is validated, as a BackendTLSPolicy always does.")
	default:
		item := nginx + "proxy-ssl-verify"
		if _, set := a[item]; !set {
			item = nginx + "backend-protocol"
		}
		state := "off by default"
		if v, set := a[nginx+"proxy-ssl-verify"]; set {
			state = strconv.Quote(v)
		}
		m.note(obj, item, Warning, "ingress-nginx does not verify the backend's certificate (proxy-ssl-verify is %s), but a BackendTLSPolicy always does. Before applying, check that each backend serves a certificate for %s, signed by %s; otherwise the gateway answers 502 or 503.",
			state, t.hostnameText(), t.caText())
	}
	if v, ok := a[nginx+"proxy-ssl-server-name"]; ok {
		if v == "on" {
			m.note(obj, nginx+"proxy-ssl-server-name", Translated, "\"on\": the gateway sends the hostname as SNI, as a BackendTLSPolicy always does.")
		} else {
			m.note(obj, nginx+"proxy-ssl-server-name", Warning, "%q: ingress-nginx sends no SNI, but a BackendTLSPolicy always sends the hostname as SNI; check that the backend accepts it.", v)
		}
	}
	if t.hostname == "" {
		m.note(obj, "backend TLS hostname", Warning, "proxy-ssl-name is not set: ingress-nginx checks the certificate (when it does) against the upstream's internal name. backend_tls { hostname } is required: the import writes SERVICE.NAMESPACE.svc; set it to the name in the backend's certificate.")
	}
	if t.wellKnown != "" {
		m.note(obj, "backend TLS CA", Warning, "proxy-ssl-secret is not set: backend_tls { well_known_ca = \"System\" } validates the backend's certificate against the gateway's system CAs; a backend with a private CA needs ca_certificates instead.")
	}
	return t
}

func (t *backendTLS) hostnameText() string {
	if t.hostname == "" {
		return "SERVICE.NAMESPACE.svc (the hostname written for it)"
	}
	return t.hostname
}

func (t *backendTLS) caText() string {
	if t.wellKnown != "" {
		return "a CA the gateway trusts by default (System)"
	}
	return "the CA in ConfigMap " + t.caCerts[0]
}

// setBackendTLS gives a service block the Ingress's backend TLS settings;
// a service reached by Ingresses with different settings keeps the first.
func (m *model) setBackendTLS(s *service, t *backendTLS) {
	out := *t
	if out.hostname == "" {
		out.hostname = s.name + "." + s.ns + ".svc"
	}
	switch {
	case s.tls == nil:
		s.tls = &out
	case !s.tls.equal(&out):
		m.note("Service "+s.ns+"/"+s.name, "backend TLS", Warning, "%s and %s set different backend TLS settings for it; the settings of %s are kept.", s.tls.from, out.from, s.tls.from)
	}
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// backendTLSPolicies attaches existing BackendTLSPolicies to the service
// blocks of the Services they target (a named port's block when the target
// names one). Only what backend_tls expresses is imported: ConfigMap CA
// references or a well-known CA set, and the hostname.
func (m *model) backendTLSPolicies() {
	for _, p := range m.inBackendTLS {
		obj := "BackendTLSPolicy " + p.Namespace + "/" + p.Name
		v := p.Spec.Validation
		t := &backendTLS{hostname: string(v.Hostname), from: obj}
		for _, ref := range v.CACertificateRefs {
			if ref.Group != "" || ref.Kind != "ConfigMap" {
				m.note(obj, "spec.validation.caCertificateRefs", Dropped, "%s %s: only ConfigMap CA certificates are expressible (backend_tls { ca_certificates }); the policy is not imported.", ref.Kind, ref.Name)
				t = nil
				break
			}
			t.caCerts = append(t.caCerts, string(ref.Name))
		}
		if t == nil {
			continue
		}
		if v.WellKnownCACertificates != nil {
			t.wellKnown = string(*v.WellKnownCACertificates)
		}
		if len(v.SubjectAltNames) > 0 {
			m.note(obj, "spec.validation.subjectAltNames", Dropped, "subject alternative names are not expressible; the certificate is checked against the hostname instead. Add them to the rendered policy by hand if needed.")
		}
		if len(p.Spec.Options) > 0 {
			m.note(obj, "spec.options", Dropped, "implementation-specific TLS options are not expressible.")
		}
		attached := false
		for i, ref := range p.Spec.TargetRefs {
			if ref.Group != "" || ref.Kind != "Service" {
				m.note(obj, "spec.targetRefs["+strconv.Itoa(i)+"]", Dropped, "%s %s: only Services can be targeted from the intent.", ref.Kind, ref.Name)
				continue
			}
			section := ""
			if ref.SectionName != nil {
				section = string(*ref.SectionName)
			}
			for _, s := range m.targetBlocks(p.Namespace, string(ref.Name), section) {
				m.setBackendTLS(s, t)
				attached = true
			}
		}
		if attached {
			m.note(obj, "", Translated, "backend_tls on the service blocks of the Services it targets.")
		} else {
			m.note(obj, "", Dropped, "it targets no Service in the input with the port it names; write backend_tls on the service block by hand.")
		}
	}
}

// targetBlocks returns the service blocks for Service ns/name: those already
// used by routes, else one per port of the Service in the input; only the
// port named section when it is set.
func (m *model) targetBlocks(ns, name, section string) []*service {
	var out []*service
	for _, k := range slices.Sorted(maps.Keys(m.blocks)) {
		s := m.blocks[k]
		if s.ns == ns && s.name == name && (section == "" || s.portName == section) {
			out = append(out, s)
		}
	}
	if len(out) > 0 {
		return out
	}
	svc := m.services[ns+"/"+name]
	if svc == nil {
		return nil
	}
	for _, p := range svc.Spec.Ports {
		if section == "" || p.Name == section {
			out = append(out, m.serviceBlockFor(svc, p))
		}
	}
	return out
}
