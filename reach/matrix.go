package reach

import (
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// MatrixEnd is a row or column of a reachability matrix.
type MatrixEnd struct {
	Label     string // as the HCL writes it: service.users, cidr("203.0.113.0/24")
	Namespace string // "" outside the cluster
	Peer      Peer
	Ports     PortRange // for columns: the port connections are probed on
}

// Matrix is the reachability between the workloads of an intent: each
// source row against each destination column, on the column's port.
type Matrix struct {
	Rows, Cols []MatrixEnd
	// Cells[i][j] is nil where nothing is evaluated (between two external
	// addresses).
	Cells [][]*Verdict
}

// Matrix evaluates every source against every destination. Sources are the
// gateways' data planes, the services and the other sources of allow
// blocks; destinations are the services (on their target port) and the IP
// blocks allow blocks send to (on the allow's first port, 443/TCP when it
// lists none). With namespace set, only workloads of that namespace are
// kept, with the gateways and external ends.
func (w *Intent) Matrix(namespace string) (Matrix, error) {
	rows, cols, err := w.matrixEnds()
	if err != nil {
		return Matrix{}, err
	}
	m := Matrix{Rows: filterEnds(rows, namespace), Cols: filterEnds(cols, namespace)}
	for _, r := range m.Rows {
		line := make([]*Verdict, len(m.Cols))
		for j, c := range m.Cols {
			if r.Peer.Pod == nil && c.Peer.Pod == nil {
				continue
			}
			v := w.Evaluate(r.Peer, c.Peer, c.Ports.Ports()[0])
			line[j] = &v
		}
		m.Cells = append(m.Cells, line)
	}
	return m, nil
}

func filterEnds(ends []MatrixEnd, ns string) []MatrixEnd {
	if ns == "" {
		return ends
	}
	var out []MatrixEnd
	for _, e := range ends {
		if e.Namespace == ns || e.Namespace == "" || strings.HasPrefix(e.Label, "gateway.") || strings.HasPrefix(e.Label, "namespaces(") {
			out = append(out, e)
		}
	}
	return out
}

func (w *Intent) matrixEnds() (rows, cols []MatrixEnd, err error) {
	for _, g := range w.in.Gateways {
		rows = append(rows, MatrixEnd{Label: "gateway." + g.Label, Namespace: g.DataPlane.Namespace, Peer: w.GatewayPeer(g)})
	}
	seen := map[string]bool{}
	for _, s := range w.in.Services {
		e := hclspec.Endpoint{Kind: hclspec.EndpointService, Service: s, Namespace: s.Namespace}
		end, err := w.matrixEnd(e, hclspec.PortSpec{})
		if err != nil {
			return nil, nil, err
		}
		rows, cols = append(rows, end), append(cols, end)
		seen[end.Label] = true
	}
	for _, a := range w.in.Allows {
		for _, f := range a.From {
			if end, err := w.matrixEnd(f, hclspec.PortSpec{}); err == nil && !seen["from "+end.Label] {
				seen["from "+end.Label] = true
				rows = appendNew(rows, end)
			}
		}
		for _, t := range a.To {
			if t.Kind != hclspec.EndpointCIDR && t.Kind != hclspec.EndpointFQDN {
				continue
			}
			end, err := w.matrixEnd(t, firstPort(a.Ports))
			if err != nil {
				return nil, nil, err
			}
			if !seen["to "+end.Label+end.Ports.String()] {
				seen["to "+end.Label+end.Ports.String()] = true
				cols = append(cols, end)
			}
		}
	}
	cols, err = w.tierColumns(cols, seen)
	return rows, cols, err
}

// tierColumns adds the destinations outside the cluster that guardrails
// and baselines name (IP blocks and domain names), on the rule's first
// port, so the matrix shows what the cluster tiers decide.
func (w *Intent) tierColumns(cols []MatrixEnd, seen map[string]bool) ([]MatrixEnd, error) {
	for _, p := range w.in.ClusterPolicies {
		for _, r := range p.Egress {
			for _, t := range r.Peers {
				if t.Kind != hclspec.EndpointCIDR && t.Kind != hclspec.EndpointFQDN {
					continue
				}
				end, err := w.matrixEnd(t, firstPort(r.Ports))
				if err != nil {
					return nil, err
				}
				if key := "to " + end.Label + end.Ports.String(); !seen[key] {
					seen[key] = true
					cols = append(cols, end)
				}
			}
		}
	}
	return cols, nil
}

func appendNew(ends []MatrixEnd, e MatrixEnd) []MatrixEnd {
	for _, x := range ends {
		if x.Label == e.Label {
			return ends
		}
	}
	return append(ends, e)
}

func firstPort(ps []hclspec.PortSpec) hclspec.PortSpec {
	if len(ps) == 0 {
		return hclspec.PortSpec{Protocol: "TCP", Port: 443}
	}
	return ps[0]
}

func (w *Intent) matrixEnd(e hclspec.Endpoint, port hclspec.PortSpec) (MatrixEnd, error) {
	p, err := w.Peer(e)
	if err != nil {
		return MatrixEnd{}, err
	}
	end := MatrixEnd{Label: EndpointLabel(e), Peer: p}
	if p.Pod != nil && e.Kind != hclspec.EndpointNamespaces {
		end.Namespace = p.Pod.Namespace
	}
	if e.Kind == hclspec.EndpointService || port.Protocol != "" {
		end.Ports, err = PortsFor(port, e)
	}
	return end, err
}

// EndpointLabel writes an endpoint as the HCL does.
func EndpointLabel(e hclspec.Endpoint) string {
	switch e.Kind {
	case hclspec.EndpointService:
		return "service." + e.Service.Label
	case hclspec.EndpointNamespace:
		return fmt.Sprintf("namespace %q", e.Namespace)
	case hclspec.EndpointPods:
		return fmt.Sprintf("pods(%q, %s)", e.Namespace, selectorString(e.PodSelector))
	case hclspec.EndpointNamespaces:
		return fmt.Sprintf("namespaces(%s)", selectorString(e.NamespaceSelector))
	case hclspec.EndpointFQDN:
		return fmt.Sprintf("fqdn(%q)", e.FQDN)
	}
	if len(e.Except) > 0 {
		quoted := make([]string, len(e.Except))
		for i, x := range e.Except {
			quoted[i] = fmt.Sprintf("%q", x)
		}
		return fmt.Sprintf("cidr(%q, [%s])", e.CIDR, strings.Join(quoted, ", "))
	}
	return fmt.Sprintf("cidr(%q)", e.CIDR)
}
