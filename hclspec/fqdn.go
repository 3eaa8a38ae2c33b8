package hclspec

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
)

// domainNamePattern is the ClusterNetworkPolicy DomainName pattern
// (sigs.k8s.io/network-policy-api v1beta1): two or more labels, optionally
// preceded by "*." to match one or more labels, optionally ending in ".".
var domainNamePattern = regexp.MustCompile(`^(\*\.)?([a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.)+[a-zA-Z0-9]([-a-zA-Z0-9_]*[a-zA-Z0-9])?\.?$`)

// validateDomainName says why name is not a domain name the API accepts,
// or "" when it is one.
func validateDomainName(name string) string {
	if domainNamePattern.MatchString(name) {
		return ""
	}
	switch {
	case strings.Contains(name, "*") && !strings.HasPrefix(name, "*."):
		return "'*' may only stand as the whole first label (\"*.example.com\"); it matches one or more entire labels, never part of one"
	case strings.Count(strings.Trim(name, "*."), ".") == 0:
		return "a domain name needs at least two labels (\"api.example.com\"); a single label would match names inside every search domain"
	}
	return "a domain name is labels of letters, digits, '-' and '_' separated by dots, as in \"api.example.com\" or \"*.example.com\""
}

// fqdn("api.stripe.com") and fqdn("*.stripe.com") are destinations outside
// the cluster addressed by domain name: an exact name, or, with "*.", every
// name with one or more labels before the suffix.
var fqdnFunc = function.New(&function.Spec{
	Description: "A destination by domain name; \"*.example.com\" matches every subdomain of example.com.",
	Params:      []function.Parameter{{Name: "name", Type: cty.String}},
	Type:        function.StaticReturnType(endpointType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		name := args[0].AsString()
		if msg := validateDomainName(name); msg != "" {
			return cty.NilVal, function.NewArgError(0, fmt.Errorf("%q: %s", name, msg))
		}
		return endpointVal(map[string]cty.Value{
			"kind": cty.StringVal(string(EndpointFQDN)), "name": cty.StringVal(name),
		}), nil
	},
})

// checkNoFQDN reports domain names where the language cannot use them yet:
// as a source anywhere, and as the destination of an allow, which needs an
// implementation that enforces egress by name (a guardrail's accept egress
// rule can). It returns false when it reported one.
func checkNoFQDN(r *body, sources, destinations []Endpoint) bool {
	return checkFQDN(r, sources, destinations, "")
}

// checkFQDN is checkNoFQDN for an allow under fqdn_egress: with Cilium,
// only exact names, as Cilium's matchPattern wildcards do not mean what
// the API's "*." does.
func checkFQDN(r *body, sources, destinations []Endpoint, fqdnEgress string) bool {
	ok := true
	for _, e := range sources {
		if e.Kind == EndpointFQDN {
			r.errorf(e.Range, "Domain name as a source", "fqdn(%q) is a destination outside the cluster; traffic cannot be matched by the name it comes from.", e.FQDN)
			ok = false
		}
	}
	for _, e := range destinations {
		if e.Kind == EndpointFQDN && fqdnEgress == FQDNCilium && strings.HasPrefix(e.FQDN, "*") {
			r.errorf(e.Range, "Wildcard domain name with Cilium",
				"fqdn(%q): the API's \"*.\" matches one or more labels, Cilium's matchPattern \"*\" does not mean the same; name each host exactly.", e.FQDN)
			ok = false
			continue
		}
		if e.Kind == EndpointFQDN && fqdnEgress == "" {
			r.errorf(e.Range, "No implementation enforces egress by domain name",
				"NetworkPolicy cannot match domain names, so an allow to fqdn(%q) needs an implementation that can, or it would be a silent no-op. If this cluster's network policy implementation enforces ClusterNetworkPolicy domainNames (the API's experimental channel), say so: perimeter { fqdn_egress = %q }.",
				e.FQDN, FQDNClusterNetworkPolicy)
			ok = false
		}
	}
	return ok
}

// FQDNClusterNetworkPolicy is the fqdn_egress setting for clusters whose
// network policy implementation enforces ClusterNetworkPolicy domainNames
// peers (the experimental channel of sigs.k8s.io/network-policy-api).
const FQDNClusterNetworkPolicy = "cluster-network-policy"

// FQDNCilium is the fqdn_egress setting for clusters running Cilium with
// its DNS proxy: an allow's egress by name becomes a CiliumNetworkPolicy
// toFQDNs rule (with the DNS rule Cilium needs to see the lookups).
const FQDNCilium = "cilium"

// fqdnEgress reads the stack's fqdn_egress setting: which implementation
// enforces egress to domain names. There is no default, because guessing
// wrong turns every such rule into a silent no-op.
func fqdnEgress(r *body) string {
	v := r.str("fqdn_egress", "")
	if r.has("fqdn_egress") {
		r.oneOf("fqdn_egress", v, FQDNClusterNetworkPolicy, FQDNCilium)
	}
	return v
}
