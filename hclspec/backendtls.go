package hclspec

import (
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

var backendTLSSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "hostname", Required: true}, {Name: "ca_certificates"}, {Name: "well_known_ca"}, {Name: "port_name"},
}}

// wellKnownCA is the BackendTLSPolicy WellKnownCACertificatesType pattern:
// "System" or an implementation-specific domain-prefixed name.
var wellKnownCA = regexp.MustCompile(`^(System|([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]))$`)

// backendTLS reads a service's backend_tls block: the gateway speaks TLS to
// the service's pods and validates their certificate for hostname, with CA
// certificates from ConfigMaps in the service's namespace or a well-known
// CA set. It applies the BackendTLSPolicy CRD's validation.
func (d *decoder) backendTLS(r *body, b *hcl.Block) *BackendTLS {
	br := open(b.Body, backendTLSSchema, d.ctx, b.DefRange)
	t := &BackendTLS{Hostname: br.str("hostname", ""), CACertificates: br.strList("ca_certificates"),
		WellKnownCA: br.str("well_known_ca", ""), PortName: br.str("port_name", ""), Range: b.DefRange}
	if br.has("hostname") && t.Hostname != "" {
		if msg := validateHostname(t.Hostname); msg != "" || strings.HasPrefix(t.Hostname, "*") {
			br.errorf(br.attrRange("hostname"), "Invalid hostname",
				"%q must be a precise hostname (no wildcard): the name the gateway sends as SNI and checks the backend's certificate against.", t.Hostname)
		}
	}
	switch {
	case len(t.CACertificates) > 0 && t.WellKnownCA != "":
		br.errorf(br.attrRange("well_known_ca"), "Conflicting CA certificates", "Set ca_certificates (ConfigMaps with a ca.crt key) or well_known_ca, not both.")
	case len(t.CACertificates) == 0 && t.WellKnownCA == "" && !br.diags.HasErrors():
		br.errorf(b.DefRange, "Missing CA certificates",
			"backend_tls needs ca_certificates = [\"CONFIGMAP\"] (ConfigMaps in the service's namespace with a ca.crt key) or well_known_ca = \"System\": a BackendTLSPolicy always validates the backend's certificate.")
	}
	if len(t.CACertificates) > 8 {
		br.errorf(br.attrRange("ca_certificates"), "Too many CA certificates", "A BackendTLSPolicy names at most 8 CA certificate ConfigMaps.")
	}
	seen := map[string]bool{}
	for _, name := range t.CACertificates {
		if msg := validateObjectName(name); msg != "" {
			br.errorf(br.attrRange("ca_certificates"), "Invalid ConfigMap name", "%q: %s.", name, msg)
		}
		if seen[name] {
			br.errorf(br.attrRange("ca_certificates"), "Duplicate value", "\"ca_certificates\" lists %q twice.", name)
		}
		seen[name] = true
	}
	if t.WellKnownCA != "" && !wellKnownCA.MatchString(t.WellKnownCA) {
		br.errorf(br.attrRange("well_known_ca"), "Invalid well-known CA", "%q must be \"System\" or an implementation's domain-prefixed name such as \"example.com/internal-ca\".", t.WellKnownCA)
	}
	if t.PortName != "" {
		if msg := validateDNSLabel(t.PortName); msg != "" {
			br.errorf(br.attrRange("port_name"), "Invalid port name", "%q is not a Service port name: %s.", t.PortName, msg)
		}
	}
	r.diags = append(r.diags, br.diags...)
	return t
}
