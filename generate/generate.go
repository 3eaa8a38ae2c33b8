// Package generate compiles boundary intent into Kubernetes objects: Gateway
// API routes, ReferenceGrants, BackendTLSPolicies, an owned Gateway where
// asked, NetworkPolicies, and ClusterNetworkPolicies for the cluster tiers. It is a pure function of the intent: no
// cluster access, deterministic names and order, byte-identical output for
// the same input.
package generate

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
)

const (
	namespaceNameLabel  = "kubernetes.io/metadata.name"
	originListSeparator = ", "
)

// Kinds are every kind perimeter generates, in the order objects are
// sorted and applied. Namespaces come first (their contents need them) and
// are therefore deleted last.
var Kinds = []schema.GroupVersionKind{
	corev1.SchemeGroupVersion.WithKind("Namespace"),
	gwv1.SchemeGroupVersion.WithKind("Gateway"),
	gwv1.SchemeGroupVersion.WithKind("ListenerSet"),
	gwv1.SchemeGroupVersion.WithKind("ReferenceGrant"),
	gwv1.SchemeGroupVersion.WithKind("BackendTLSPolicy"),
	gwv1.SchemeGroupVersion.WithKind("HTTPRoute"),
	gwv1.SchemeGroupVersion.WithKind("GRPCRoute"),
	gwv1.SchemeGroupVersion.WithKind("TLSRoute"),
	gwv1.SchemeGroupVersion.WithKind("TCPRoute"),
	gwv1.SchemeGroupVersion.WithKind("UDPRoute"),
	netv1.SchemeGroupVersion.WithKind("NetworkPolicy"),
	CiliumNetworkPolicyKind,
	ClusterNetworkPolicyKind,
}

// Objects compiles the intent. The objects are sorted by kind, namespace and
// name. Diagnostics point at the HCL that caused them.
func Objects(in *hclspec.Intent) ([]*unstructured.Unstructured, hcl.Diagnostics) {
	c := &compiler{in: in, managed: map[string]*hclspec.Namespace{}, names: map[string]origins{}, warnedControlPlane: map[string]bool{}}
	c.memberLabels = map[string]any{}
	for k, v := range ownership.MemberLabels(in.Stack, in.StateNamespace) {
		c.memberLabels[k] = v
	}
	for _, ns := range in.Namespaces {
		c.managed[ns.Name] = ns
	}
	c.gateways()
	c.listenerSets()
	c.routes()
	c.backendTLSPolicies()
	c.referenceGrants()
	c.passthroughs() // before policies: data-plane admission looks at them
	c.policies()
	c.clusterPolicies()
	if c.in.FQDNEgress == hclspec.FQDNCilium {
		c.ciliumAllows()
	} else {
		c.fqdnAllows()
	}
	if c.diags.HasErrors() {
		return nil, c.diags
	}
	sortObjects(c.objects)
	return c.objects, c.diags
}

// ForOutput makes compiled objects what a cluster or a file receives: it
// drops, in place, the source annotation (file:line), which perimeter only
// uses to show where an object comes from. Line numbers in the cluster or
// in a GitOps tree would change every object when a comment is added.
func ForOutput(objs []*unstructured.Unstructured) []*unstructured.Unstructured {
	for _, o := range objs {
		ownership.DropSource(o)
	}
	return objs
}

// compiler accumulates objects and diagnostics for one Objects call.
type compiler struct {
	in      *hclspec.Intent
	managed map[string]*hclspec.Namespace // by namespace name
	objects []*unstructured.Unstructured
	names   map[string]origins // kind/namespace/name -> who produced it
	diags   hcl.Diagnostics
	// verbatim are the policy blocks' NetworkPolicies, kept as written.
	verbatim []*netv1.NetworkPolicy
	// exposed are the route backends, in route order, for the isolation
	// warning once every policy is known.
	exposed []*hclspec.Service
	// warnedControlPlane: namespaces whose controller egress was reported
	warnedControlPlane map[string]bool
	// memberLabels is the one labels map every object gets: objects are
	// never modified once generated (planning and apply copy what they
	// change), and a map per object was 0.65 kB of every one.
	memberLabels map[string]any
}

// origins is the set of HCL blocks behind one object.
type origins []hclspec.Origin

func (o origins) sorted() origins {
	out := append(origins(nil), o...)
	sort.SliceStable(out, func(i, j int) bool { return rangeLess(out[i].Range, out[j].Range) })
	uniq := out[:0]
	for i, x := range out {
		if i == 0 || x.Range != out[i-1].Range {
			uniq = append(uniq, x)
		}
	}
	return uniq
}

func rangeLess(a, b hcl.Range) bool {
	if a.Filename != b.Filename {
		return a.Filename < b.Filename
	}
	return a.Start.Byte < b.Start.Byte
}

// Source renders an HCL range as file:line.
func Source(r hcl.Range) string { return fmt.Sprintf("%s:%d", r.Filename, r.Start.Line) }

// add converts a typed object, stamps ownership and origin, and records it.
// Two blocks producing the same object is an error at the later block.
func (c *compiler) add(obj runtime.Object, from origins) {
	raw, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot convert object", Detail: err.Error()})
		return
	}
	u := &unstructured.Unstructured{Object: raw}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	from = from.sorted()
	key := u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
	if prev, dup := c.names[key]; dup {
		c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate object name",
			Detail: fmt.Sprintf("%s %s/%s is produced by %s and by %s; rename one of them.",
				u.GetKind(), u.GetNamespace(), u.GetName(), prev[0].Block, from[0].Block),
			Subject: from[0].Range.Ptr()})
		return
	}
	c.names[key] = from
	var sources, blocks []string
	for _, o := range from {
		sources = append(sources, Source(o.Range))
		blocks = append(blocks, o.Block)
	}
	u.SetAnnotations(map[string]string{
		ownership.AnnotationSource: strings.Join(sources, originListSeparator),
		ownership.AnnotationBlock:  strings.Join(blocks, originListSeparator),
	})
	// The converter sizes each map for every field of its struct:
	// ObjectMeta's has room for 17 keys (1.1 kB) for the 4 set here, and
	// every command holds all the objects it generates (a plan until it
	// is shown). Copied to its size, it takes a quarter of that.
	md, _ := u.Object["metadata"].(map[string]any)
	md = maps.Collect(maps.All(md))
	md["labels"] = c.memberLabels
	u.Object["metadata"] = md
	c.objects = append(c.objects, u)
}

func (c *compiler) errorf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

func (c *compiler) warnf(rng hcl.Range, summary, format string, args ...any) {
	c.diags = append(c.diags, &hcl.Diagnostic{Severity: hcl.DiagWarning, Summary: summary,
		Detail: fmt.Sprintf(format, args...), Subject: rng.Ptr()})
}

// kindOrder puts objects in the order a reader (and apply) wants them:
// gateways, then what routes need, then routes, then policies.

func sortObjects(objs []*unstructured.Unstructured) {
	sort.SliceStable(objs, func(i, j int) bool {
		a, b := objs[i], objs[j]
		if ka, kb := kindRank(a.GetKind()), kindRank(b.GetKind()); ka != kb {
			return ka < kb
		}
		if a.GetNamespace() != b.GetNamespace() {
			return a.GetNamespace() < b.GetNamespace()
		}
		return a.GetName() < b.GetName()
	})
}

func kindRank(kind string) int {
	for i, k := range Kinds {
		if k.Kind == kind {
			return i
		}
	}
	return len(Kinds)
}
