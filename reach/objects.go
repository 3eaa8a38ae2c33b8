package reach

import (
	"fmt"
	"net/netip"
	"sort"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// Objects is what an engine is built from, read from Kubernetes objects:
// YAML files, a live cluster, or perimeter's own output.
type Objects struct {
	Policies   []networkingv1.NetworkPolicy
	Namespaces []Namespace
	Pods       []*Pod
	// ClusterPolicies are the ClusterNetworkPolicies (Admin and Baseline
	// tiers).
	ClusterPolicies []cnp.ClusterNetworkPolicy
	// Cilium are the CiliumNetworkPolicies (fqdn_egress = "cilium").
	Cilium []*unstructured.Unstructured
}

// FromObjects picks the NetworkPolicies, Namespaces and Pods out of a list
// of objects (other kinds are ignored). A pod's addresses come from
// status.podIPs (or status.podIP) and its ports from its containers.
func FromObjects(objs []*unstructured.Unstructured) (Objects, error) {
	return FromObjectsWith(objs, nil)
}

// Typed converts NetworkPolicies from their unstructured form once each:
// a lint of a plan reads the same compiled policies three times (the
// intent lints' engine, their redundancy check, the live lints), and the
// conversion, by reflection, was about a tenth of the plan's CPU at
// 5,000 policies. A nil *Typed converts every time. The policies it
// returns are shared: callers must not modify them. Not safe for
// concurrent use.
type Typed struct {
	policies map[*unstructured.Unstructured]typedPolicy
}

type typedPolicy struct {
	np  *networkingv1.NetworkPolicy
	err error
}

// NewTyped returns an empty conversion memo.
func NewTyped() *Typed {
	return &Typed{policies: map[*unstructured.Unstructured]typedPolicy{}}
}

// NetworkPolicy is u converted to a NetworkPolicy (as
// runtime.DefaultUnstructuredConverter converts it), or the conversion's
// error.
func (t *Typed) NetworkPolicy(u *unstructured.Unstructured) (*networkingv1.NetworkPolicy, error) {
	if t != nil {
		if p, ok := t.policies[u]; ok {
			return p.np, p.err
		}
	}
	np := &networkingv1.NetworkPolicy{}
	err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, np)
	if t != nil {
		t.policies[u] = typedPolicy{np, err}
	}
	return np, err
}

// FromObjectsWith is FromObjects converting the NetworkPolicies through t.
func FromObjectsWith(objs []*unstructured.Unstructured, t *Typed) (Objects, error) {
	var out Objects
	for _, u := range objs {
		if err := out.add(u, t); err != nil {
			return out, fmt.Errorf("%s %s/%s: %w", u.GetKind(), u.GetNamespace(), u.GetName(), err)
		}
	}
	sort.Slice(out.Pods, func(i, j int) bool { return out.Pods[i].Key() < out.Pods[j].Key() })
	return out, nil
}

func (o *Objects) add(u *unstructured.Unstructured, t *Typed) error {
	conv := runtime.DefaultUnstructuredConverter
	switch u.GroupVersionKind().GroupKind().String() {
	case "NetworkPolicy.networking.k8s.io":
		np, err := t.NetworkPolicy(u)
		if err != nil {
			return err
		}
		o.Policies = append(o.Policies, *np)
	case "CiliumNetworkPolicy.cilium.io":
		o.Cilium = append(o.Cilium, u)
	case "ClusterNetworkPolicy.policy.networking.k8s.io":
		var p cnp.ClusterNetworkPolicy
		if err := conv.FromUnstructured(u.Object, &p); err != nil {
			return err
		}
		o.ClusterPolicies = append(o.ClusterPolicies, p)
	case "Namespace":
		o.Namespaces = append(o.Namespaces, Namespace{Name: u.GetName(), Labels: u.GetLabels()})
	case "Pod":
		var p corev1.Pod
		if err := conv.FromUnstructured(u.Object, &p); err != nil {
			return err
		}
		pod, err := podOf(&p)
		if err != nil {
			return err
		}
		o.Pods = append(o.Pods, pod)
	}
	return nil
}

// PoliciesOf converts the NetworkPolicies among objects to their typed form.
func PoliciesOf(objs []*unstructured.Unstructured) ([]networkingv1.NetworkPolicy, error) {
	o, err := FromObjects(objs)
	return o.Policies, err
}

// ClusterPoliciesOf converts the ClusterNetworkPolicies among objects to
// their typed form.
func ClusterPoliciesOf(objs []*unstructured.Unstructured) ([]cnp.ClusterNetworkPolicy, error) {
	o, err := FromObjects(objs)
	return o.ClusterPolicies, err
}

func podOf(p *corev1.Pod) (*Pod, error) {
	out := &Pod{Namespace: p.Namespace, Name: p.Name, Labels: p.Labels}
	ips := p.Status.PodIPs
	if len(ips) == 0 && p.Status.PodIP != "" {
		ips = []corev1.PodIP{{IP: p.Status.PodIP}}
	}
	for _, ip := range ips {
		a, err := netip.ParseAddr(ip.IP)
		if err != nil {
			return nil, fmt.Errorf("pod IP: %w", err)
		}
		out.IPs = append(out.IPs, a)
	}
	for _, c := range append(append([]corev1.Container(nil), p.Spec.InitContainers...), p.Spec.Containers...) {
		for _, cp := range c.Ports {
			proto := cp.Protocol
			if proto == "" {
				proto = corev1.ProtocolTCP
			}
			out.Ports = append(out.Ports, NamedPort{Name: cp.Name, Port: cp.ContainerPort, Protocol: proto})
		}
	}
	return out, nil
}
