package generate

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"
)

var backendTLSType = metav1.TypeMeta{APIVersion: gwv1.GroupVersion.String(), Kind: "BackendTLSPolicy"}

// backendTLSPolicies renders a BackendTLSPolicy for each service with a
// backend_tls block, in the service's namespace, targeting the Service (and
// the named port when port_name is set).
func (c *compiler) backendTLSPolicies() {
	for _, s := range c.in.Services {
		t := s.BackendTLS
		if t == nil {
			continue
		}
		if c.managed[s.Namespace] == nil {
			c.errorf(t.Range, "Backend TLS in an unmanaged namespace",
				"The BackendTLSPolicy for service %q would live in namespace %q, which this stack does not manage; add a namespace block for it.", s.Label, s.Namespace)
			continue
		}
		parts := []string{s.Name, "backend-tls"}
		target := gwv1.LocalPolicyTargetReferenceWithSectionName{LocalPolicyTargetReference: gwv1.LocalPolicyTargetReference{
			Group: "", Kind: "Service", Name: gwv1.ObjectName(s.Name)}}
		if t.PortName != "" {
			parts = []string{s.Name, t.PortName, "backend-tls"}
			section := gwv1.SectionName(t.PortName)
			target.SectionName = &section
		}
		p := &gwv1.BackendTLSPolicy{TypeMeta: backendTLSType, ObjectMeta: metav1.ObjectMeta{Name: objectName(parts...), Namespace: s.Namespace}}
		p.Spec.TargetRefs = []gwv1.LocalPolicyTargetReferenceWithSectionName{target}
		p.Spec.Validation.Hostname = gwv1.PreciseHostname(t.Hostname)
		for _, cm := range t.CACertificates {
			p.Spec.Validation.CACertificateRefs = append(p.Spec.Validation.CACertificateRefs,
				gwv1.LocalObjectReference{Group: "", Kind: "ConfigMap", Name: gwv1.ObjectName(cm)})
		}
		if t.WellKnownCA != "" {
			ca := gwv1.WellKnownCACertificatesType(t.WellKnownCA)
			p.Spec.Validation.WellKnownCACertificates = &ca
		}
		c.add(p, origins{s.Origin})
	}
}
