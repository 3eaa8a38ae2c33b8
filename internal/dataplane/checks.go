package dataplane

import (
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// CheckResult is a check block tried on packets: one probe per port it
// covers (a range by the ports of the world inside it, at least its ends).
type CheckResult struct {
	Check       *hclspec.Check
	Comparisons []Comparison
	// Unprobed says why the check could not be tried (an end that cannot
	// exist, a named port the destination does not have); "" otherwise.
	Unprobed string
}

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
	for _, c := range in.Checks {
		r := CheckResult{Check: c}
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
