package generate

import (
	"strconv"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// CiliumNetworkPolicyKind is what an allow's egress by name compiles to
// with fqdn_egress = "cilium". It is written as an unstructured object:
// the schema is Cilium's CRD (cilium.io/v2), and importing Cilium's Go
// module for one struct would pull in most of Cilium.
var CiliumNetworkPolicyKind = schema.GroupVersionKind{Group: "cilium.io", Version: "v2", Kind: "CiliumNetworkPolicy"}

// ciliumNamespaceLabel is how Cilium's endpoint selectors name a pod's
// namespace.
const ciliumNamespaceLabel = "k8s:io.kubernetes.pod.namespace"

// ciliumAllows renders, for each allow with fqdn() destinations and each
// of its sources, a CiliumNetworkPolicy: a toFQDNs rule for the names (on
// the allow's ports) and the DNS rule through Cilium's DNS proxy that lets
// it learn the names' addresses. The allow's egress NetworkPolicy still
// selects the source, so the rest of its egress stays denied.
func (c *compiler) ciliumAllows() {
	for _, a := range c.in.Allows {
		var names []any
		for _, t := range a.To {
			if t.Kind == hclspec.EndpointFQDN {
				names = append(names, map[string]any{"matchName": t.FQDN})
			}
		}
		if len(names) == 0 {
			continue
		}
		n := subjects(a.From)
		for i, src := range a.From {
			if !isSubject(src) || c.managed[src.Namespace] == nil {
				continue
			}
			c.add(c.ciliumPolicy(a, src, subjectPolicyName(slug(a.Label), "fqdn", src, i, n), names), origins{a.Origin})
		}
	}
}

func (c *compiler) ciliumPolicy(a *hclspec.Allow, src hclspec.Endpoint, name string, names []any) *unstructured.Unstructured {
	byName := map[string]any{"toFQDNs": names}
	if ports := ciliumPorts(a.Ports); len(ports) > 0 {
		byName["toPorts"] = []any{map[string]any{"ports": ports}}
	}
	dnsLabels := map[string]any{ciliumNamespaceLabel: c.in.ClusterDNS.Namespace}
	for k, v := range c.in.ClusterDNS.Selector {
		dnsLabels[k] = v
	}
	dns := map[string]any{
		"toEndpoints": []any{map[string]any{"matchLabels": dnsLabels}},
		"toPorts": []any{map[string]any{
			"ports": []any{map[string]any{"port": "53", "protocol": "ANY"}},
			"rules": map[string]any{"dns": []any{map[string]any{"matchPattern": "*"}}},
		}},
	}
	selector := map[string]any{}
	if sel := subjectSelector(src); len(sel) > 0 {
		labels := map[string]any{}
		for k, v := range sel {
			labels[k] = v
		}
		selector["matchLabels"] = labels
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"spec": map[string]any{"endpointSelector": selector, "egress": []any{byName, dns}},
	}}
	u.SetGroupVersionKind(CiliumNetworkPolicyKind)
	u.SetName(name)
	u.SetNamespace(src.Namespace)
	return u
}

// ciliumPorts writes ports as Cilium's PortProtocol: port "0" is every
// port of the protocol.
func ciliumPorts(ps []hclspec.PortSpec) []any {
	var out []any
	for _, p := range ps {
		pp := map[string]any{"port": strconv.Itoa(int(p.Port)), "protocol": p.Protocol}
		if p.Name != "" {
			pp["port"] = p.Name
		}
		if p.EndPort != 0 {
			pp["endPort"] = int64(p.EndPort)
		}
		out = append(out, pp)
	}
	return out
}
