package lint

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
	"github.com/perimeter-dev/perimeter/reach"
)

// Live is what the live lints read: NetworkPolicies, Services, Pods and
// Namespaces, from a cluster or from YAML files.
type Live struct {
	Policies, Services, Pods, Namespaces []*unstructured.Unstructured
}

// Kinds the live lints read, one LIST each.
var (
	networkPolicyGVK = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	serviceGVK       = schema.GroupVersionKind{Version: "v1", Kind: "Service"}
	podGVK           = schema.GroupVersionKind{Version: "v1", Kind: "Pod"}
	namespaceGVK     = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
)

// Read lists what the live lints need. Namespaces are listed cluster-wide
// (their labels feed namespaceSelectors); policies, Services and Pods only
// in the namespaces of scope, one LIST per kind and namespace, so a plan
// never pulls every pod of a large cluster. A nil scope lists them
// cluster-wide. The LISTs run up to readConcurrency at a time; the
// objects come in namespace order, as one after the other would give them,
// and the first error in that order is the one returned.
func Read(ctx context.Context, r plan.Reader, scope map[string]bool) (Live, error) {
	var l Live
	var err error
	if l.Namespaces, err = r.List(ctx, namespaceGVK, "", ""); err != nil {
		return l, err
	}
	namespaces := []string{""}
	if scope != nil {
		namespaces = slices.Sorted(maps.Keys(scope))
	}
	kinds := []schema.GroupVersionKind{networkPolicyGVK, serviceGVK, podGVK}
	into := []*[]*unstructured.Unstructured{&l.Policies, &l.Services, &l.Pods}
	listed := make([][]*unstructured.Unstructured, len(namespaces)*len(kinds))
	errs := make([]error, len(listed))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(readConcurrency)
	for i := range listed {
		g.Go(func() error {
			if errs[i] = gctx.Err(); errs[i] == nil { // a failed LIST stops those not yet sent
				listed[i], errs[i] = r.List(gctx, kinds[i%len(kinds)], namespaces[i/len(kinds)], "")
			}
			return errs[i]
		})
	}
	if first := g.Wait(); first != nil {
		for _, err := range errs { // in order, leaving out the LISTs the first error stopped
			if err != nil && (ctx.Err() != nil || !errors.Is(err, context.Canceled)) {
				return l, err
			}
		}
		return l, first
	}
	for i, objs := range listed {
		*into[i%len(kinds)] = append(*into[i%len(kinds)], objs...)
	}
	return l, nil
}

// readConcurrency bounds the live lints' LISTs in flight. One after the
// other, a stack in 100 namespaces 20 ms from its API server waited 6 s
// for its 300 LISTs.
const readConcurrency = 8

// Split picks the kinds the live lints read out of objs (as read by
// manifest.ReadDir).
func Split(objs []*unstructured.Unstructured) Live {
	var l Live
	for _, o := range objs {
		switch o.GroupVersionKind().GroupKind() {
		case networkPolicyGVK.GroupKind():
			l.Policies = append(l.Policies, o)
		case serviceGVK.GroupKind():
			l.Services = append(l.Services, o)
		case podGVK.GroupKind():
			l.Pods = append(l.Pods, o)
		case namespaceGVK.GroupKind():
			l.Namespaces = append(l.Namespaces, o)
		}
	}
	return l
}

// Plan is the lint of a plan: the intent's findings, then the live ones,
// as plan warnings. A failure to read the cluster is itself a warning.
func Plan(ctx context.Context, r plan.Reader, in *hclspec.Intent, desired []*unstructured.Unstructured) []plan.Warning {
	return Start(in, desired).Plan(ctx, r)
}

// Pending is the lint of a plan under way: the intent's findings, which
// need no cluster, are computed in the background while the plan is
// made (see Start).
type Pending struct {
	in      *hclspec.Intent
	desired []*unstructured.Unstructured
	typed   *reach.Typed
	done    chan struct{}
	intent  []Finding
}

// Start lints the intent in the background: a plan of thousands of
// policies spends a tenth of a second or more in it, and as long again
// waiting on the cluster and comparing objects on other goroutines. in
// and desired are only read; the caller must not modify them until Plan
// returns.
func Start(in *hclspec.Intent, desired []*unstructured.Unstructured) *Pending {
	p := &Pending{in: in, desired: desired, typed: reach.NewTyped(), done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.intent = intentWith(in, desired, p.typed) // the compiled policies are converted once for both
	}()
	return p
}

// Plan waits for the intent's findings, adds the live ones read through
// r, and returns them as plan warnings: what Plan returns.
func (p *Pending) Plan(ctx context.Context, r plan.Reader) []plan.Warning {
	<-p.done
	fs := p.intent
	live, err := Read(ctx, r, scopeOf(p.in))
	if err != nil {
		fs = append(fs, Finding{Summary: "Live checks skipped", Detail: err.Error()})
	} else {
		fs = append(fs, objectsWith(p.in, p.desired, live, p.typed)...)
	}
	return Warnings(sortFindings(fs))
}

// Objects lints the policies that will be in force once desired is applied
// (desired plus the live policies the stack does not own) against live
// Services, Pods and Namespaces: routes whose backends the gateway's data
// plane cannot reach, ipBlock ingress behind load balancers that rewrite
// source IPs, policies that select no pod, ports no selected pod or Service
// uses, and live rules made redundant by broader ones. With an intent, only
// the namespaces it touches are looked at; without one (in == nil), all.
func Objects(in *hclspec.Intent, desired []*unstructured.Unstructured, live Live) []Finding {
	return objectsWith(in, desired, live, nil)
}

// objectsWith is Objects converting the policies through t.
func objectsWith(in *hclspec.Intent, desired []*unstructured.Unstructured, live Live, t *reach.Typed) []Finding {
	ranges := map[string]hcl.Range{}
	owned := func(*unstructured.Unstructured) bool { return false }
	if in != nil {
		ranges = origins(in)
		owned = func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, in.Stack, in.StateNamespace) }
	}
	var objs []*unstructured.Unstructured
	objs = append(objs, desired...)
	for _, o := range live.Policies {
		if !owned(o) {
			objs = append(objs, o)
		}
	}
	all := policiesOf(objs, t)
	scope := scopeOf(in)
	var pols []*policy
	for _, p := range all {
		if scope == nil || scope[p.np.Namespace] {
			pols = append(pols, p)
		}
	}
	var out []Finding
	out = append(out, unreachableBackends(in, all, live)...)
	services, pods := servicesByNamespace(live.Services), podsByNamespace(live.Pods)
	for _, p := range pols {
		ns := p.np.Namespace
		out = append(out, ipBlockBehindLB(p, services[ns], ranges)...)
		out = append(out, selectsNothing(p, pods[ns], ranges)...)
		out = append(out, unusedPorts(p, services[ns], pods[ns], ranges)...)
	}
	mine := map[*unstructured.Unstructured]bool{}
	for _, d := range desired {
		mine[d] = true
	}
	isLive := func(p *policy) bool { return !mine[p.obj] }
	out = append(out, redundant(pols, ranges, func(a, b *policy) bool { return isLive(a) || isLive(b) })...)
	return sortFindings(ownRanges(out, desired))
}

// ownRanges keeps HCL ranges only on findings about the intent's own
// objects: a live object's source annotation may name another stack's file.
func ownRanges(fs []Finding, desired []*unstructured.Unstructured) []Finding {
	ids := map[string]bool{}
	for _, d := range desired {
		ids[objectID(d)] = true
	}
	for i := range fs {
		if fs[i].Object != "" && !ids[fs[i].Object] {
			fs[i].Range = nil
		}
	}
	return fs
}

// scopeOf is the set of namespaces an intent touches, nil for every one.
func scopeOf(in *hclspec.Intent) map[string]bool {
	if in == nil {
		return nil
	}
	out := map[string]bool{}
	for _, n := range in.Namespaces {
		out[n.Name] = true
	}
	for _, s := range in.Services {
		out[s.Namespace] = true
	}
	for _, g := range in.Gateways {
		out[g.DataPlane.Namespace] = true
	}
	return out
}

// unreachableBackends warns at each route whose gateway's data plane may
// not reach a backend on its pod port under the policies in force: the
// generated ingress side always admits it, so this catches live egress
// restrictions on the data plane and imported policies.
func unreachableBackends(in *hclspec.Intent, pols []*policy, live Live) []Finding {
	if in == nil {
		return nil
	}
	e, err := engineOf(pols, live.Namespaces)
	if err != nil {
		return []Finding{{Summary: "Live checks skipped", Detail: err.Error()}}
	}
	pods := podsByNamespace(live.Pods)
	var out []Finding
	check := func(kind, ns, name string, o hclspec.Origin, parents []hclspec.ParentRef, backends []hclspec.Backend) {
		for _, pr := range parents {
			for _, b := range backends {
				if msg := blocked(e, pr.Gateway, b.Service, pods[b.Service.Namespace]); msg != "" {
					r := o.Range
					out = append(out, Finding{Summary: "Backend unreachable from the gateway", Object: kind + " " + ns + "/" + name,
						Source: generate.Source(r), Range: &r, Detail: msg})
				}
			}
		}
	}
	for _, r := range in.HTTPRoutes {
		for _, rule := range r.Rules {
			check("HTTPRoute", r.Namespace, r.Name, r.Origin, r.Parents, rule.Backends)
		}
	}
	for _, r := range in.GRPCRoutes {
		for _, rule := range r.Rules {
			check("GRPCRoute", r.Namespace, r.Name, r.Origin, r.Parents, rule.Backends)
		}
	}
	for _, r := range in.L4Routes {
		check(r.Kind, r.Namespace, r.Name, r.Origin, r.Parents, r.Backends)
	}
	return out
}

func engineOf(pols []*policy, namespaces []*unstructured.Unstructured) (*reach.Engine, error) {
	nps := make([]networkingv1.NetworkPolicy, 0, len(pols))
	for _, p := range pols {
		nps = append(nps, p.np)
	}
	var nss []reach.Namespace
	for _, n := range namespaces {
		nss = append(nss, reach.Namespace{Name: n.GetName(), Labels: n.GetLabels()})
	}
	return reach.New(nps, nss, nil)
}

// blocked explains why gateway g's data plane cannot reach service s on its
// target port, or returns "". A named target port is resolved against the
// service's live pods; when none declares it, its number is unknown and a
// blocked egress side is not reported (a numeric rule might admit it).
func blocked(e *reach.Engine, g *hclspec.Gateway, s *hclspec.Service, pods []corev1.Pod) string {
	if g == nil || s == nil {
		return ""
	}
	proto := corev1.Protocol(strings.ToUpper(proto(s.Protocol)))
	number := s.TargetPort.Number
	if s.TargetPort.Name != "" {
		number = resolveNamed(pods, s, proto)
	}
	from := &reach.Pod{Namespace: g.DataPlane.Namespace, Name: "gateway-" + g.Label, Labels: g.DataPlane.Selector}
	to := &reach.Pod{Namespace: s.Namespace, Name: s.Name, Labels: s.Selector,
		Ports: []reach.NamedPort{{Name: s.TargetPort.Name, Port: number, Protocol: proto}}}
	port := reach.Port{Number: s.TargetPort.Number, Name: s.TargetPort.Name, Protocol: proto}
	v := e.Evaluate(reach.PodPeer(from), reach.PodPeer(to), port)
	if v.Allowed || (!v.Egress.Allowed() && number == 0) {
		return ""
	}
	side, by := "the backend's ingress", v.Ingress.IsolatedBy
	if !v.Egress.Allowed() {
		side, by = "the data plane's egress", v.Egress.IsolatedBy
	}
	return fmt.Sprintf("gateway.%s's data plane (%s) cannot reach service.%s on %s: %s is restricted by %s and no rule admits it.",
		g.Label, g.DataPlane.Namespace, s.Label, port, side, refs(by))
}

// resolveNamed finds the number of the service's named target port on one
// of its live pods, or 0.
func resolveNamed(pods []corev1.Pod, s *hclspec.Service, proto corev1.Protocol) int32 {
	for _, p := range pods {
		if !subset(s.Selector, p.Labels) {
			continue
		}
		for _, c := range p.Spec.Containers {
			for _, cp := range c.Ports {
				if cp.Name == s.TargetPort.Name && protocolOf(&cp.Protocol) == proto {
					return cp.ContainerPort
				}
			}
		}
	}
	return 0
}

func refs(rs []reach.PolicyRef) string {
	parts := make([]string, len(rs))
	for i, r := range rs {
		parts[i] = r.String()
	}
	return strings.Join(parts, ", ")
}

// ipBlockBehindLB warns when a policy admits ingress by ipBlock to pods
// behind a LoadBalancer or NodePort Service whose externalTrafficPolicy is
// not Local: the client source IPs are rewritten before the pod sees them.
func ipBlockBehindLB(p *policy, services []corev1.Service, ranges map[string]hcl.Range) []Finding {
	in, _ := reach.EffectiveTypes(p.np.Spec)
	cidrs := ingressBlocks(p)
	if !in || len(cidrs) == 0 {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&p.np.Spec.PodSelector)
	if err != nil {
		return nil
	}
	var out []Finding
	for _, s := range services {
		typ, etp := s.Spec.Type, s.Spec.ExternalTrafficPolicy
		if (typ != corev1.ServiceTypeLoadBalancer && typ != corev1.ServiceTypeNodePort) || etp == corev1.ServiceExternalTrafficPolicyLocal ||
			len(s.Spec.Selector) == 0 || !sel.Matches(labels.Set(s.Spec.Selector)) {
			continue
		}
		if etp == "" {
			etp = corev1.ServiceExternalTrafficPolicyCluster
		}
		out = append(out, objectFinding(p.obj, ranges, "ipBlock ingress behind a load balancer",
			"It admits %s by source address, but Service %s/%s (type %s, externalTrafficPolicy %s) rewrites client source IPs, so the rule does not see them. Set externalTrafficPolicy: Local on the Service.",
			strings.Join(cidrs, ", "), s.Namespace, s.Name, typ, etp))
	}
	return out
}

func ingressBlocks(p *policy) []string {
	var out []string
	for _, r := range p.np.Spec.Ingress {
		for _, peer := range r.From {
			if peer.IPBlock != nil {
				out = append(out, peer.IPBlock.CIDR)
			}
		}
	}
	return out
}

// servicesByNamespace converts Services once, by namespace, sorted by name.
func servicesByNamespace(objs []*unstructured.Unstructured) map[string][]corev1.Service {
	out := map[string][]corev1.Service{}
	for _, o := range objs {
		var s corev1.Service
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &s) == nil {
			out[s.Namespace] = append(out[s.Namespace], s)
		}
	}
	for _, ss := range out {
		sort.Slice(ss, func(i, j int) bool { return ss[i].Name < ss[j].Name })
	}
	return out
}

// podsByNamespace converts Pods once, by namespace.
func podsByNamespace(objs []*unstructured.Unstructured) map[string][]corev1.Pod {
	out := map[string][]corev1.Pod{}
	for _, o := range objs {
		var p corev1.Pod
		if runtime.DefaultUnstructuredConverter.FromUnstructured(o.Object, &p) == nil {
			out[p.Namespace] = append(out[p.Namespace], p)
		}
	}
	return out
}

// selectsNothing warns when a policy with a pod selector selects none of
// the pods of a namespace that has pods (an empty namespace is not yet
// deployed; a baseline selecting every pod is meant for future pods).
func selectsNothing(p *policy, nsPods []corev1.Pod, ranges map[string]hcl.Range) []Finding {
	ps := p.np.Spec.PodSelector
	if len(ps.MatchLabels) == 0 && len(ps.MatchExpressions) == 0 {
		return nil
	}
	sel, err := metav1.LabelSelectorAsSelector(&ps)
	if err != nil || len(nsPods) == 0 {
		return nil
	}
	for _, pod := range nsPods {
		if sel.Matches(labels.Set(pod.Labels)) {
			return nil
		}
	}
	return []Finding{objectFinding(p.obj, ranges, "Policy selects no pods",
		"Its podSelector %s matches none of the %d pod(s) in namespace %q, so it has no effect.",
		metav1.FormatLabelSelector(&ps), len(nsPods), p.np.Namespace)}
}
