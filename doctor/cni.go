package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// cniKind is a CNI (or policy engine) recognisable by its DaemonSet.
type cniKind struct {
	name     string
	marker   string // found in the DaemonSet's name, labels or images
	enforces bool   // enforces NetworkPolicy
}

// cnis in matching order: Canal before Calico and Flannel (it bundles
// both), kube-network-policies before kube-router's shorter prefix.
var cnis = []cniKind{
	{"Canal", "canal", true},
	{"Calico", "calico", true},
	{"Cilium", "cilium", true},
	{"Antrea", "antrea", true},
	{"kube-network-policies", "kube-network-policies", true},
	{"kube-router", "kube-router", true},
	{"Flannel", "flannel", false},
}

// cni finds the CNI DaemonSets of every namespace and says whether
// NetworkPolicies are enforced.
func cni(ctx context.Context, r Reader) ([]Finding, error) {
	dss, err := r.List(ctx, daemonSetGVK, "", "")
	if err != nil {
		return nil, err
	}
	found := map[string][]string{} // CNI name -> DaemonSets
	for _, ds := range dss {
		if k, ok := identify(ds); ok {
			found[k.name] = append(found[k.name], id(ds))
		}
	}
	var out []Finding
	enforcing := false
	for _, k := range cnis {
		if where := found[k.name]; len(where) > 0 {
			sort.Strings(where)
			enforcing = enforcing || k.enforces
			if k.enforces {
				out = append(out, Finding{OK, "cni", fmt.Sprintf("%s enforces NetworkPolicy (DaemonSet %s)", k.name, strings.Join(where, ", "))})
			}
		}
	}
	if where := found["Flannel"]; len(where) > 0 && !enforcing {
		out = append(out, Finding{Error, "cni", fmt.Sprintf("Flannel alone does not enforce NetworkPolicy (DaemonSet %s): every policy perimeter applies is silently ignored. Add a policy engine: Canal (Calico on Flannel) or kube-network-policies.", strings.Join(where, ", "))})
	}
	if len(found) == 0 {
		out = append(out, Finding{Warning, "cni", "No known CNI DaemonSet (Calico, Cilium, Antrea, kube-router, Canal, kube-network-policies, Flannel): cannot tell whether NetworkPolicies are enforced; check your provider's network policy setting."})
	}
	return out, nil
}

// identify recognises a CNI DaemonSet by its name, the values of its or
// its pod template's labels, or its container images.
func identify(ds *unstructured.Unstructured) (cniKind, bool) {
	hay := []string{ds.GetName()}
	tmpl, _, _ := unstructured.NestedStringMap(ds.Object, "spec", "template", "metadata", "labels")
	for _, l := range []map[string]string{ds.GetLabels(), tmpl} {
		for _, v := range l {
			hay = append(hay, v)
		}
	}
	hay = append(hay, images(ds)...)
	for _, k := range cnis {
		for _, h := range hay {
			if strings.Contains(strings.ToLower(h), k.marker) {
				return k, true
			}
		}
	}
	return cniKind{}, false
}

func images(o *unstructured.Unstructured) []string {
	var out []string
	for _, field := range []string{"initContainers", "containers"} {
		cs, _, _ := unstructured.NestedSlice(o.Object, "spec", "template", "spec", field)
		for _, c := range cs {
			if m, ok := c.(map[string]any); ok {
				if img, ok := m["image"].(string); ok {
					out = append(out, img)
				}
			}
		}
	}
	return out
}
