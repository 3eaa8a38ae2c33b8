package lint

import (
	"fmt"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/perimeter-dev/perimeter/reach"
)

// podPort is a port a selected workload listens on: a container port of a
// pod, or the target port of a Service in front of it.
type podPort struct {
	name     string
	number   int32
	protocol corev1.Protocol
}

func (p podPort) String() string {
	if p.name != "" && p.number != 0 {
		return fmt.Sprintf("%s=%d/%s", p.name, p.number, p.protocol)
	}
	if p.name != "" {
		return p.name + "/" + string(p.protocol)
	}
	return fmt.Sprintf("%d/%s", p.number, p.protocol)
}

// unusedPorts warns about ingress rule ports of a policy that no selected
// pod's container port and no target port of a Service selecting those pods
// uses. Policies whose pods and Services declare no ports are skipped.
func unusedPorts(p *policy, services []corev1.Service, pods []corev1.Pod, ranges map[string]hcl.Range) []Finding {
	in, _ := reach.EffectiveTypes(p.np.Spec)
	sel, err := metav1.LabelSelectorAsSelector(&p.np.Spec.PodSelector)
	if !in || err != nil {
		return nil
	}
	known := portsSelected(sel, services, pods)
	if len(known) == 0 {
		return nil
	}
	var out []Finding
	for i, r := range p.np.Spec.Ingress {
		for _, pp := range r.Ports {
			if pp.Port == nil || anyPortMatches(pp, known) {
				continue
			}
			out = append(out, objectFinding(p.obj, ranges, "Port matches no pod port",
				"Ingress rule %d admits port %s, which none of the selected pods or their Services' target ports use (%s); NetworkPolicies match pod ports, not Service ports.",
				i, policyPort(pp), portsString(known)))
		}
	}
	return out
}

// portsSelected collects the container ports of the pods the selector
// matches and the target ports of Services whose selector it matches (all
// of the policy's namespace).
func portsSelected(sel labels.Selector, services []corev1.Service, pods []corev1.Pod) []podPort {
	var out []podPort
	for _, pod := range pods {
		if !sel.Matches(labels.Set(pod.Labels)) {
			continue
		}
		for _, c := range pod.Spec.Containers {
			for _, cp := range c.Ports {
				out = append(out, podPort{cp.Name, cp.ContainerPort, protocolOf(&cp.Protocol)})
			}
		}
	}
	for _, s := range services {
		if len(s.Spec.Selector) == 0 || !sel.Matches(labels.Set(s.Spec.Selector)) {
			continue
		}
		for _, sp := range s.Spec.Ports {
			out = append(out, targetOf(sp))
		}
	}
	return out
}

func targetOf(sp corev1.ServicePort) podPort {
	proto := protocolOf(&sp.Protocol)
	switch {
	case sp.TargetPort.Type == intstr.String && sp.TargetPort.StrVal != "":
		return podPort{name: sp.TargetPort.StrVal, protocol: proto}
	case sp.TargetPort.IntVal != 0:
		return podPort{number: sp.TargetPort.IntVal, protocol: proto}
	}
	return podPort{number: sp.Port, protocol: proto}
}

func anyPortMatches(pp networkingv1.NetworkPolicyPort, known []podPort) bool {
	proto := protocolOf(pp.Protocol)
	for _, k := range known {
		if k.protocol != proto {
			continue
		}
		if pp.Port.Type == intstr.String {
			if k.name == pp.Port.StrVal {
				return true
			}
			continue
		}
		lo, hi := portRange(pp)
		if k.number == 0 || (k.number >= lo && k.number <= hi) {
			return true // a named target port's number is unknown
		}
	}
	return false
}

func policyPort(pp networkingv1.NetworkPolicyPort) string {
	proto := protocolOf(pp.Protocol)
	if pp.EndPort != nil {
		return fmt.Sprintf("%s-%d/%s", pp.Port.String(), *pp.EndPort, proto)
	}
	return pp.Port.String() + "/" + string(proto)
}

// portsString lists ports sorted and without duplicates.
func portsString(ps []podPort) string {
	seen := map[string]bool{}
	var out []string
	for _, p := range ps {
		if s := p.String(); !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}
