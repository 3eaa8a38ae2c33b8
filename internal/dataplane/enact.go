package dataplane

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/perimeter-dev/perimeter/reach"
)

// Enacted is a world made real in a scene: its pods (in the world's
// order), hosts, and reach's engine over the same concrete objects.
type Enacted struct {
	World  *World
	Pods   []*Pod
	Hosts  []*Host
	Engine *reach.Engine

	peers      map[Endpoint]reach.Peer
	namespaces []reach.Namespace
	reachPods  []*reach.Pod
	byRep      map[*reach.Pod]*Pod
	hosts      map[netip.Addr]*Host
}

// Enact creates the world's namespaces, pods, hosts and policies in the
// scene and waits until kube-router enforces them.
func (sc *Scene) Enact(wd *World) (*Enacted, error) {
	en := &Enacted{World: wd, peers: map[Endpoint]reach.Peer{}, byRep: map[*reach.Pod]*Pod{}, hosts: map[netip.Addr]*Host{}}
	var err error
	if en.namespaces, err = sc.enactNamespaces(wd); err != nil {
		return nil, err
	}
	if err := sc.enactPods(en); err != nil {
		return nil, err
	}
	for _, a := range wd.Hosts {
		h, err := sc.AddHost(a, wd.Ports)
		if err != nil {
			return nil, err
		}
		en.Hosts = append(en.Hosts, h)
		en.hosts[a] = h
		en.peers[Endpoint{Host: h}] = reach.IPPeer(a)
	}
	if err := sc.Apply(wd.Policies); err != nil {
		return nil, err
	}
	if en.Engine, err = reach.New(wd.Policies, en.namespaces, en.reachPods); err != nil {
		return nil, err
	}
	return en, sc.Sync()
}

// enactNamespaces creates the namespaces of the world's pods with their
// labels, and returns them as reach sees them (with the name label).
func (sc *Scene) enactNamespaces(wd *World) ([]reach.Namespace, error) {
	for _, p := range wd.Pods {
		if _, ok := wd.Namespaces[p.Spec.Namespace]; !ok {
			wd.Namespaces[p.Spec.Namespace] = nil
		}
	}
	var names []string
	for ns := range wd.Namespaces {
		names = append(names, ns)
	}
	sort.Strings(names)
	var out []reach.Namespace
	for _, ns := range names {
		if err := sc.Namespace(ns, wd.Namespaces[ns]); err != nil {
			return nil, err
		}
		l := map[string]string{reach.NamespaceNameLabel: ns}
		for k, v := range wd.Namespaces[ns] {
			l[k] = v
		}
		out = append(out, reach.Namespace{Name: ns, Labels: l})
	}
	return out, nil
}

// enactPods creates the world's pods, each listening on the world's ports,
// and records them as reach sees them.
func (sc *Scene) enactPods(en *Enacted) error {
	for _, wp := range en.World.Pods {
		wp.Spec.Listen = en.World.Ports
		p, err := sc.AddPod(wp.Spec)
		if err != nil {
			return err
		}
		en.Pods = append(en.Pods, p)
		rp := &reach.Pod{Namespace: p.Spec.Namespace, Name: p.Spec.Name, Labels: p.Spec.Labels, IPs: []netip.Addr{p.IP}}
		for _, cp := range p.Spec.ContainerPorts {
			rp.Ports = append(rp.Ports, reach.NamedPort{Name: cp.Name, Port: cp.ContainerPort, Protocol: cp.Protocol})
		}
		en.reachPods = append(en.reachPods, rp)
		en.peers[Endpoint{Pod: p}] = reach.PodPeer(rp)
		if wp.Rep != nil {
			en.byRep[wp.Rep] = p
		}
	}
	return nil
}

// Endpoints lists every pod, then every host.
func (en *Enacted) Endpoints() []Endpoint {
	var out []Endpoint
	for _, p := range en.Pods {
		out = append(out, Endpoint{Pod: p})
	}
	for _, h := range en.Hosts {
		out = append(out, Endpoint{Host: h})
	}
	return out
}

// EndpointOf is the pod or host standing for a peer of the world's
// reach.Intent, and false when it has none (a skipped end).
func (en *Enacted) EndpointOf(p reach.Peer) (Endpoint, bool) {
	if p.Pod != nil {
		pod, ok := en.byRep[p.Pod]
		return Endpoint{Pod: pod}, ok
	}
	h, ok := en.hosts[p.IP]
	return Endpoint{Host: h}, ok
}

// AllPairs is every probe between two distinct ends (at least one a pod)
// on every port of the world.
func (en *Enacted) AllPairs() []Probe {
	var out []Probe
	ends := en.Endpoints()
	for _, f := range ends {
		for _, t := range ends {
			if f == t || f.Pod == nil && t.Pod == nil {
				continue
			}
			for _, p := range en.World.Ports {
				out = append(out, Probe{From: f, To: t, Port: p})
			}
		}
	}
	return out
}

// Verdict is reach's answer for a probe over the same concrete objects.
func (en *Enacted) Verdict(p Probe) reach.Verdict {
	return en.Engine.Evaluate(en.peers[p.From], en.peers[p.To], reach.Port{Number: p.Port.Number, Protocol: p.Port.Protocol})
}

// Comparison is a probe's packets and reach's verdict side by side.
type Comparison struct {
	Result
	Reach reach.Verdict
}

// Agree reports whether the packets did what reach says.
func (c Comparison) Agree() bool {
	return c.Invalid == "" && c.Open == c.Reach.Allowed && !c.Reach.Unknown
}

// String is "ns/a -> ns/b 8080/TCP: packets open, reach denied".
func (c Comparison) String() string {
	word := func(b bool) string {
		if b {
			return "open"
		}
		return "closed"
	}
	verdict := "denied"
	switch {
	case c.Reach.Unknown:
		verdict = "unknown"
	case c.Reach.Allowed:
		verdict = "allowed"
	}
	s := fmt.Sprintf("%s: packets %s, reach %s", c.Probe, word(c.Open), verdict)
	if c.Invalid != "" {
		s += " (invalid probe: " + c.Invalid + ")"
	}
	return s
}

// Compare probes and evaluates each probe.
func (sc *Scene) Compare(en *Enacted, probes []Probe) []Comparison {
	res := sc.Probe(probes)
	out := make([]Comparison, len(res))
	for i, r := range res {
		out[i] = Comparison{Result: r, Reach: en.Verdict(r.Probe)}
	}
	return out
}
