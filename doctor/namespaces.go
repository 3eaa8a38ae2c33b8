package doctor

import (
	"context"
	"fmt"
	"sort"

	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/reach"
)

// namespaces reports, for each namespace the stack manages, whether the
// live cluster denies egress by default there: some NetworkPolicy selecting
// every pod governs egress.
func namespaces(ctx context.Context, r Reader, in *hclspec.Intent) ([]Finding, error) {
	pols, err := r.List(ctx, networkPolicyGVK, "", "")
	if err != nil {
		return nil, err
	}
	nss, err := r.List(ctx, namespaceGVK, "", "")
	if err != nil {
		return nil, err
	}
	exists := map[string]bool{}
	for _, n := range nss {
		exists[n.GetName()] = true
	}
	baseline := map[string][]string{} // namespace -> policies denying egress to every pod
	for _, u := range pols {
		var np networkingv1.NetworkPolicy
		if runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &np) != nil {
			continue
		}
		sel := np.Spec.PodSelector
		if _, egress := reach.EffectiveTypes(np.Spec); egress && len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0 {
			baseline[np.Namespace] = append(baseline[np.Namespace], np.Name)
		}
	}
	var out []Finding
	for _, n := range in.Namespaces {
		out = append(out, namespaceFinding(n, exists[n.Name], baseline[n.Name]))
	}
	return out, nil
}

func namespaceFinding(n *hclspec.Namespace, exists bool, policies []string) Finding {
	switch {
	case !exists && !n.Create:
		return Finding{Warning, "namespace", fmt.Sprintf("%s does not exist in the cluster yet, and namespace %q says create = false: plan fails until its owner creates it", n.Name, n.Label)}
	case !exists:
		return Finding{Warning, "namespace", fmt.Sprintf("%s does not exist in the cluster yet; perimeter apply creates it", n.Name)}
	case len(policies) > 0:
		sort.Strings(policies)
		return Finding{OK, "namespace", fmt.Sprintf("%s denies egress by default (NetworkPolicy %v)", n.Name, policies)}
	case n.DenyEgress:
		return Finding{Warning, "namespace", fmt.Sprintf("%s has no default-deny egress in the cluster yet; the intent declares one: run perimeter apply", n.Name)}
	}
	return Finding{Warning, "namespace", fmt.Sprintf("%s has no default-deny egress: its pods may send traffic anywhere. Add default_deny = [\"egress\"] to namespace %q and apply", n.Name, n.Label)}
}
