package dataplane

import (
	"fmt"
	"net/netip"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// World is the concrete cluster an intent is probed in: one pod for each
// pod package reach stands an endpoint for (services, gateways' data
// planes, pods(...), namespace.X, ...; named ports whose numbers the
// intent leaves open get numbers), a cluster DNS pod, a bystander pod in
// a namespace the intent does not mention, and an external host for each
// IP block (its representative address and the first address of each
// exception). Every pod and host listens on Ports.
type World struct {
	Intent     *reach.Intent
	Namespaces map[string]map[string]string // labels, besides the name label
	Pods       []WorldPod
	Hosts      []netip.Addr
	Ports      []Port
	Policies   []networkingv1.NetworkPolicy
	// Skipped says which ends could not be made concrete, and why.
	Skipped []string
}

// WorldPod is a pod of a world and the representative pod it stands for
// (nil for the DNS and bystander pods).
type WorldPod struct {
	Rep  *reach.Pod
	Spec PodSpec
}

// BystanderNamespace holds a pod no intent mentions.
const BystanderNamespace = "bystanders"

// extraPorts are probed everywhere: DNS, and a port no intent opens.
var extraPorts = []Port{{53, corev1.ProtocolUDP}, {53, corev1.ProtocolTCP}, {9102, corev1.ProtocolTCP}}

// NewWorld builds the world of an intent and the policies it compiles to.
func NewWorld(in *hclspec.Intent, policies []networkingv1.NetworkPolicy) (*World, error) {
	w, err := reach.FromIntent(in, policies)
	if err != nil {
		return nil, err
	}
	wd := &World{Intent: w, Namespaces: map[string]map[string]string{}, Policies: policies}
	ports := map[Port]bool{}
	for _, p := range extraPorts {
		ports[p] = true
	}
	hosts := map[netip.Addr]bool{}
	wd.endpoints(in, ports, hosts)
	for _, ns := range in.Namespaces {
		wd.Namespaces[ns.Name] = ns.Labels
	}
	wd.pods(in, ports)
	for p := range ports {
		wd.Ports = append(wd.Ports, p)
	}
	sort.Slice(wd.Ports, func(i, j int) bool { return portLess(wd.Ports[i], wd.Ports[j]) })
	for a := range hosts {
		if err := HostAllowed(a); err != nil {
			wd.Skipped = append(wd.Skipped, err.Error())
			continue
		}
		wd.Hosts = append(wd.Hosts, a)
	}
	sort.Slice(wd.Hosts, func(i, j int) bool { return wd.Hosts[i].Less(wd.Hosts[j]) })
	return wd, nil
}

func portLess(a, b Port) bool {
	if a.Number != b.Number {
		return a.Number < b.Number
	}
	return a.Protocol < b.Protocol
}

// endpoints makes reach create the representative pods of every endpoint
// of allows and checks, and collects the ports they name and the
// addresses of their IP blocks.
func (wd *World) endpoints(in *hclspec.Intent, ports map[Port]bool, hosts map[netip.Addr]bool) {
	add := func(e hclspec.Endpoint) {
		p, err := wd.Intent.Peer(e)
		if err != nil {
			wd.Skipped = append(wd.Skipped, fmt.Sprintf("%s: %v", e.Kind, err))
			return
		}
		if e.Kind != hclspec.EndpointCIDR {
			return
		}
		hosts[p.IP] = true
		for _, x := range e.Except {
			if xp, err := netip.ParsePrefix(x); err == nil {
				hosts[xp.Masked().Addr().Next()] = true
			}
		}
	}
	for _, a := range in.Allows {
		for _, e := range append(append([]hclspec.Endpoint(nil), a.From...), a.To...) {
			add(e)
		}
		for _, ps := range a.Ports {
			addSpecPorts(ports, ps)
		}
	}
	for _, c := range in.Checks {
		if c.FromGateway != nil {
			wd.Intent.GatewayPeer(c.FromGateway)
		} else {
			add(c.From)
		}
		add(c.To)
		addSpecPorts(ports, c.Port)
	}
}

// addSpecPorts adds a port spec's numbers: a single port, or a range's
// ends. Bare protocols and names add nothing (names come with the pods).
func addSpecPorts(ports map[Port]bool, ps hclspec.PortSpec) {
	if ps.Port == 0 {
		return
	}
	proto := corev1.Protocol(strings.ToUpper(ps.Protocol))
	if proto == "" {
		proto = corev1.ProtocolTCP
	}
	ports[Port{ps.Port, proto}] = true
	if ps.EndPort != 0 {
		ports[Port{ps.EndPort, proto}] = true
	}
}

// pods makes a pod for each representative pod that can exist, plus the
// DNS and bystander pods.
func (wd *World) pods(in *hclspec.Intent, ports map[Port]bool) {
	names := map[string]bool{}
	next := int32(7000)
	for _, rep := range wd.Intent.Engine.Pods() {
		if errs := validation.IsDNS1123Label(rep.Namespace); len(errs) > 0 {
			wd.Skipped = append(wd.Skipped, fmt.Sprintf("%s: namespace %q cannot exist (%s)", wd.Intent.Describe(reach.PodPeer(rep)), rep.Namespace, errs[0]))
			continue
		}
		spec := PodSpec{Namespace: rep.Namespace, Name: uniqueName(names, rep.Namespace, rep.Name), Labels: rep.Labels}
		for _, np := range rep.Ports {
			if np.Port == 0 { // a named port whose number the intent leaves open
				np.Port, next = next, next+1
			}
			spec.ContainerPorts = append(spec.ContainerPorts, corev1.ContainerPort{Name: np.Name, ContainerPort: np.Port, Protocol: np.Protocol})
			ports[Port{np.Port, np.Protocol}] = true
		}
		wd.Pods = append(wd.Pods, WorldPod{Rep: rep, Spec: spec})
	}
	dns := PodSpec{Namespace: in.ClusterDNS.Namespace, Name: uniqueName(names, in.ClusterDNS.Namespace, "cluster-dns"), Labels: in.ClusterDNS.Selector,
		ContainerPorts: []corev1.ContainerPort{{Name: "dns", ContainerPort: 53, Protocol: corev1.ProtocolUDP}, {Name: "dns-tcp", ContainerPort: 53, Protocol: corev1.ProtocolTCP}}}
	by := PodSpec{Namespace: BystanderNamespace, Name: "bystander", Labels: map[string]string{"app": "bystander"}}
	wd.Pods = append(wd.Pods, WorldPod{Spec: dns}, WorldPod{Spec: by})
}

// uniqueName makes a pod name a DNS label, unique in its namespace.
func uniqueName(seen map[string]bool, ns, name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if len(base) > 50 {
		base = strings.Trim(base[:50], "-")
	}
	if base == "" {
		base = "pod"
	}
	out := base
	for i := 2; seen[ns+"/"+out]; i++ {
		out = fmt.Sprintf("%s-%d", base, i)
	}
	seen[ns+"/"+out] = true
	return out
}
