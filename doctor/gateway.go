package doctor

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// MigrationURL is where ingress-nginx users learn to move to the Gateway API.
const MigrationURL = "https://gateway-api.sigs.k8s.io/guides/getting-started/migrating-from-ingress-nginx/"

// ingressNginx finds ingress-nginx by its Deployments' labels or by an
// IngressClass naming its controller.
func ingressNginx(ctx context.Context, r Reader) ([]Finding, error) {
	deps, err := r.List(ctx, deploymentGVK, "", "app.kubernetes.io/name=ingress-nginx")
	if err != nil {
		return nil, err
	}
	classes, err := r.List(ctx, ingressClassGVK, "", "")
	if err != nil {
		return nil, err
	}
	var where []string
	for _, d := range deps {
		where = append(where, "Deployment "+id(d))
	}
	for _, c := range classes {
		if ctrl, _, _ := unstructured.NestedString(c.Object, "spec", "controller"); ctrl == "k8s.io/ingress-nginx" {
			where = append(where, "IngressClass "+c.GetName())
		}
	}
	if len(where) == 0 {
		return []Finding{{OK, "ingress-nginx", "not running"}}, nil
	}
	sort.Strings(where)
	return []Finding{{Warning, "ingress-nginx", fmt.Sprintf("ingress-nginx still runs (%s); it was retired in March 2026 and gets no more fixes. Move its Ingresses to Gateway API routes: %s", strings.Join(where, ", "), MigrationURL)}}, nil
}

// gatewayCRDs are the kinds of the Gateway API standard channel perimeter
// writes or reads.
var gatewayCRDs = []string{"gatewayclasses", "gateways", "httproutes", "grpcroutes", "referencegrants", "backendtlspolicies"}

const gatewayGroup = "gateway.networking.k8s.io"

// gatewayAPI reports the Gateway API CRDs (bundle version and channel)
// and, when GatewayClasses are served, each class and whether it is
// accepted.
func gatewayAPI(ctx context.Context, r Reader) ([]Finding, error) {
	crds, err := r.List(ctx, crdGVK, "", "")
	if err != nil {
		return nil, err
	}
	versions := map[string][]string{} // "v1.6.3 (standard channel)" -> plural names
	have := map[string]bool{}
	for _, c := range crds {
		group, _, _ := unstructured.NestedString(c.Object, "spec", "group")
		if group != gatewayGroup {
			continue
		}
		plural, _, _ := unstructured.NestedString(c.Object, "spec", "names", "plural")
		have[plural] = true
		a := c.GetAnnotations()
		v := fmt.Sprintf("%s (%s channel)", or(a[gatewayGroup+"/bundle-version"], "unknown version"), or(a[gatewayGroup+"/channel"], "unknown"))
		versions[v] = append(versions[v], plural)
	}
	if len(have) == 0 {
		return []Finding{{Error, "gateway-api", "Gateway API CRDs are not installed: routes cannot be applied. Install them: https://gateway-api.sigs.k8s.io/guides/#installing-gateway-api"}}, nil
	}
	out := crdFindings(versions, have)
	if !have["gatewayclasses"] {
		return out, nil
	}
	classes, err := r.List(ctx, gatewayClassGVK, "", "")
	if err != nil {
		return nil, err
	}
	return append(out, classFindings(classes)...), nil
}

func crdFindings(versions map[string][]string, have map[string]bool) []Finding {
	var vs []string
	for v := range versions {
		vs = append(vs, v)
	}
	sort.Strings(vs)
	var out []Finding
	if len(vs) == 1 {
		out = append(out, Finding{OK, "gateway-api", "CRDs " + vs[0] + " installed"})
	} else {
		var parts []string
		for _, v := range vs {
			sort.Strings(versions[v])
			parts = append(parts, v+": "+strings.Join(versions[v], ", "))
		}
		out = append(out, Finding{Warning, "gateway-api", "CRDs of several bundles are installed (" + strings.Join(parts, "; ") + "); install one bundle"})
	}
	var missing []string
	for _, k := range gatewayCRDs {
		if !have[k] {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		out = append(out, Finding{Warning, "gateway-api", "CRDs missing: " + strings.Join(missing, ", ")})
	}
	return out
}

// classFindings reports each GatewayClass and its Accepted condition.
func classFindings(classes []*unstructured.Unstructured) []Finding {
	if len(classes) == 0 {
		return []Finding{{Warning, "gatewayclass", "no GatewayClass: no Gateway controller is installed, so no Gateway will be programmed"}}
	}
	var out []Finding
	for _, c := range classes {
		ctrl, _, _ := unstructured.NestedString(c.Object, "spec", "controllerName")
		status, reason, msg := accepted(c)
		switch status {
		case "True":
			out = append(out, Finding{OK, "gatewayclass", fmt.Sprintf("%s (controller %s) is accepted", c.GetName(), ctrl)})
		case "", "Unknown":
			out = append(out, Finding{Warning, "gatewayclass", fmt.Sprintf("%s (controller %s) is not accepted yet (%s): is its controller running?", c.GetName(), ctrl, or(msg, "no Accepted condition"))})
		default:
			out = append(out, Finding{Warning, "gatewayclass", fmt.Sprintf("%s (controller %s) is not accepted (Accepted=%s, %s: %s)", c.GetName(), ctrl, status, reason, msg)})
		}
	}
	return out
}

// accepted reads a GatewayClass's Accepted condition.
func accepted(c *unstructured.Unstructured) (status, reason, message string) {
	conds, _, _ := unstructured.NestedSlice(c.Object, "status", "conditions")
	for _, x := range conds {
		m, _ := x.(map[string]any)
		if m["type"] == "Accepted" {
			status, _ = m["status"].(string)
			reason, _ = m["reason"].(string)
			message, _ = m["message"].(string)
			return status, reason, message
		}
	}
	return "", "", ""
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
