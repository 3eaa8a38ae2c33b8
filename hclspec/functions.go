package hclspec

import (
	"fmt"
	"net/netip"

	ctycidr "github.com/hashicorp/go-cty-funcs/cidr"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/function"
	"github.com/zclconf/go-cty/cty/function/stdlib"
)

// Functions returns the functions available in intent expressions: the
// go-cty standard library under Terraform's names, CIDR arithmetic, and the
// endpoint and port helpers of the boundary language.
func Functions() map[string]function.Function {
	return map[string]function.Function{
		// strings
		"chomp": stdlib.ChompFunc, "format": stdlib.FormatFunc, "formatlist": stdlib.FormatListFunc,
		"indent": stdlib.IndentFunc, "join": stdlib.JoinFunc, "lower": stdlib.LowerFunc,
		"regex": stdlib.RegexFunc, "regexall": stdlib.RegexAllFunc, "replace": stdlib.ReplaceFunc,
		"split": stdlib.SplitFunc, "strrev": stdlib.ReverseFunc, "substr": stdlib.SubstrFunc,
		"title": stdlib.TitleFunc, "trim": stdlib.TrimFunc, "trimprefix": stdlib.TrimPrefixFunc,
		"trimspace": stdlib.TrimSpaceFunc, "trimsuffix": stdlib.TrimSuffixFunc, "upper": stdlib.UpperFunc,
		// numbers
		"abs": stdlib.AbsoluteFunc, "ceil": stdlib.CeilFunc, "floor": stdlib.FloorFunc,
		"max": stdlib.MaxFunc, "min": stdlib.MinFunc, "parseint": stdlib.ParseIntFunc,
		// collections
		"chunklist": stdlib.ChunklistFunc, "coalesce": stdlib.CoalesceFunc, "coalescelist": stdlib.CoalesceListFunc,
		"compact": stdlib.CompactFunc, "concat": stdlib.ConcatFunc, "contains": stdlib.ContainsFunc,
		"distinct": stdlib.DistinctFunc, "element": stdlib.ElementFunc, "flatten": stdlib.FlattenFunc,
		"keys": stdlib.KeysFunc, "length": stdlib.LengthFunc, "lookup": stdlib.LookupFunc,
		"merge": stdlib.MergeFunc, "range": stdlib.RangeFunc, "reverse": stdlib.ReverseListFunc,
		"setintersection": stdlib.SetIntersectionFunc, "setproduct": stdlib.SetProductFunc,
		"setsubtract": stdlib.SetSubtractFunc, "setunion": stdlib.SetUnionFunc, "slice": stdlib.SliceFunc,
		"sort": stdlib.SortFunc, "values": stdlib.ValuesFunc, "zipmap": stdlib.ZipmapFunc,
		// encoding and types
		"jsondecode": stdlib.JSONDecodeFunc, "jsonencode": stdlib.JSONEncodeFunc,
		"csvdecode": stdlib.CSVDecodeFunc,
		"tostring":  stdlib.MakeToFunc(cty.String), "tonumber": stdlib.MakeToFunc(cty.Number),
		"tobool": stdlib.MakeToFunc(cty.Bool), "tolist": stdlib.MakeToFunc(cty.List(cty.DynamicPseudoType)),
		"toset": stdlib.MakeToFunc(cty.Set(cty.DynamicPseudoType)), "tomap": stdlib.MakeToFunc(cty.Map(cty.DynamicPseudoType)),
		// networks
		"cidrhost": ctycidr.HostFunc, "cidrnetmask": ctycidr.NetmaskFunc,
		"cidrsubnet": ctycidr.SubnetFunc, "cidrsubnets": ctycidr.SubnetsFunc,
		// the boundary language
		"cidr":       cidrFunc,
		"pods":       podsFunc,
		"namespaces": namespacesFunc,
		"fqdn":       fqdnFunc,
		"port":       portFunc,
	}
}

// cidr("203.0.113.0/24", ["203.0.113.7/32"]) is an endpoint outside (or
// inside) the cluster addressed by IP block, with optional exceptions.
var cidrFunc = function.New(&function.Spec{
	Description: "An IP block endpoint, optionally with excepted sub-blocks.",
	Params:      []function.Parameter{{Name: "cidr", Type: cty.String}},
	VarParam:    &function.Parameter{Name: "except", Type: cty.List(cty.String)},
	Type:        function.StaticReturnType(endpointType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		block := args[0].AsString()
		prefix, err := parseCIDR(block)
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		var except []cty.Value
		for i, list := range args[1:] {
			if list.IsNull() {
				continue
			}
			for _, e := range list.AsValueSlice() {
				ex, err := parseCIDR(e.AsString())
				if err != nil {
					return cty.NilVal, function.NewArgError(i+1, err)
				}
				if !prefix.Contains(ex.Addr()) || ex.Bits() < prefix.Bits() {
					return cty.NilVal, function.NewArgError(i+1, fmt.Errorf("except block %s is not inside %s", ex, prefix))
				}
				except = append(except, cty.StringVal(ex.String()))
			}
		}
		return endpointVal(map[string]cty.Value{
			"kind":   cty.StringVal(string(EndpointCIDR)),
			"cidr":   cty.StringVal(prefix.String()),
			"except": stringList(except),
		}), nil
	},
})

// pods("shop", { app = "worker" }) is the set of pods matching a selector in
// one namespace.
var podsFunc = function.New(&function.Spec{
	Description: "Pods matching a label selector in one namespace.",
	Params: []function.Parameter{
		{Name: "namespace", Type: cty.String},
		{Name: "selector", Type: cty.Map(cty.String)},
	},
	Type: function.StaticReturnType(endpointType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		ns := args[0].AsString()
		if msg := validateDNSLabel(ns); msg != "" {
			return cty.NilVal, function.NewArgErrorf(0, "invalid namespace %q: %s", ns, msg)
		}
		if err := checkSelector(args[1]); err != nil {
			return cty.NilVal, function.NewArgError(1, err)
		}
		return endpointVal(map[string]cty.Value{
			"kind": cty.StringVal(string(EndpointPods)), "namespace": args[0], "selector": args[1],
		}), nil
	},
})

// namespaces({ team = "payments" }) is every pod of the namespaces carrying
// the given labels; namespaces({}) is every pod of the cluster.
var namespacesFunc = function.New(&function.Spec{
	Description: "All pods of the namespaces matching a label selector.",
	Params:      []function.Parameter{{Name: "selector", Type: cty.Map(cty.String)}},
	Type:        function.StaticReturnType(endpointType),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		if err := checkSelector(args[0]); err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		return endpointVal(map[string]cty.Value{
			"kind": cty.StringVal(string(EndpointNamespaces)), "selector": args[0],
		}), nil
	},
})

// port("8000-8100/udp") parses a port specification into its parts:
// { port = 8000, end_port = 8100, protocol = "UDP", name = "" }.
var portFunc = function.New(&function.Spec{
	Description: "Parses a port, port range or named port with an optional /protocol.",
	Params:      []function.Parameter{{Name: "spec", Type: cty.String}},
	Type: function.StaticReturnType(cty.Object(map[string]cty.Type{
		"port": cty.Number, "end_port": cty.Number, "protocol": cty.String, "name": cty.String,
	})),
	Impl: func(args []cty.Value, _ cty.Type) (cty.Value, error) {
		p, err := ParsePort(args[0].AsString())
		if err != nil {
			return cty.NilVal, function.NewArgError(0, err)
		}
		end := p.EndPort
		if end == 0 {
			end = p.Port
		}
		return cty.ObjectVal(map[string]cty.Value{
			"port": cty.NumberIntVal(int64(p.Port)), "end_port": cty.NumberIntVal(int64(end)),
			"protocol": cty.StringVal(p.Protocol), "name": cty.StringVal(p.Name),
		}), nil
	},
})

func parseCIDR(s string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not a CIDR block (want e.g. 203.0.113.0/24): %v", s, err)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has host bits set; the block is %s", s, p.Masked())
	}
	return p, nil
}

func checkSelector(v cty.Value) error {
	if v.IsNull() {
		return fmt.Errorf("selector must not be null")
	}
	for k, e := range v.AsValueMap() {
		if e.IsNull() {
			return fmt.Errorf("selector value for %q must not be null", k)
		}
		if msg := validateLabel(k, e.AsString()); msg != "" {
			return fmt.Errorf("%s", msg)
		}
	}
	return nil
}

func stringList(vals []cty.Value) cty.Value {
	if len(vals) == 0 {
		return cty.ListValEmpty(cty.String)
	}
	return cty.ListVal(vals)
}
