package doctor

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// clusterNetworkPolicyCRD is the CRD of guardrails and baselines.
const clusterNetworkPolicyCRD = "clusternetworkpolicies.policy.networking.k8s.io"

var configMapGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

// tierImpl is a network policy implementation and what it does with the
// cluster tiers, as the network-policy-api project's implementations page
// (site-src/implementations.md, v0.3.0) and conformance reports list them.
type tierImpl struct {
	name, marker string // marker: found in a DaemonSet's name, labels or images
	// cnp says whether it implements ClusterNetworkPolicy; minCalico is the
	// Calico minor version (3.x) from which it does
	cnp       bool
	minCalico int
	note      string
}

var tierImpls = []tierImpl{
	{name: "kube-network-policies", marker: "kube-network-policies", cnp: true, note: "conformance report v0.2.0: standard channel passed"},
	{name: "Kube-OVN", marker: "kube-ovn", cnp: true, note: "experimental support"},
	{name: "Calico", marker: "calico", minCalico: 32, note: "standard support from v3.32"},
	{name: "OVN-Kubernetes", marker: "ovnkube", note: "AdminNetworkPolicy/BaselineAdminNetworkPolicy v1alpha1 only"},
	{name: "Antrea", marker: "antrea", note: "AdminNetworkPolicy/BaselineAdminNetworkPolicy v1alpha1 only"},
	{name: "Cilium", marker: "cilium", note: "no ClusterNetworkPolicy support (tracking issue cilium/cilium#23380)"},
}

// clusterTiers reports the ClusterNetworkPolicy CRD (bundle version and
// channel), the implementations that run and whether they enforce it, and
// whether Cilium runs with its DNS proxy; in, when not nil, turns what the
// intent needs and the cluster lacks into errors.
func clusterTiers(ctx context.Context, r Reader, in *hclspec.Intent) ([]Finding, error) {
	crds, err := r.List(ctx, crdGVK, "", "")
	if err != nil {
		return nil, err
	}
	dss, err := r.List(ctx, daemonSetGVK, "", "")
	if err != nil {
		return nil, err
	}
	channel, out := crdFinding(crds, in)
	needed := in != nil && (len(in.ClusterPolicies) > 0 || usesFQDN(in))
	impls, implOut := implementations(dss, needed)
	out = append(out, implOut...)
	if in == nil || !usesFQDN(in) {
		return out, nil
	}
	if in.FQDNEgress == hclspec.FQDNCilium {
		return append(out, ciliumFQDN(ctx, r, impls)...), nil
	}
	if channel != "experimental" {
		out = append(out, Finding{Error, "cluster-tiers", "the intent has fqdn() destinations, which compile to ClusterNetworkPolicy domainNames: only the experimental channel of the CRD has them, and this cluster's is not"})
	}
	out = append(out, Finding{Warning, "cluster-tiers", fmt.Sprintf("the intent has fqdn() destinations; no implementation detected (%s) is listed as enforcing ClusterNetworkPolicy domainNames: make sure yours does, or those rules are ignored", orNoneFound(impls))})
	cilium, err := ciliumDNSProxy(ctx, r, impls)
	return append(out, cilium...), err
}

// crdFinding says whether the ClusterNetworkPolicy CRD is installed, with
// its bundle version, channel and served versions; it returns the channel.
func crdFinding(crds []*unstructured.Unstructured, in *hclspec.Intent) (string, []Finding) {
	for _, c := range crds {
		if c.GetName() != clusterNetworkPolicyCRD {
			continue
		}
		ann := c.GetAnnotations()
		version, channel := ann["policy.networking.k8s.io/bundle-version"], ann["policy.networking.k8s.io/channel"]
		var served []string
		vs, _, _ := unstructured.NestedSlice(c.Object, "spec", "versions")
		for _, v := range vs {
			if m, ok := v.(map[string]any); ok && m["served"] == true {
				served = append(served, fmt.Sprint(m["name"]))
			}
		}
		sev, msg := OK, fmt.Sprintf("ClusterNetworkPolicy CRD %s (%s channel), serving %s", orUnknown(version), orUnknown(channel), strings.Join(served, ", "))
		if !contains(served, "v1beta1") {
			sev, msg = Error, msg+"; perimeter writes v1beta1, which it does not serve: install sigs.k8s.io/network-policy-api v0.3.0 or later"
		}
		return channel, []Finding{{sev, "cluster-tiers", msg}}
	}
	if in != nil && len(in.ClusterPolicies) > 0 || in != nil && usesFQDN(in) {
		return "", []Finding{{Error, "cluster-tiers", "the ClusterNetworkPolicy CRD is not installed, so the intent's guardrails and baselines cannot be applied: install the standard channel of sigs.k8s.io/network-policy-api (experimental for fqdn())"}}
	}
	return "", []Finding{{OK, "cluster-tiers", "the ClusterNetworkPolicy CRD is not installed (guardrail and baseline blocks need it)"}}
}

// implementations finds the DaemonSets of the known implementations and
// says what each does with ClusterNetworkPolicy; a shortfall is a warning
// only when the intent has guardrails, baselines or domain names (needed).
func implementations(dss []*unstructured.Unstructured, needed bool) ([]string, []Finding) {
	lacking := OK
	if needed {
		lacking = Warning
	}
	found := map[string][]string{}
	version := map[string]int{}
	for _, ds := range dss {
		for _, k := range tierImpls {
			if matches(ds, k.marker) {
				found[k.name] = append(found[k.name], id(ds))
				if k.minCalico > 0 {
					version[k.name] = max(version[k.name], calicoMinor(images(ds)))
				}
				break
			}
		}
	}
	var names []string
	var out []Finding
	enforcing := false
	for _, k := range tierImpls {
		where := found[k.name]
		if len(where) == 0 {
			continue
		}
		sort.Strings(where)
		names = append(names, k.name)
		cnp := k.cnp || (k.minCalico > 0 && version[k.name] >= k.minCalico)
		enforcing = enforcing || cnp
		sev, verb := OK, "enforces ClusterNetworkPolicy"
		if !cnp {
			sev, verb = lacking, "does not enforce ClusterNetworkPolicy"
		}
		out = append(out, Finding{sev, "cluster-tiers", fmt.Sprintf("%s %s (DaemonSet %s; %s)", k.name, verb, strings.Join(where, ", "), k.note)})
	}
	if !enforcing {
		out = append(out, Finding{lacking, "cluster-tiers", "no running implementation is known to enforce ClusterNetworkPolicy (kube-network-policies, Kube-OVN, Calico v3.32+): guardrails and baselines would be applied and ignored"})
	}
	return names, out
}

// matches recognises an implementation's DaemonSet as identify does.
func matches(ds *unstructured.Unstructured, marker string) bool {
	hay := append([]string{ds.GetName()}, images(ds)...)
	for _, l := range ds.GetLabels() {
		hay = append(hay, l)
	}
	for _, h := range hay {
		if strings.Contains(strings.ToLower(h), marker) {
			return true
		}
	}
	return false
}

// calicoMinor is the 3.x minor version of a calico/node image tag, 0 when
// unknown.
func calicoMinor(imgs []string) int {
	for _, img := range imgs {
		if !strings.Contains(img, "calico/node:") {
			continue
		}
		tag := img[strings.LastIndex(img, ":")+1:]
		parts := strings.Split(strings.TrimPrefix(tag, "v"), ".")
		if len(parts) >= 2 && parts[0] == "3" {
			if n, err := strconv.Atoi(parts[1]); err == nil {
				return n
			}
		}
	}
	return 0
}

// ciliumDNSProxy reports, when Cilium runs, whether its DNS proxy (which
// toFQDNs rules need) is on: cilium-config's enable-l7-proxy.
func ciliumDNSProxy(ctx context.Context, r Reader, impls []string) ([]Finding, error) {
	if !contains(impls, "Cilium") {
		return nil, nil
	}
	cms, err := r.List(ctx, configMapGVK, "kube-system", "")
	if err != nil {
		return nil, err
	}
	for _, cm := range cms {
		if cm.GetName() != "cilium-config" {
			continue
		}
		if v, _, _ := unstructured.NestedString(cm.Object, "data", "enable-l7-proxy"); v == "false" {
			return []Finding{{Warning, "cluster-tiers", "Cilium runs with its DNS proxy off (cilium-config enable-l7-proxy: false), so it cannot enforce egress by name (toFQDNs, fqdn_egress = \"cilium\")"}}, nil
		}
		return []Finding{{OK, "cluster-tiers", "Cilium runs with its DNS proxy (toFQDNs rules, fqdn_egress = \"cilium\", are enforced)"}}, nil
	}
	return []Finding{{Warning, "cluster-tiers", "Cilium runs, but kube-system/cilium-config is not readable or absent: whether its DNS proxy is on is not known"}}, nil
}

// usesFQDN reports whether the intent has a domain-name destination.
func usesFQDN(in *hclspec.Intent) bool {
	for _, a := range in.Allows {
		for _, t := range a.To {
			if t.Kind == hclspec.EndpointFQDN {
				return true
			}
		}
	}
	for _, p := range in.ClusterPolicies {
		for _, r := range p.Egress {
			for _, e := range r.Peers {
				if e.Kind == hclspec.EndpointFQDN {
					return true
				}
			}
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

func orNoneFound(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ciliumFQDN checks what fqdn_egress = "cilium" needs: Cilium running with
// its DNS proxy, which toFQDNs rules depend on.
func ciliumFQDN(ctx context.Context, r Reader, impls []string) []Finding {
	if !contains(impls, "Cilium") {
		return []Finding{{Error, "cluster-tiers", "the stack says fqdn_egress = \"cilium\", but no Cilium DaemonSet runs: its CiliumNetworkPolicies would not be applied (no CRD) or not enforced"}}
	}
	fs, err := ciliumDNSProxy(ctx, r, impls)
	if err != nil {
		return []Finding{{Warning, "cluster-tiers", "whether Cilium's DNS proxy is on could not be read: " + err.Error()}}
	}
	for i := range fs {
		if fs[i].Severity == Warning {
			fs[i].Severity = Error // the stack relies on it
		}
	}
	return fs
}
