package generate

import (
	"reflect"
	"slices"
	"sort"

	"github.com/hashicorp/hcl/v2"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/hclspec"
)

var policyType = metav1.TypeMeta{APIVersion: netv1.SchemeGroupVersion.String(), Kind: "NetworkPolicy"}

// policy is a NetworkPolicy being assembled from one or more HCL blocks.
type policy struct {
	namespace, name string
	purpose         string            // what the policy is for; two purposes may not share a name
	selector        map[string]string // pods the policy applies to; empty = all
	ingressType     bool
	egressType      bool
	ingress         []netv1.NetworkPolicyIngressRule
	egress          []netv1.NetworkPolicyEgressRule
	from            origins
}

func (p *policy) object() *netv1.NetworkPolicy {
	np := &netv1.NetworkPolicy{TypeMeta: policyType, ObjectMeta: metav1.ObjectMeta{Name: p.name, Namespace: p.namespace},
		Spec: netv1.NetworkPolicySpec{PodSelector: selector(p.selector), Ingress: p.ingress, Egress: p.egress}}
	// policyTypes are always explicit: the implicit defaults are a classic
	// source of policies that isolate less (or more) than their author meant.
	if p.ingressType {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, netv1.PolicyTypeIngress)
	}
	if p.egressType {
		np.Spec.PolicyTypes = append(np.Spec.PolicyTypes, netv1.PolicyTypeEgress)
	}
	return np
}

func selector(labels map[string]string) metav1.LabelSelector {
	if len(labels) == 0 {
		return metav1.LabelSelector{}
	}
	return metav1.LabelSelector{MatchLabels: labels}
}

// policySet collects policies by namespace and name.
type policySet struct {
	byKey map[string]*policy
	order []string
}

// get returns the policy ns/name for purpose, creating it. A name already
// taken for another purpose (say, two allow blocks whose labels slug to the
// same name) is reported and yields a detached policy.
func (c *compiler) policy(s *policySet, purpose, ns, name string, sel map[string]string, o hclspec.Origin) *policy {
	key := ns + "/" + name
	if p, ok := s.byKey[key]; ok {
		if p.purpose != purpose {
			c.errorf(o.Range, "Duplicate object name",
				"NetworkPolicy %s is produced by %s and by %s; rename one of them.", key, p.from[0].Block, o.Block)
			return &policy{}
		}
		p.from = append(p.from, o)
		return p
	}
	p := &policy{namespace: ns, name: name, purpose: purpose, selector: sel, from: origins{o}}
	s.byKey[key] = p
	s.order = append(s.order, key)
	return p
}

// policies renders every NetworkPolicy: namespace and workload baselines,
// gateway admission for route backends, both sides of each allow, and DNS
// wherever egress is restricted.
func (c *compiler) policies() {
	set := &policySet{byKey: map[string]*policy{}}
	egressIsolated := map[*hclspec.Service]bool{}
	c.baselines(set, egressIsolated)
	c.gatewayAdmission(set)
	for _, a := range c.in.Allows {
		c.allow(set, a, egressIsolated)
	}
	c.serviceDNS(set, egressIsolated)
	c.dataPlanes(set)
	c.warnIngressIsolation(set)
	sort.Strings(set.order)
	for _, key := range set.order {
		p := set.byKey[key]
		c.add(p.object(), p.from)
	}
}

// Names of baseline policies.
const (
	defaultDenyName = "default-deny"
	allowDNSName    = "allow-dns"
)

func (c *compiler) baselines(set *policySet, egressIsolated map[*hclspec.Service]bool) {
	for _, ns := range c.in.Namespaces {
		if ns.DenyIngress || ns.DenyEgress {
			p := c.policy(set, "baseline", ns.Name, defaultDenyName, nil, ns.Origin)
			p.ingressType, p.egressType = ns.DenyIngress, ns.DenyEgress
		}
		if ns.DNS {
			p := c.policy(set, "dns", ns.Name, allowDNSName, nil, ns.Origin)
			p.egressType = true
			p.egress = append(p.egress, c.dnsRule())
		}
	}
	for _, s := range c.in.Services {
		if !s.DenyIngress && !s.DenyEgress {
			continue
		}
		if !c.requireManaged(s.Namespace, s.Range, "the default_deny of service "+s.Label) {
			continue
		}
		p := c.policy(set, "baseline:"+s.Label, s.Namespace, objectName(s.Name, defaultDenyName), s.Selector, s.Origin)
		p.ingressType, p.egressType = s.DenyIngress, s.DenyEgress
		if s.DenyEgress {
			egressIsolated[s] = true
		}
	}
}

// dnsRule admits cluster DNS on 53/UDP and 53/TCP.
func (c *compiler) dnsRule() netv1.NetworkPolicyEgressRule {
	dns := c.in.ClusterDNS
	return netv1.NetworkPolicyEgressRule{
		To:    []netv1.NetworkPolicyPeer{podsPeer(dns.Namespace, dns.Selector)},
		Ports: ports([]hclspec.PortSpec{{Protocol: "UDP", Port: 53}, {Protocol: "TCP", Port: 53}}),
	}
}

// namespaceDNS reports whether a namespace-wide DNS policy covers ns.
func (c *compiler) namespaceDNS(ns string) bool {
	m := c.managed[ns]
	return m != nil && m.DNS
}

// serviceDNS keeps DNS open for every service whose egress is restricted,
// unless its namespace's DNS policy already does or the service opted out.
func (c *compiler) serviceDNS(set *policySet, egressIsolated map[*hclspec.Service]bool) {
	for _, s := range c.in.Services {
		if !egressIsolated[s] || !s.DNS || c.namespaceDNS(s.Namespace) {
			continue
		}
		p := c.policy(set, "dns:"+s.Label, s.Namespace, objectName(s.Name, allowDNSName), s.Selector, s.Origin)
		p.egressType = true
		p.egress = append(p.egress, c.dnsRule())
	}
}

// requireManaged reports an error when a policy is needed in a namespace the
// stack does not manage.
func (c *compiler) requireManaged(ns string, rng hcl.Range, what string) bool {
	if c.managed[ns] != nil {
		return true
	}
	c.errorf(rng, "Namespace not managed",
		"%s needs a NetworkPolicy in namespace %q, which this stack does not manage. Add namespace %q {} to manage it (perimeter then owns policies there).",
		what, ns, ns)
	return false
}

// gatewayAdmission admits each gateway's data-plane pods to every backend
// of every route attached to it, on the backend's target port: a route can
// never be blackholed by a default-deny policy.
func (c *compiler) gatewayAdmission(set *policySet) {
	type attach struct {
		parents  []hclspec.ParentRef
		backends []hclspec.Backend
		origin   hclspec.Origin
	}
	var all []attach
	for _, r := range c.in.HTTPRoutes {
		for _, rule := range r.Rules {
			all = append(all, attach{r.Parents, rule.Backends, r.Origin})
		}
	}
	for _, r := range c.in.GRPCRoutes {
		for _, rule := range r.Rules {
			all = append(all, attach{r.Parents, rule.Backends, r.Origin})
		}
	}
	for _, r := range c.in.L4Routes {
		all = append(all, attach{r.Parents, r.Backends, r.Origin})
	}
	for _, a := range all {
		for _, p := range a.parents {
			for _, b := range a.backends {
				s := b.Service
				if !c.requireManaged(s.Namespace, b.Range, "Admitting gateway "+p.Gateway.Label+" to service "+s.Label) {
					continue
				}
				name := objectName(s.Name, "from-gateway", p.Gateway.Label)
				// keyed by the Kubernetes Service, not the block: two blocks
				// for two ports of one Service (53/tcp and 53/udp) share the
				// policy, which admits both ports
				purpose := "gateway:" + p.Gateway.Label + ":" + s.Namespace + "/" + s.Name + ":" + hclMap(s.Selector)
				pol := c.policy(set, purpose, s.Namespace, name, s.Selector, a.origin)
				if pol.ingressType {
					addPorts(&pol.ingress[0], ports([]hclspec.PortSpec{targetPort(s)}))
					continue // already admitted by an earlier rule or route
				}
				pol.from = append(pol.from, p.Gateway.Origin)
				pol.ingressType = true
				pol.ingress = []netv1.NetworkPolicyIngressRule{{
					From:  []netv1.NetworkPolicyPeer{podsPeer(p.Gateway.DataPlane.Namespace, p.Gateway.DataPlane.Selector)},
					Ports: ports([]hclspec.PortSpec{targetPort(s)}),
				}}
				c.exposed = append(c.exposed, s)
			}
		}
	}
}

// warnIngressIsolation tells the user that exposing a service through a
// gateway isolates it for ingress where nothing else did (no default_deny,
// no allow, no policy block): pods that reached it before without an allow
// block no longer can. It runs once every policy is known.
func (c *compiler) warnIngressIsolation(set *policySet) {
	warned := map[*hclspec.Service]bool{}
	for _, s := range c.exposed {
		if !warned[s] && !c.isolatesBesidesGateways(set, hclspec.PodSet{Namespace: s.Namespace, Selector: s.Selector}) {
			c.warnExposedIsolation(s)
		}
		warned[s] = true
	}
}

func (c *compiler) warnExposedIsolation(s *hclspec.Service) {
	c.warnf(s.Range, "Service becomes isolated for ingress",
		"The gateway admission policy selects the pods of %q; from then on only the gateway and allow blocks naming it as destination may reach them. Add default_deny = [\"ingress\"] to namespace %q or to the service to make this explicit.",
		s.Label, s.Namespace)
}

// addPorts adds to a rule the ports it does not list yet.
func addPorts(rule *netv1.NetworkPolicyIngressRule, ps []netv1.NetworkPolicyPort) {
	for _, p := range ps {
		if !slices.ContainsFunc(rule.Ports, func(q netv1.NetworkPolicyPort) bool { return reflect.DeepEqual(p, q) }) {
			rule.Ports = append(rule.Ports, p)
		}
	}
}

func targetPort(s *hclspec.Service) hclspec.PortSpec {
	return hclspec.PortSpec{Protocol: s.Protocol, Port: s.TargetPort.Number, Name: s.TargetPort.Name}
}

// podsPeer selects pods by labels in one namespace.
func podsPeer(ns string, labels map[string]string) netv1.NetworkPolicyPeer {
	sel := selector(labels)
	return netv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{namespaceNameLabel: ns}},
		PodSelector:       &sel,
	}
}

func ports(specs []hclspec.PortSpec) []netv1.NetworkPolicyPort {
	var out []netv1.NetworkPolicyPort
	for _, s := range specs {
		proto := corev1.Protocol(s.Protocol)
		p := netv1.NetworkPolicyPort{Protocol: &proto}
		switch {
		case s.Name != "":
			v := intstr.FromString(s.Name)
			p.Port = &v
		case s.Port != 0:
			v := intstr.FromInt32(s.Port)
			p.Port = &v
			if s.EndPort != 0 {
				end := s.EndPort
				p.EndPort = &end
			}
		}
		out = append(out, p)
	}
	return out
}
