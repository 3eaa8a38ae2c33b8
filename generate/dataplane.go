package generate

import (
	"fmt"
	"sort"
	"strings"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// wellKnownPortShift is what Envoy Gateway adds to a privileged listener
// port (below 1024) to get the port its proxy container binds, so that the
// proxy needs no CAP_NET_BIND_SERVICE. An EnvoyProxy resource may turn the
// shift off, so both ports are admitted.
const wellKnownPortShift = 10000

// gatewayRoute is a backend a gateway forwards to, and the route behind it.
type gatewayRoute struct {
	backend *hclspec.Service
	route   hclspec.Origin
}

// dataPlanes keeps every gateway's own pods working where the stack
// isolates them: when a policy of the compiled set (a default_deny, an
// allow, a policy block) isolates the data plane for egress, it gets egress
// to every backend of every route attached to it on the backend's target
// port; when one isolates it for ingress, it gets ingress from its clients
// on its listener ports. Without this a managed data-plane namespace
// blackholes every route through the gateway.
func (c *compiler) dataPlanes(set *policySet) {
	backends := c.gatewayBackends()
	for _, g := range c.in.Gateways {
		dp := g.DataPlane
		if c.managed[dp.Namespace] == nil {
			continue
		}
		if c.isolates(set, dp, netv1.PolicyTypeEgress) {
			c.dataPlaneEgress(set, g, backends[g])
		}
		c.controlPlaneIngress(set, g)
		if c.isolates(set, dp, netv1.PolicyTypeIngress) {
			c.dataPlaneIngress(set, g)
		}
	}
}

// gatewayBackends lists, per gateway, the distinct backends of the routes
// attached to it, sorted by namespace and name.
func (c *compiler) gatewayBackends() map[*hclspec.Gateway][]gatewayRoute {
	out := map[*hclspec.Gateway][]gatewayRoute{}
	seen := map[*hclspec.Gateway]map[*hclspec.Service]bool{}
	add := func(parents []hclspec.ParentRef, backends []hclspec.Backend, o hclspec.Origin) {
		for _, p := range parents {
			if seen[p.Gateway] == nil {
				seen[p.Gateway] = map[*hclspec.Service]bool{}
			}
			for _, b := range backends {
				if !seen[p.Gateway][b.Service] {
					seen[p.Gateway][b.Service] = true
					out[p.Gateway] = append(out[p.Gateway], gatewayRoute{b.Service, o})
				}
			}
		}
	}
	for _, r := range c.in.HTTPRoutes {
		for _, rule := range r.Rules {
			add(r.Parents, rule.Backends, r.Origin)
		}
	}
	for _, r := range c.in.GRPCRoutes {
		for _, rule := range r.Rules {
			add(r.Parents, rule.Backends, r.Origin)
		}
	}
	for _, r := range c.in.L4Routes {
		add(r.Parents, r.Backends, r.Origin)
	}
	for _, list := range out {
		sort.SliceStable(list, func(i, j int) bool {
			a, b := list[i].backend, list[j].backend
			return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
		})
	}
	return out
}

func (c *compiler) dataPlaneEgress(set *policySet, g *hclspec.Gateway, backends []gatewayRoute) {
	dp := g.DataPlane
	p := c.policy(set, "gateway-egress:"+g.Label, dp.Namespace, objectName("gateway", slug(g.Label), "proxy-egress"), dp.Selector, g.Origin)
	p.egressType = true
	if cp, ok := ControlPlane(g); ok {
		p.egress = append(p.egress, netv1.NetworkPolicyEgressRule{
			To: []netv1.NetworkPolicyPeer{podsPeer(cp.Pods.Namespace, cp.Pods.Selector)}, Ports: ports([]hclspec.PortSpec{cp.Port}),
		})
	}
	for _, b := range backends {
		p.from = append(p.from, b.route)
		p.egress = append(p.egress, netv1.NetworkPolicyEgressRule{
			To:    []netv1.NetworkPolicyPeer{podsPeer(b.backend.Namespace, b.backend.Selector)},
			Ports: ports([]hclspec.PortSpec{targetPort(b.backend)}),
		})
	}
}

// ControlPlaneOf is where a gateway's proxies fetch their configuration
// (xDS): the controller's pods and port.
type ControlPlaneOf struct {
	Pods hclspec.PodSet
	Port hclspec.PortSpec
}

// ControlPlane is the xDS server of a known implementation: Envoy Gateway's
// controller (control-plane=envoy-gateway, 18000/TCP, in the proxies'
// namespace) or istiod (app=istiod, 15012/TCP, in istio-system). A proxy
// cut off from it never learns a route. A custom implementation's is not
// known.
func ControlPlane(g *hclspec.Gateway) (ControlPlaneOf, bool) {
	switch g.Implementation {
	case hclspec.EnvoyGateway:
		return ControlPlaneOf{hclspec.PodSet{Namespace: g.DataPlane.Namespace, Selector: map[string]string{"control-plane": "envoy-gateway"}},
			hclspec.PortSpec{Protocol: "TCP", Port: 18000}}, true
	case hclspec.Istio:
		return ControlPlaneOf{hclspec.PodSet{Namespace: "istio-system", Selector: map[string]string{"app": "istiod"}},
			hclspec.PortSpec{Protocol: "TCP", Port: 15012}}, true
	}
	return ControlPlaneOf{}, false
}

// controlPlaneIngress admits a gateway's proxies to its controller's xDS
// port where the stack isolates the controller for ingress.
func (c *compiler) controlPlaneIngress(set *policySet, g *hclspec.Gateway) {
	cp, ok := ControlPlane(g)
	if !ok || c.managed[cp.Pods.Namespace] == nil {
		return
	}
	if c.isolates(set, cp.Pods, netv1.PolicyTypeEgress) && !c.egressToIPBlock(set, cp.Pods) && !c.warnedControlPlane[cp.Pods.Namespace] {
		c.warnedControlPlane[cp.Pods.Namespace] = true
		c.warnf(g.Range, "Gateway controller egress restricted",
			"The stack isolates the %s controller (pods %s in %q) for egress. It must still reach the Kubernetes API server, whose address this stack does not know; add allow { from = pods(%q, %s) to = cidr(\"<API server>/32\") ports = [\"443/tcp\"] } or routes stop being programmed.",
			g.Implementation, hclMap(cp.Pods.Selector), cp.Pods.Namespace, cp.Pods.Namespace, hclMap(cp.Pods.Selector))
	}
	if !c.isolates(set, cp.Pods, netv1.PolicyTypeIngress) {
		return
	}
	p := c.policy(set, "xds:"+cp.Pods.Namespace, cp.Pods.Namespace, objectName(string(g.Implementation), "xds-from-proxies"), cp.Pods.Selector, g.Origin)
	p.ingressType = true
	p.ingress = append(p.ingress, netv1.NetworkPolicyIngressRule{
		From: []netv1.NetworkPolicyPeer{podsPeer(g.DataPlane.Namespace, g.DataPlane.Selector)}, Ports: ports([]hclspec.PortSpec{cp.Port}),
	})
}

func (c *compiler) dataPlaneIngress(set *policySet, g *hclspec.Gateway) {
	dp := g.DataPlane
	p := c.policy(set, "gateway-ingress:"+g.Label, dp.Namespace, objectName("gateway", slug(g.Label), "proxy-ingress"), dp.Selector, g.Origin)
	p.ingressType = true
	var peers []netv1.NetworkPolicyPeer
	for _, e := range g.Clients {
		peers = append(peers, peer(e))
	}
	listen := DataPlanePorts(g)
	if len(listen) == 0 {
		c.warnf(g.Range, "Gateway listener ports unknown",
			"Namespace %q isolates the data plane of gateway %q for ingress, and the gateway's listener ports are not known to this stack, so its clients are admitted on every TCP port. Declare listener_ports = [443] to narrow it.",
			dp.Namespace, g.Label)
		listen = append([]hclspec.PortSpec{{Protocol: "TCP"}}, udpSetPorts(g)...)
	}
	p.ingress = append(p.ingress, netv1.NetworkPolicyIngressRule{From: peers, Ports: ports(listen)})
}

// DataPlanePorts are the pod ports a gateway's data plane listens on for
// its clients: each listener port (a managed gateway's listener blocks, or
// listener_ports, and the listeners of the stack's listener sets), and for
// Envoy Gateway the shifted port of a privileged one as well. Empty when
// the intent does not know the Gateway's own ports.
func DataPlanePorts(g *hclspec.Gateway) []hclspec.PortSpec {
	var listen []hclspec.PortSpec
	if g.Manage != nil {
		for _, l := range g.Manage.Listeners {
			listen = append(listen, hclspec.PortSpec{Protocol: listenerTransport(l.Protocol), Port: l.Port})
		}
	} else {
		if g.ListenerPorts == nil {
			return nil // the Gateway's own ports are unknown, whatever its sets add
		}
		for _, n := range g.ListenerPorts {
			listen = append(listen, hclspec.PortSpec{Protocol: "TCP", Port: n})
		}
	}
	for _, ls := range g.ListenerSets {
		for _, l := range ls.Listeners {
			listen = append(listen, hclspec.PortSpec{Protocol: listenerTransport(l.Protocol), Port: l.Port})
		}
	}
	seen := map[hclspec.PortSpec]bool{}
	var out []hclspec.PortSpec
	addPort := func(p hclspec.PortSpec) {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, p := range listen {
		addPort(p)
		if g.Implementation == hclspec.EnvoyGateway && p.Port < 1024 {
			addPort(hclspec.PortSpec{Protocol: p.Protocol, Port: p.Port + wellKnownPortShift})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Port != out[j].Port {
			return out[i].Port < out[j].Port
		}
		return out[i].Protocol < out[j].Protocol
	})
	return out
}

// udpSetPorts are the UDP listener ports the stack's listener sets add to
// a gateway whose own ports are unknown (every TCP port is then admitted).
func udpSetPorts(g *hclspec.Gateway) []hclspec.PortSpec {
	var out []hclspec.PortSpec
	for _, ls := range g.ListenerSets {
		for _, l := range ls.Listeners {
			if l.Protocol == "UDP" {
				out = append(out, hclspec.PortSpec{Protocol: "UDP", Port: l.Port})
			}
		}
	}
	return out
}

// listenerTransport is the transport protocol clients use to reach a
// listener of the given Gateway API protocol: UDP for UDP, TCP for the rest.
func listenerTransport(protocol string) string {
	if protocol == "UDP" {
		return "UDP"
	}
	return "TCP"
}

// isolates reports whether a policy the stack emits selects the pods of
// set for a direction, which makes the direction default-deny for them.
func (c *compiler) isolates(set *policySet, pods hclspec.PodSet, dir netv1.PolicyType) bool {
	return c.isolatesExcept(set, pods, dir, "")
}

// egressToIPBlock reports whether a policy of the stack lets the pods send
// egress to some IP block: the user's way of naming the API server.
func (c *compiler) egressToIPBlock(set *policySet, pods hclspec.PodSet) bool {
	have := labels.Set(pods.Selector)
	for _, key := range set.order {
		p := set.byKey[key]
		if p.namespace != pods.Namespace || !labels.SelectorFromSet(p.selector).Matches(have) {
			continue
		}
		for _, r := range p.egress {
			for _, peer := range r.To {
				if peer.IPBlock != nil {
					return true
				}
			}
		}
	}
	return false
}

// isolatesBesidesGateways reports whether a policy other than a gateway
// admission isolates the pods for ingress.
func (c *compiler) isolatesBesidesGateways(set *policySet, pods hclspec.PodSet) bool {
	return c.isolatesExcept(set, pods, netv1.PolicyTypeIngress, "gateway:")
}

// isolatesExcept is isolates, leaving out the policies whose purpose
// starts with skip (when not empty).
func (c *compiler) isolatesExcept(set *policySet, pods hclspec.PodSet, dir netv1.PolicyType, skip string) bool {
	have := labels.Set(pods.Selector)
	for _, key := range set.order {
		p := set.byKey[key]
		if p.namespace != pods.Namespace || (skip != "" && strings.HasPrefix(p.purpose, skip)) {
			continue
		}
		if (dir == netv1.PolicyTypeIngress && !p.ingressType) || (dir == netv1.PolicyTypeEgress && !p.egressType) {
			continue
		}
		if labels.SelectorFromSet(p.selector).Matches(have) {
			return true
		}
	}
	for _, np := range c.verbatim {
		if np.Namespace == pods.Namespace && hasType(np.Spec, dir) && selects(&np.Spec.PodSelector, have) {
			return true
		}
	}
	return false
}

// hasType is a policy's effective policyTypes: as written, or Ingress plus
// Egress when it has egress rules.
func hasType(spec netv1.NetworkPolicySpec, dir netv1.PolicyType) bool {
	if len(spec.PolicyTypes) == 0 {
		return dir == netv1.PolicyTypeIngress || len(spec.Egress) > 0
	}
	for _, t := range spec.PolicyTypes {
		if t == dir {
			return true
		}
	}
	return false
}

func selects(sel *metav1.LabelSelector, have labels.Set) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(have)
}

// hclMap writes labels as an HCL object, sorted.
func hclMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%q = %q", k, m[k])
	}
	return "{ " + strings.Join(parts, ", ") + " }"
}
