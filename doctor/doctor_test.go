package doctor

import (
	"context"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

// run is doctor's report on the cluster objects in yaml, without an intent.
func run(t *testing.T, yaml string) string { return runWith(t, yaml, nil) }

// runWith is doctor's report on the cluster objects in yaml for an intent.
func runWith(t *testing.T, yaml string, in *hclspec.Intent) string {
	t.Helper()
	var b strings.Builder
	for _, f := range findings(t, yaml, in) {
		b.WriteString(f.String() + "\n")
	}
	return b.String()
}

// findings runs doctor on the cluster objects in yaml for an intent.
func findings(t *testing.T, yaml string, in *hclspec.Intent) []Finding {
	t.Helper()
	objs, err := manifest.Decode([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	fs, err := Run(context.Background(), manifest.Objects(objs), in)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// intentOf decodes one HCL file as an intent.
func intentOf(t *testing.T, src string) *hclspec.Intent {
	t.Helper()
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	return in
}

const canal = `apiVersion: apps/v1
kind: DaemonSet
metadata: {name: canal, namespace: kube-system}
spec:
  template:
    spec:
      containers:
      - {name: calico-node, image: docker.io/calico/node:v3.30}
      - {name: kube-flannel, image: ghcr.io/flannel-io/flannel:v0.26.0}
`

func TestNoGatewayAPI(t *testing.T) {
	out := run(t, canal)
	for _, want := range []string{
		"ok       cni           Canal enforces NetworkPolicy (DaemonSet kube-system/canal)\n",
		"error    gateway-api   Gateway API CRDs are not installed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Flannel") || strings.Contains(out, "gatewayclass") {
		t.Errorf("Canal bundles Flannel and enforces policies; no GatewayClass check without CRDs:\n%s", out)
	}
}

func TestMixedBundles(t *testing.T) {
	crd := func(plural, version, channel string) string {
		return `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: ` + plural + `.gateway.networking.k8s.io
  annotations:
    gateway.networking.k8s.io/bundle-version: ` + version + `
    gateway.networking.k8s.io/channel: ` + channel + `
spec:
  group: gateway.networking.k8s.io
  names: {plural: ` + plural + `}
---
`
	}
	out := run(t, crd("gatewayclasses", "v1.6.3", "standard")+crd("gateways", "v1.6.3", "standard")+crd("httproutes", "v1.5.0", "experimental"))
	for _, want := range []string{
		"warning  gateway-api   CRDs of several bundles are installed (v1.5.0 (experimental channel): httproutes; v1.6.3 (standard channel): gatewayclasses, gateways); install one bundle\n",
		"warning  gateway-api   CRDs missing: grpcroutes, referencegrants, backendtlspolicies\n",
		"warning  gatewayclass  no GatewayClass",
		"warning  cni           No known CNI DaemonSet",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in:\n%s", want, out)
		}
	}
}
