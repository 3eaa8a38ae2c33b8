package lint

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/reach"
)

// Intent lints an intent and the objects it compiles to: managed
// namespaces leaving egress open, workloads whose egress is restricted
// without DNS, allow ports that match no target port of the destination
// service, and policy rules made redundant by broader ones.
func Intent(in *hclspec.Intent, objs []*unstructured.Unstructured) []Finding {
	return intentWith(in, objs, nil)
}

// intentWith is Intent converting the policies through t.
func intentWith(in *hclspec.Intent, objs []*unstructured.Unstructured, t *reach.Typed) []Finding {
	var out []Finding
	w := engineFor(in, objs, t)
	if w != nil {
		out = append(out, egressOpen(in, w)...)
		out = append(out, egressWithoutDNS(in, w)...)
		out = append(out, isolatedByAllow(in, w)...)
		out = append(out, shadowedAllows(in, w)...)
		out = append(out, shadowedBaselines(in, w)...)
	}
	out = append(out, allowPorts(in)...)
	policies := policiesOf(objs, t)
	out = append(out, redundant(policies, origins(in), userRule)...)
	return sortFindings(out)
}

// egressOpen warns at each managed namespace some of whose pods no policy
// isolates for egress: an unlabelled pod there may send anything anywhere.
// (A namespace isolated by an allow from namespace.X is not open.)
func egressOpen(in *hclspec.Intent, w *reach.Intent) []Finding {
	var out []Finding
	for _, n := range in.Namespaces {
		ns := hclspec.Endpoint{Kind: hclspec.EndpointNamespace, Namespace: n.Name}
		if n.DenyEgress || Isolated(w, ns, "egress") || closedByTier(w, ns) {
			continue
		}
		r := n.Range
		out = append(out, Finding{Summary: "Egress left open", Source: generate.Source(r), Range: &r, Block: n.Block,
			Detail: fmt.Sprintf("Pods in managed namespace %q may send traffic anywhere, including the cloud metadata service. Add \"egress\" to default_deny (DNS stays open) and allow what they need.", n.Name)})
	}
	return out
}

// egressWithoutDNS warns at each service whose egress the compiled
// policies restrict without admitting cluster DNS (not where that depends
// on labels its pods may or may not carry). A namespace denying
// egress with dns = false is already reported by hclspec.
func egressWithoutDNS(in *hclspec.Intent, w *reach.Intent) []Finding {
	dns, err := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointPods, Namespace: in.ClusterDNS.Namespace, PodSelector: in.ClusterDNS.Selector})
	if err != nil {
		return nil
	}
	var out []Finding
	for _, s := range in.Services {
		if !s.DNSSet || s.DNS {
			continue // perimeter keeps DNS open unless told otherwise
		}
		if ns := namespaceOf(in, s.Namespace); ns != nil && ns.DenyEgress && !ns.DNS {
			continue
		}
		from, _ := w.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: s, Namespace: s.Namespace})
		v := w.Evaluate(from, dns, reach.Port{Number: 53, Protocol: corev1.ProtocolUDP})
		if v.Egress.Allowed() || len(v.Egress.MaybeIsolatedBy) > 0 {
			continue // open, or decided by labels its pods may carry
		}
		r := s.Range
		out = append(out, Finding{Summary: "Egress denied without DNS", Source: generate.Source(r), Range: &r, Block: s.Block,
			Detail: fmt.Sprintf("service.%s cannot resolve names: its egress is restricted and no policy admits DNS (53/UDP to %s). If that is intended, connect by IP block only; otherwise remove dns = false.", s.Label, in.ClusterDNS.Namespace)})
	}
	return out
}

func namespaceOf(in *hclspec.Intent, name string) *hclspec.Namespace {
	for _, n := range in.Namespaces {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// allowPorts warns when an allow's ports to a service match none of its
// target (pod) port: the allow opens nothing on the port the service's pods
// listen on. A Service port given instead is reported by hclspec.
func allowPorts(in *hclspec.Intent) []Finding {
	var out []Finding
	for _, a := range in.Allows {
		if len(a.Ports) == 0 {
			continue
		}
		for _, t := range a.To {
			if t.Kind != hclspec.EndpointService || coversTarget(a.Ports, t.Service) || listsServicePort(a.Ports, t.Service) {
				continue
			}
			r := a.Range
			out = append(out, Finding{Summary: "Port matches no target port", Source: generate.Source(r), Range: &r, Block: a.Block,
				Detail: fmt.Sprintf("None of the ports %s is the pod port of service.%s (%s/%s), so this allow does not open the connection.",
					portList(a.Ports), t.Service.Label, t.Service.TargetPort, strings.ToUpper(proto(t.Service.Protocol)))})
		}
	}
	return out
}

// coversTarget reports whether some port covers the service's target port;
// names resolve through the service's declared ports, and a named target
// port whose number is not declared counts as covered by any numeric port.
func coversTarget(ports []hclspec.PortSpec, s *hclspec.Service) bool {
	for _, p := range ports {
		if !strings.EqualFold(p.Protocol, proto(s.Protocol)) {
			continue
		}
		tp := s.TargetPort
		if n, ok := s.Ports[tp.Name]; ok {
			tp = hclspec.PortRef{Number: n}
		}
		if n, ok := s.Ports[p.Name]; ok && p.Name != "" && tp.Name == "" {
			p = hclspec.PortSpec{Protocol: p.Protocol, Port: n}
		}
		switch {
		case p.Name != "":
			if p.Name == tp.Name {
				return true
			}
		case p.Port == 0, tp.Name != "":
			return true
		case p.EndPort != 0 && tp.Number >= p.Port && tp.Number <= p.EndPort, p.EndPort == 0 && tp.Number == p.Port:
			return true
		}
	}
	return false
}

// listsServicePort mirrors hclspec's "Service port in a NetworkPolicy"
// warning, so one mistake is reported once.
func listsServicePort(ports []hclspec.PortSpec, s *hclspec.Service) bool {
	if s.TargetPort.Number == s.Port {
		return false
	}
	for _, p := range ports {
		if p.Name == "" && p.EndPort == 0 && p.Port == s.Port {
			return true
		}
	}
	return false
}

func proto(p string) string {
	if p == "" {
		return "tcp"
	}
	return p
}

func portList(ps []hclspec.PortSpec) string {
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ", ")
}

// userRule keeps redundancy findings the user can act on: rules perimeter
// derives from routes (admitting a gateway's data plane) are left out.
func userRule(a, _ *policy) bool {
	return !strings.Contains(annotation(a.obj, ownership.AnnotationBlock), "gateway \"")
}
