package reach_test

import (
	"fmt"
	"strconv"
	"strings"

	cnp "sigs.k8s.io/network-policy-api/apis/v1beta1"
)

// change applies one change a conformance test makes between probes:
//
//	swap: POLICY ingress|egress I J          swap two rules
//	action: POLICY ingress|egress I ACTION   set a rule's action
//	priority: POLICY N                       set a policy's priority
//	prepend: POLICY egress NAME ACTION $ns/pod,...   a networks rule of pod IPs first
//	namespace-labels: NS key=value           replace a namespace's labels
//	pod-label: NS/POD key=value, pod-unlabel: NS/POD key
//	delete-networkpolicy: NS/NAME
func (w *world) change(d doItem) error {
	if len(d) != 1 {
		return fmt.Errorf("one change per item")
	}
	for op, arg := range d {
		f := strings.Fields(arg)
		switch {
		case op == "swap" && len(f) == 4:
			return w.rules(f[0], f[1], func(n int, swap func(i, j int)) error {
				i, j, err := indexes(n, f[2], f[3])
				if err == nil {
					swap(i, j)
				}
				return err
			})
		case op == "action" && len(f) == 4:
			return w.setAction(f[0], f[1], f[2], f[3])
		case op == "priority" && len(f) == 2:
			p, n, err := w.policyNum(f[0], f[1])
			if err == nil {
				p.Spec.Priority = int32(n)
			}
			return err
		case op == "prepend" && len(f) == 5 && f[1] == "egress":
			return w.prepend(f[0], f[2], f[3], strings.Split(f[4], ","))
		case op == "namespace-labels" && len(f) == 2:
			k, v, _ := strings.Cut(f[1], "=")
			w.namespaces[f[0]] = map[string]string{k: v}
			return nil
		case op == "pod-label" && len(f) == 2:
			k, v, _ := strings.Cut(f[1], "=")
			return w.withPod(f[0], func(l map[string]string) { l[k] = v })
		case op == "pod-unlabel" && len(f) == 2:
			return w.withPod(f[0], func(l map[string]string) { delete(l, f[1]) })
		case op == "delete-networkpolicy" && len(f) == 1:
			return w.deleteNP(f[0])
		}
		return fmt.Errorf("unknown change %s: %s", op, arg)
	}
	return nil
}

func (w *world) policy(name string) *cnp.ClusterNetworkPolicy {
	for i := range w.cnps {
		if w.cnps[i].Name == name {
			return &w.cnps[i]
		}
	}
	return nil
}

func (w *world) policyNum(name, num string) (*cnp.ClusterNetworkPolicy, int, error) {
	p := w.policy(name)
	n, err := strconv.Atoi(num)
	if p == nil || err != nil {
		return nil, 0, fmt.Errorf("no policy %s or bad number %s", name, num)
	}
	return p, n, nil
}

// rules hands do the number of rules of one direction and a swap.
func (w *world) rules(name, dir string, do func(n int, swap func(i, j int)) error) error {
	p := w.policy(name)
	switch {
	case p == nil:
		return fmt.Errorf("no policy %s", name)
	case dir == "ingress":
		r := p.Spec.Ingress
		return do(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
	case dir == "egress":
		r := p.Spec.Egress
		return do(len(r), func(i, j int) { r[i], r[j] = r[j], r[i] })
	}
	return fmt.Errorf("direction %s", dir)
}

func (w *world) setAction(name, dir, index, action string) error {
	p, i, err := w.policyNum(name, index)
	if err != nil {
		return err
	}
	a := cnp.ClusterNetworkPolicyRuleAction(action)
	switch {
	case dir == "ingress" && i < len(p.Spec.Ingress):
		p.Spec.Ingress[i].Action = a
	case dir == "egress" && i < len(p.Spec.Egress):
		p.Spec.Egress[i].Action = a
	default:
		return fmt.Errorf("no %s rule %d", dir, i)
	}
	return nil
}

// prepend puts an egress rule to the given pods' addresses (/32) first.
func (w *world) prepend(name, rule, action string, pods []string) error {
	p := w.policy(name)
	if p == nil {
		return fmt.Errorf("no policy %s", name)
	}
	var nets []cnp.CIDR
	for _, ref := range pods {
		pod := w.pods[strings.TrimPrefix(ref, "$")]
		if pod == nil || len(pod.IPs) == 0 {
			return fmt.Errorf("no pod %s", ref)
		}
		nets = append(nets, cnp.CIDR(pod.IPs[0].String()+"/32"))
	}
	r := cnp.ClusterNetworkPolicyEgressRule{Name: rule, Action: cnp.ClusterNetworkPolicyRuleAction(action),
		To: []cnp.ClusterNetworkPolicyEgressPeer{{Networks: nets}}}
	p.Spec.Egress = append([]cnp.ClusterNetworkPolicyEgressRule{r}, p.Spec.Egress...)
	return nil
}

func (w *world) withPod(key string, f func(map[string]string)) error {
	p := w.pods[key]
	if p == nil {
		return fmt.Errorf("no pod %s", key)
	}
	f(p.Labels)
	return nil
}

func (w *world) deleteNP(key string) error {
	ns, name, _ := strings.Cut(key, "/")
	for i, p := range w.nps {
		if p.Namespace == nsPrefix+ns && p.Name == name {
			w.nps = append(w.nps[:i], w.nps[i+1:]...)
			return nil
		}
	}
	return fmt.Errorf("no NetworkPolicy %s", key)
}

func indexes(n int, a, b string) (int, int, error) {
	i, err1 := strconv.Atoi(a)
	j, err2 := strconv.Atoi(b)
	if err1 != nil || err2 != nil || i >= n || j >= n {
		return 0, 0, fmt.Errorf("rules %s, %s of %d", a, b, n)
	}
	return i, j, nil
}
