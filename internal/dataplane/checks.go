package dataplane

import (
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// BeyondSandbox is why a check decided by a cluster tier is not probed:
// kube-router enforces NetworkPolicies only, so the packets would test a
// boundary the cluster does not have.
const BeyondSandbox = "its verdict depends on a guardrail, baseline or CiliumNetworkPolicy, which the sandbox's kube-router does not enforce (NetworkPolicy only)"

// CheckResult is a check block tried on packets: one probe per port it
// covers (a range by the ports of the world inside it, at least its ends).
type CheckResult struct {
	Check       *hclspec.Check
	Comparisons []Comparison
	// Unprobed says why the check could not be tried (an end that cannot
	// exist, a named port the destination does not have); "" otherwise.
	Unprobed string
	// Outside is set when the check was not probed because of what the
	// sandbox cannot hold: a cluster tier kube-router does not enforce, a
	// domain name, a link-local or private-range address.
	Outside bool
}

// OutsideSandbox reports whether the check was not probed only because the
// sandbox cannot hold what it is about.
func (r CheckResult) OutsideSandbox() bool { return r.Outside }

// Passed reports whether every probe was valid and did what the check
// expects; a check that could not be probed has not passed.
func (r CheckResult) Passed() bool {
	if r.Unprobed != "" || len(r.Comparisons) == 0 {
		return false
	}
	for _, c := range r.Comparisons {
		if c.Invalid != "" || c.Open != (r.Check.Expect == "allow") {
			return false
		}
	}
	return true
}

// Summary says what the packets did, port by port.
func (r CheckResult) Summary() string {
	if r.Unprobed != "" {
		return "not probed: " + r.Unprobed
	}
	var parts []string
	for _, c := range r.Comparisons {
		parts = append(parts, c.String())
	}
	return fmt.Sprintf("expect %s; %s", r.Check.Expect, strings.Join(parts, "; "))
}

// Checks probes every check block of the intent in the enacted world.
func (sc *Scene) Checks(en *Enacted, in *hclspec.Intent) ([]CheckResult, error) {
	var out []CheckResult
	full, err := tiered(in)
	if err != nil {
		return nil, err
	}
	for _, c := range in.Checks {
		r := CheckResult{Check: c}
		if beyond, err := en.decidedBeyond(full, c); err != nil {
			return nil, fmt.Errorf("check %q (%s): %w", c.Label, c.Range, err)
		} else if beyond {
			r.Unprobed, r.Outside = BeyondSandbox, true
			out = append(out, r)
			continue
		}
		if why := en.sandboxLimit(c); why != "" {
			r.Unprobed, r.Outside = why, true
			out = append(out, r)
			continue
		}
		probes, why, err := en.checkProbes(c)
		if err != nil {
			return nil, fmt.Errorf("check %q (%s): %w", c.Label, c.Range, err)
		}
		r.Unprobed = why
		if why == "" {
			r.Comparisons = sc.Compare(en, probes)
		}
		out = append(out, r)
	}
	return out, nil
}

// checkProbes turns a check into probes, or says why it cannot be probed.
func (en *Enacted) checkProbes(c *hclspec.Check) ([]Probe, string, error) {
	w := en.World.Intent
	var from reach.Peer
	var err error
	if c.FromGateway != nil {
		from = w.GatewayPeer(c.FromGateway)
	} else if from, err = w.Peer(c.From); err != nil {
		return nil, "", err
	}
	to, err := w.Peer(c.To)
	if err != nil {
		return nil, "", err
	}
	fe, ok1 := en.EndpointOf(from)
	te, ok2 := en.EndpointOf(to)
	if !ok1 || !ok2 {
		return nil, "an end of the check has no pod or host in the sandbox", nil
	}
	if fe.Pod == nil && te.Pod == nil {
		return nil, "both ends are outside the cluster", nil
	}
	r, err := reach.PortsFor(c.Port, c.To)
	if err != nil {
		return nil, "", err
	}
	ports, why := en.portsOf(r, te)
	if why != "" {
		return nil, why, nil
	}
	var out []Probe
	for _, p := range ports {
		out = append(out, Probe{From: fe, To: te, Port: p})
	}
	return out, "", nil
}

// portsOf resolves a check's ports: a name on the destination pod, a
// range by the world's ports inside it; or says why there are none.
func (en *Enacted) portsOf(r reach.PortRange, to Endpoint) ([]Port, string) {
	var ports []Port
	if r.Name != "" {
		if to.Pod == nil {
			return nil, fmt.Sprintf("a named port (%s) on an address outside the cluster", r.Name)
		}
		for _, cp := range to.Pod.Spec.ContainerPorts {
			if cp.Name == r.Name && cp.Protocol == r.Protocol {
				ports = append(ports, Port{cp.ContainerPort, cp.Protocol})
			}
		}
		if len(ports) == 0 {
			return nil, fmt.Sprintf("the destination has no container port named %s", r.Name)
		}
		return ports, ""
	}
	for _, p := range en.World.Ports {
		if p.Protocol == r.Protocol && p.Number >= r.From && p.Number <= r.To {
			ports = append(ports, p)
		}
	}
	if len(ports) == 0 {
		return nil, fmt.Sprintf("no listener port inside %s", r)
	}
	return ports, ""
}

// tiered is reach over everything the intent compiles to, cluster tiers
// and CiliumNetworkPolicies included; nil when it compiles to
// NetworkPolicies only, the world the sandbox enforces.
func tiered(in *hclspec.Intent) (*reach.Intent, error) {
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		return nil, diags
	}
	o, err := reach.FromObjects(objs)
	if err != nil || (len(o.ClusterPolicies) == 0 && len(o.Cilium) == 0) {
		return nil, err
	}
	return reach.FromIntentObjects(in, o)
}

// decidedBeyond reports whether the check's verdict over the whole intent
// differs from its verdict over the NetworkPolicies alone: then kube-router
// cannot show what the cluster would do.
func (en *Enacted) decidedBeyond(full *reach.Intent, c *hclspec.Check) (bool, error) {
	if full == nil {
		return false, nil
	}
	var counts [2][4]int
	for i, w := range []*reach.Intent{full, en.World.Intent} {
		var from reach.Peer
		var err error
		if c.FromGateway != nil {
			from = w.GatewayPeer(c.FromGateway)
		} else if from, err = w.Peer(c.From); err != nil {
			return false, err
		}
		to, err := w.Peer(c.To)
		if err != nil {
			return false, err
		}
		r, err := reach.PortsFor(c.Port, c.To)
		if err != nil {
			return false, err
		}
		v := w.EvaluateRange(from, to, r, c.Expect == "allow")
		counts[i] = [4]int{v.Allowed, v.Denied, v.Unknown, v.Mixed}
	}
	return counts[0] != counts[1], nil
}

// sandboxLimit says why an end of the check cannot exist in the sandbox (a
// domain name has no address there; link-local and the sandbox's own ranges
// cannot be external hosts); "" when both ends can.
func (en *Enacted) sandboxLimit(c *hclspec.Check) string {
	w := en.World.Intent
	ends := []hclspec.Endpoint{c.To}
	if c.FromGateway == nil {
		ends = append(ends, c.From)
	}
	for _, e := range ends {
		p, err := w.Peer(e)
		switch {
		case err != nil || p.Pod != nil:
		case p.Name != "":
			return fmt.Sprintf("the domain name %s has no address in the sandbox", p.Name)
		default:
			if err := HostAllowed(p.IP); err != nil {
				return err.Error()
			}
		}
	}
	return ""
}
