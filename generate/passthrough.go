package generate

import (
	"strings"

	netv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/internal/apivalidation"
)

// passthroughs renders the policy blocks: NetworkPolicies kept verbatim. Only
// the name, namespace and spec are kept; the object gets ownership labels
// and source annotations like every other. It must be a NetworkPolicy in a
// namespace the stack manages.
func (c *compiler) passthroughs() {
	for _, p := range c.in.Passthrough {
		var np netv1.NetworkPolicy
		if err := yaml.UnmarshalStrict([]byte(p.YAML), &np); err != nil {
			c.errorf(p.YAMLRange, "Invalid policy YAML", "The yaml of %s is not a NetworkPolicy: %v.", p.Block, err)
			continue
		}
		if np.APIVersion != netv1.SchemeGroupVersion.String() || np.Kind != "NetworkPolicy" {
			c.errorf(p.YAMLRange, "Unsupported passthrough object",
				"%s holds %s %s; only networking.k8s.io/v1 NetworkPolicy objects may be kept verbatim.", p.Block, np.APIVersion, np.Kind)
			continue
		}
		if np.Name == "" || np.Namespace == "" {
			c.errorf(p.YAMLRange, "Incomplete policy", "The NetworkPolicy of %s needs metadata.name and metadata.namespace.", p.Block)
			continue
		}
		if !c.requireManaged(np.Namespace, p.YAMLRange, p.Block) {
			continue
		}
		// What only the API server would catch (a CIDR 999.0.0.0/99, port
		// 70000, protocol FOO) is an error here, at the block, by field.
		if errs := apivalidation.NetworkPolicy(&np); len(errs) > 0 {
			for _, e := range errs {
				rng := p.YAMLRange
				if line := yamlLine(p.YAML, e.Field); line > 0 && line <= len(p.YAMLLines) {
					rng = p.YAMLLines[line-1]
				}
				c.errorf(rng, "Invalid NetworkPolicy",
					"The API server would refuse the NetworkPolicy of %s: %s.", p.Block, strings.TrimSuffix(e.Error(), "."))
			}
			continue
		}
		out := &netv1.NetworkPolicy{TypeMeta: policyType,
			ObjectMeta: metav1.ObjectMeta{Name: np.Name, Namespace: np.Namespace}, Spec: np.Spec}
		c.add(out, origins{p.Origin})
		c.verbatim = append(c.verbatim, out)
	}
}
