package doctor

import (
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
)

const cnpCRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: clusternetworkpolicies.policy.networking.k8s.io
  annotations:
    policy.networking.k8s.io/bundle-version: v0.3.0
    policy.networking.k8s.io/channel: standard
spec:
  group: policy.networking.k8s.io
  versions:
  - {name: v1alpha2, served: true, storage: false}
  - {name: v1beta1, served: true, storage: true}
`

const calico331 = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: calico-node, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - {name: calico-node, image: docker.io/calico/node:v3.31.2}
`

const knp = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: kube-network-policies, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - {name: kube-network-policies, image: registry.k8s.io/networking/kube-network-policies:v1.1.1}
`

func TestClusterTiers(t *testing.T) {
	tiers := &hclspec.Intent{Stack: "p", ClusterPolicies: []*hclspec.ClusterPolicy{{Label: "g", Name: "g", Tier: hclspec.TierAdmin}}}
	names := &hclspec.Intent{Stack: "p", Allows: []*hclspec.Allow{{To: []hclspec.Endpoint{{Kind: hclspec.EndpointFQDN, FQDN: "api.stripe.com"}}}}}
	for _, tc := range []struct {
		name, yaml string
		in         *hclspec.Intent
		want       []string
	}{
		{"standard CRD, kube-network-policies", cnpCRD + "---\n" + knp, tiers, []string{
			"ok       cluster-tiers ClusterNetworkPolicy CRD v0.3.0 (standard channel), serving v1alpha2, v1beta1",
			"ok       cluster-tiers kube-network-policies enforces ClusterNetworkPolicy (DaemonSet kube-system/kube-network-policies;",
		}},
		{"Calico before 3.32", cnpCRD + "---\n" + calico331, tiers, []string{
			"warning  cluster-tiers Calico does not enforce ClusterNetworkPolicy (DaemonSet kube-system/calico-node; standard support from v3.32)",
			"warning  cluster-tiers no running implementation is known to enforce ClusterNetworkPolicy",
		}},
		{"no CRD, guardrails", knp, tiers, []string{"error    cluster-tiers the ClusterNetworkPolicy CRD is not installed, so the intent's guardrails and baselines cannot be applied"}},
		{"no CRD, no intent", knp, nil, []string{"ok       cluster-tiers the ClusterNetworkPolicy CRD is not installed (guardrail and baseline blocks need it)"}},
		{"domain names on the standard channel", cnpCRD + "---\n" + knp, names, []string{
			"error    cluster-tiers the intent has fqdn() destinations, which compile to ClusterNetworkPolicy domainNames: only the experimental channel",
			"warning  cluster-tiers the intent has fqdn() destinations; no implementation detected (kube-network-policies) is listed as enforcing",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := runWith(t, tc.yaml, tc.in)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("missing %q in:\n%s", w, got)
				}
			}
		})
	}
}

func TestCiliumFQDN(t *testing.T) {
	cilium := &hclspec.Intent{Stack: "p", FQDNEgress: hclspec.FQDNCilium,
		Allows: []*hclspec.Allow{{To: []hclspec.Endpoint{{Kind: hclspec.EndpointFQDN, FQDN: "api.stripe.com"}}}}}
	ds := `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - {name: cilium-agent, image: quay.io/cilium/cilium:v1.18.0}
`
	proxyOff := `---
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data: {enable-l7-proxy: "false"}
`
	for _, tc := range []struct{ name, yaml, want string }{
		{"no Cilium", knp, "error    cluster-tiers the stack says fqdn_egress = \"cilium\", but no Cilium DaemonSet runs"},
		{"DNS proxy off", ds + proxyOff, "error    cluster-tiers Cilium runs with its DNS proxy off"},
		{"DNS proxy on", ds + "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cilium-config, namespace: kube-system}\ndata: {}\n", "ok       cluster-tiers Cilium runs with its DNS proxy"},
	} {
		if got := runWith(t, tc.yaml, cilium); !strings.Contains(got, tc.want) {
			t.Errorf("%s: missing %q in:\n%s", tc.name, tc.want, got)
		}
	}
}
