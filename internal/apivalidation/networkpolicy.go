// Package apivalidation checks objects as the Kubernetes API server does
// before it stores them, so that perimeter reports what a server would
// refuse at validate time, at the HCL that says it, instead of at apply.
//
// The server's rules live in k8s.io/kubernetes/pkg/apis/networking/validation,
// which is not importable (k8s.io/kubernetes is not a library); this is the
// same logic on the versioned k8s.io/api types, built from the helpers that
// rule uses (k8s.io/apimachinery's validation packages). It follows
// Kubernetes 1.37 for a create, with StrictIPCIDRValidation on (its default
// since 1.36). e2e.TestPolicyValidationAgreesWithAPIServer compares it with
// a real kube-apiserver on hand-written and random policies.
package apivalidation

import (
	"slices"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	apimachineryvalidation "k8s.io/apimachinery/pkg/api/validation"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metav1validation "k8s.io/apimachinery/pkg/apis/meta/v1/validation"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"
	netutils "k8s.io/utils/net"
)

// NetworkPolicy returns what the API server would refuse in np on create,
// each error naming its field path (spec.ingress[0].from[1].ipBlock.cidr).
func NetworkPolicy(np *netv1.NetworkPolicy) field.ErrorList {
	errs := apimachineryvalidation.ValidateObjectMeta(&np.ObjectMeta, true, apimachineryvalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	return append(errs, NetworkPolicySpec(&np.Spec, field.NewPath("spec"))...)
}

// NetworkPolicySpec validates a policy's spec; errors are below path.
func NetworkPolicySpec(spec *netv1.NetworkPolicySpec, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	errs = append(errs, labelSelector(&spec.PodSelector, path.Child("podSelector"))...)
	for i, rule := range spec.Ingress {
		rulePath := path.Child("ingress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, port(&rule.Ports[j], rulePath.Child("ports").Index(j))...)
		}
		for j := range rule.From {
			errs = append(errs, peer(&rule.From[j], rulePath.Child("from").Index(j))...)
		}
	}
	for i, rule := range spec.Egress {
		rulePath := path.Child("egress").Index(i)
		for j := range rule.Ports {
			errs = append(errs, port(&rule.Ports[j], rulePath.Child("ports").Index(j))...)
		}
		for j := range rule.To {
			errs = append(errs, peer(&rule.To[j], rulePath.Child("to").Index(j))...)
		}
	}
	allowed := []string{string(netv1.PolicyTypeIngress), string(netv1.PolicyTypeEgress)}
	if len(spec.PolicyTypes) > len(allowed) {
		return append(errs, field.Invalid(path.Child("policyTypes"), spec.PolicyTypes, "may not specify more than two policyTypes"))
	}
	for i, t := range spec.PolicyTypes {
		if !slices.Contains(allowed, string(t)) {
			errs = append(errs, field.NotSupported(path.Child("policyTypes").Index(i), t, allowed))
		}
	}
	return errs
}

func labelSelector(s *metav1.LabelSelector, path *field.Path) field.ErrorList {
	return metav1validation.ValidateLabelSelector(s, metav1validation.LabelSelectorValidationOptions{}, path)
}

// port: protocol TCP, UDP or SCTP; a numeric port 1-65535 with an optional
// endPort from port to 65535; a named port a valid port name, without
// endPort.
func port(p *netv1.NetworkPolicyPort, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	if p.Protocol != nil && !slices.Contains([]corev1.Protocol{corev1.ProtocolTCP, corev1.ProtocolUDP, corev1.ProtocolSCTP}, *p.Protocol) {
		errs = append(errs, field.NotSupported(path.Child("protocol"), *p.Protocol,
			[]string{string(corev1.ProtocolTCP), string(corev1.ProtocolUDP), string(corev1.ProtocolSCTP)}))
	}
	switch {
	case p.Port == nil:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is not specified"))
		}
	case p.Port.Type == intstr.Int:
		for _, msg := range validation.IsValidPortNum(int(p.Port.IntVal)) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.IntVal, msg))
		}
		if p.EndPort != nil {
			if *p.EndPort < p.Port.IntVal {
				errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "must be greater than or equal to `port`"))
			}
			for _, msg := range validation.IsValidPortNum(int(*p.EndPort)) {
				errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, msg))
			}
		}
	default:
		if p.EndPort != nil {
			errs = append(errs, field.Invalid(path.Child("endPort"), *p.EndPort, "may not be specified when `port` is non-numeric"))
		}
		for _, msg := range validation.IsValidPortName(p.Port.StrVal) {
			errs = append(errs, field.Invalid(path.Child("port"), p.Port.StrVal, msg))
		}
	}
	return errs
}

// peer: exactly one of podSelector and namespaceSelector (or both), or an
// ipBlock alone.
func peer(p *netv1.NetworkPolicyPeer, path *field.Path) field.ErrorList {
	var errs field.ErrorList
	n := 0
	if p.PodSelector != nil {
		n++
		errs = append(errs, labelSelector(p.PodSelector, path.Child("podSelector"))...)
	}
	if p.NamespaceSelector != nil {
		n++
		errs = append(errs, labelSelector(p.NamespaceSelector, path.Child("namespaceSelector"))...)
	}
	if p.IPBlock != nil {
		n++
		errs = append(errs, ipBlock(p.IPBlock, path.Child("ipBlock"))...)
	}
	switch {
	case n == 0:
		errs = append(errs, field.Required(path, "must specify a peer"))
	case n > 1 && p.IPBlock != nil:
		errs = append(errs, field.Forbidden(path, "may not specify both ipBlock and another peer"))
	}
	return errs
}

// ipBlock: cidr a CIDR without bits set beyond its prefix, each except one
// too and a strict subset of cidr.
func ipBlock(b *netv1.IPBlock, path *field.Path) field.ErrorList {
	if b.CIDR == "" {
		return field.ErrorList{field.Required(path.Child("cidr"), "")}
	}
	errs := validation.IsValidCIDRForLegacyField(path.Child("cidr"), b.CIDR, true, nil)
	_, cidr, err := netutils.ParseCIDRSloppy(b.CIDR)
	if err != nil {
		return errs
	}
	for i, s := range b.Except {
		exceptPath := path.Child("except").Index(i)
		errs = append(errs, validation.IsValidCIDRForLegacyField(exceptPath, s, true, nil)...)
		_, except, err := netutils.ParseCIDRSloppy(s)
		if err != nil {
			continue
		}
		cidrBits, _ := cidr.Mask.Size()
		exceptBits, _ := except.Mask.Size()
		if !cidr.Contains(except.IP) || cidrBits >= exceptBits {
			errs = append(errs, field.Invalid(exceptPath, s, "must be a strict subset of `cidr`"))
		}
	}
	return errs
}

// Fields returns the field paths of errs, in order, without repeats.
func Fields(errs field.ErrorList) []string {
	var out []string
	for _, e := range errs {
		if !slices.Contains(out, e.Field) {
			out = append(out, e.Field)
		}
	}
	return out
}
