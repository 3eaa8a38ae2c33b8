package lint

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
	"github.com/perimeter-dev/perimeter/views"
)

// shadowedAllows warns at each allow an admin guardrail denies before any
// NetworkPolicy is consulted: on the allow's (first) port, for a source and
// destination of it, the Admin tier's Deny is final, so the allow can never
// take effect there.
func shadowedAllows(in *hclspec.Intent, w *reach.Intent) []Finding {
	if !w.Engine.HasTierAction(reach.TierAdmin, "Deny") {
		return nil // nothing can shadow an allow: evaluating each (most of a plan's lint time) finds nothing
	}
	var out []Finding
	for _, a := range in.Allows {
		if f, ok := shadowedAllow(a, w); ok {
			out = append(out, f)
		}
	}
	return out
}

func shadowedAllow(a *hclspec.Allow, w *reach.Intent) (Finding, bool) {
	for _, from := range a.From {
		src, err := w.Peer(from)
		if err != nil {
			continue
		}
		for _, to := range a.To {
			dst, err := w.Peer(to)
			if err != nil {
				continue
			}
			port := allowPort(a, to)
			v := w.Evaluate(src, dst, port)
			for _, d := range []struct {
				name string
				v    reach.DirectionVerdict
			}{{"egress", v.Egress}, {"ingress", v.Ingress}} {
				t := d.v.Tiers
				if t == nil || t.DecidedBy != reach.TierAdmin || t.Rule.Action != "Deny" {
					continue
				}
				r := a.Range
				return Finding{Summary: "Allow denied by a guardrail", Source: generate.Source(r), Range: &r, Block: a.Block,
					Detail: fmt.Sprintf("allow %q can never take effect for %s -> %s on %s: %s denies its %s first, before any NetworkPolicy is consulted. Remove the allow, or ask the platform team for an exception in the guardrail.",
						a.Label, reach.EndpointLabel(from), reach.EndpointLabel(to), port, views.TierRuleLabel(w.Engine, *t.Rule), d.name)}, true
			}
		}
	}
	return Finding{}, false
}

// allowPort is the port an allow is checked on: its first port (the
// first of a range), the destination service's target port, or 443/TCP.
func allowPort(a *hclspec.Allow, to hclspec.Endpoint) reach.Port {
	var spec hclspec.PortSpec
	if len(a.Ports) > 0 {
		spec = a.Ports[0]
	}
	if r, err := reach.PortsFor(spec, to); err == nil {
		if ps := r.Ports(); len(ps) > 0 {
			return ps[0]
		}
	}
	return reach.Port{Number: 443, Protocol: corev1.ProtocolTCP}
}

// shadowedBaselines warns at each baseline whose subject's pods are all
// isolated by NetworkPolicies in every direction it has rules for: the
// Baseline tier is consulted only for pods no NetworkPolicy isolates, so
// it never takes effect. A subject whose pods the intent does not know
// (namespaces({...}) reaching beyond the managed namespaces) is not judged.
func shadowedBaselines(in *hclspec.Intent, w *reach.Intent) []Finding {
	var out []Finding
	for _, p := range in.ClusterPolicies {
		if p.Tier != hclspec.TierBaseline || p.Subject.Kind == hclspec.EndpointNamespaces {
			continue
		}
		var dirs []string
		if len(p.Ingress) > 0 {
			dirs = append(dirs, "ingress")
		}
		if len(p.Egress) > 0 {
			dirs = append(dirs, "egress")
		}
		shadowed := len(dirs) > 0
		for _, d := range dirs {
			shadowed = shadowed && Isolated(w, p.Subject, d)
		}
		if !shadowed {
			continue
		}
		r := p.Range
		out = append(out, Finding{Summary: "Baseline never takes effect", Source: generate.Source(r), Range: &r, Block: p.Block,
			Detail: fmt.Sprintf("baseline %q applies to %s, whose pods NetworkPolicies already isolate for %s; the Baseline tier is consulted only for pods no NetworkPolicy isolates, so it never decides anything.",
				p.Label, reach.EndpointLabel(p.Subject), strings.Join(dirs, " and "))})
	}
	return out
}

// closedByTier reports whether a cluster tier (a guardrail or a baseline)
// denies the endpoint's pods egress to an address outside the cluster:
// their egress is then not open, though no NetworkPolicy isolates it.
func closedByTier(w *reach.Intent, e hclspec.Endpoint) bool {
	p, err := w.Peer(e)
	if err != nil || p.Pod == nil {
		return false
	}
	v := w.Evaluate(p, outside, reach.Port{Number: 443, Protocol: corev1.ProtocolTCP}).Egress
	return v.Tiers != nil && v.Tiers.DecidedBy != "" && v.Tiers.DecidedBy != reach.TierDefault && !v.Allowed()
}
