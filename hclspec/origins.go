package hclspec

import "github.com/hashicorp/hcl/v2"

// BlockRanges maps each block's address (e.g. `route "api"`, the value of
// the perimeter.dev/block annotation) to its definition range, so an
// object read back from a cluster, which carries the address but no line
// numbers, can be tied to the block as it stands in the current files.
func (in *Intent) BlockRanges() map[string]hcl.Range {
	out := map[string]hcl.Range{}
	add := func(o Origin) { out[o.Block] = o.Range }
	for _, n := range in.Namespaces {
		add(n.Origin)
	}
	for _, g := range in.Gateways {
		add(g.Origin)
	}
	for _, s := range in.Services {
		add(s.Origin)
	}
	for _, r := range in.HTTPRoutes {
		add(r.Origin)
	}
	for _, r := range in.GRPCRoutes {
		add(r.Origin)
	}
	for _, r := range in.L4Routes {
		add(r.Origin)
	}
	for _, s := range in.ListenerSets {
		add(s.Origin)
	}
	for _, a := range in.Allows {
		add(a.Origin)
	}
	for _, p := range in.Passthrough {
		add(p.Origin)
	}
	for _, c := range in.ClusterPolicies {
		add(c.Origin)
	}
	return out
}
