package hclspec

import (
	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// ListenerSet adds listeners to a Gateway the stack does not own (a
// platform team's shared Gateway), as a Gateway API ListenerSet in the
// stack's namespace. The Gateway must allow it (spec.allowedListeners);
// routes attach to its listeners with gateway = listener_set.NAME. Traffic
// still flows through the Gateway's data plane.
type ListenerSet struct {
	Label     string
	Name      string
	Namespace string
	Gateway   *Gateway
	Listeners []*Listener
	Origin
}

var listenerSetSchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "name"}, {Name: "namespace", Required: true}, {Name: "gateway", Required: true}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "listener", LabelNames: []string{"name"}}},
}

// decodeListenerSets reads listener_set blocks and makes them referable
// as listener_set.NAME.
func (d *decoder) decodeListenerSets(in *Intent) {
	vals := map[string]cty.Value{}
	for _, b := range d.blocks["listener_set"] {
		if !d.unique(b) || !d.referable(b) {
			continue
		}
		r := open(b.Body, listenerSetSchema, d.ctx, b.DefRange)
		ls := &ListenerSet{Label: b.Labels[0], Name: r.str("name", b.Labels[0]), Origin: origin(b)}
		d.checkName(r, "name", ls.Name, validateObjectName)
		ls.Namespace = d.namespaceAttr(r)
		if v, ok := r.value("gateway"); ok {
			ls.Gateway = d.refs.gateways[strAttr(v, "id")]
			if kindOf(v) != "gateway" || ls.Gateway == nil {
				r.errorf(r.attrRange("gateway"), "Invalid gateway reference", "\"gateway\" must be gateway.NAME, naming a gateway block.")
			}
		}
		ls.Listeners = d.listenerBlocks(r.blocks)
		if len(ls.Listeners) == 0 {
			r.errorf(b.DefRange, "Missing listener", "A listener_set needs at least one listener \"NAME\" { protocol = ..., port = ... } block.")
		}
		d.diags = append(d.diags, r.diags...)
		if ls.Gateway == nil {
			continue
		}
		ls.Gateway.ListenerSets = append(ls.Gateway.ListenerSets, ls)
		in.ListenerSets = append(in.ListenerSets, ls)
		d.listenerSets[ls.Label] = ls
		vals[ls.Label] = endpointVal(map[string]cty.Value{"kind": cty.StringVal("listener_set"), "id": cty.StringVal(ls.Label),
			"name": cty.StringVal(ls.Name), "namespace": cty.StringVal(ls.Namespace)})
	}
	d.ctx.Variables["listener_set"] = objectOrEmpty(vals)
}

// listenerSetParent resolves a route's gateway = listener_set.NAME: the
// set, and its Gateway, whose data plane carries the traffic.
func (d *decoder) listenerSetParent(r *body, v cty.Value, listener string) (ParentRef, bool) {
	ls := d.listenerSets[strAttr(v, "id")]
	if ls == nil {
		return ParentRef{}, false
	}
	if listener != "" && setListener(ls, listener) == nil {
		r.errorf(r.attrRange("listener"), "Unknown listener", "Listener set %q has no listener named %q.", ls.Label, listener)
	}
	return ParentRef{Gateway: ls.Gateway, ListenerSet: ls, Listener: listener}, true
}

func setListener(ls *ListenerSet, name string) *Listener {
	for _, l := range ls.Listeners {
		if l.Name == name {
			return l
		}
	}
	return nil
}
