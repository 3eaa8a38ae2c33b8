package importer

import (
	"bytes"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/manifest"
)

// TestEdgeCases imports odd but decodable objects: the import must not
// fail, and the intent must compile and keep the input's meaning. A policy
// an API server would refuse is reported and not imported.
func TestEdgeCases(t *testing.T) {
	refused := map[string]string{
		"empty peer": "spec.ingress[0].from[0]: Required value: must specify a peer",
		"bad cidr":   `spec.egress[0].to[0].ipBlock.except[0]: Invalid value: "192.168.0.0/16": must be a strict subset of ` + "`cidr`",
		"refused cidr, port and protocol": `spec.ingress[0].ports[0].protocol: Unsupported value: "FOO": supported values: "TCP", "UDP", "SCTP"; ` +
			`spec.ingress[0].ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive; ` +
			`spec.ingress[0].from[0].ipBlock.cidr: Invalid value: "999.0.0.0/99"`,
	}
	for name, src := range map[string]string{
		"empty peer": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  ingress: [{from: [{}]}]`,
		"refused cidr, port and protocol": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {matchExpressions: [{key: app, operator: In, values: [a]}]}
  ingress: [{from: [{ipBlock: {cidr: 999.0.0.0/99}}], ports: [{port: 70000, protocol: FOO}]}]`,
		"bad cidr": `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: p, namespace: a}
spec:
  podSelector: {}
  egress: [{to: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]`,
		"ingress without rules": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: a}
spec: {}`,
		"host without paths": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: a}
spec:
  rules: [{host: a.example.com}]`,
		"service without ports": `apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec: {selector: {app: s}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: a}
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]`,
		"canary without primary": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: c
  namespace: a
  annotations: {nginx.ingress.kubernetes.io/canary: "true", nginx.ingress.kubernetes.io/canary-weight: "50"}
spec:
  defaultBackend: {service: {name: s, port: {number: 80}}}
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]`,
		"route without ports or rules": `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: a}
spec:
  rules:
  - backendRefs: [{name: s}]
  - filters: [{type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x, value: "v"}]}}]`,
		"backend TLS to an IP": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  namespace: a
  annotations:
    nginx.ingress.kubernetes.io/backend-protocol: HTTPS
    nginx.ingress.kubernetes.io/proxy-ssl-name: 10.0.0.1
    nginx.ingress.kubernetes.io/proxy-ssl-verify: "yes"
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 443}}}}]}}]`,
		"CORS without a usable origin": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  namespace: a
  annotations:
    nginx.ingress.kubernetes.io/enable-cors: "true"
    nginx.ingress.kubernetes.io/cors-allow-origin: "ftp://x, http://, https://a.example.com:123456"
    nginx.ingress.kubernetes.io/cors-max-age: "0"
    nginx.ingress.kubernetes.io/cors-allow-credentials: "maybe"
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]`,
		"ssl-redirect with a bad value": `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: i
  namespace: a
  annotations:
    nginx.ingress.kubernetes.io/ssl-redirect: "nope"
    nginx.ingress.kubernetes.io/force-ssl-redirect: "TRUE"
spec:
  tls: [{secretName: t}]
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]`,
		"canary spelled True": `apiVersion: v1
kind: Service
metadata: {name: s, namespace: a}
spec: {selector: {app: s}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: s2, namespace: a}
spec: {selector: {app: s2}, ports: [{port: 80}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: i, namespace: a}
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s, port: {number: 80}}}}]}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: c
  namespace: a
  annotations: {nginx.ingress.kubernetes.io/canary: "True", nginx.ingress.kubernetes.io/canary-weight: "20"}
spec:
  rules: [{host: a.example.com, http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: s2, port: {number: 80}}}}]}}]`,
		"other kinds": `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: a}`,
	} {
		t.Run(name, func(t *testing.T) {
			objs, err := manifest.Decode([]byte(src))
			if err != nil {
				t.Fatal(err)
			}
			res, err := Import(objs, testOptions)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Report) == 0 {
				t.Error("nothing reported")
			}
			out := compile(t, res.HCL)
			checkRoutes(t, objs, out, testOptions)
			if field, ok := refused[name]; ok {
				// An API server would refuse the policy: it is reported,
				// not imported, and so has no verdicts to keep.
				found := false
				for _, e := range res.Report {
					found = found || e.Severity == Dropped && strings.Contains(e.Why, "API server would refuse") && strings.Contains(e.Why, field)
				}
				if !found || bytes.Contains(res.HCL, []byte("policy ")) {
					t.Errorf("want the policy reported as refused at %s and not imported; report %v\n%s", field, res.Report, res.HCL)
				}
				return
			}
			checkVerdicts(t, objs, out)
		})
	}
}

// Input whose translation cannot compile is refused, naming the imported
// block (and so the input object) rather than lines of HCL nobody sees.
func TestImportRefusesWhatCannotCompile(t *testing.T) {
	objs, err := manifest.Decode([]byte(`apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {"00!": x}
  ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: a, namespace: shop}
spec:
  rules:
  - http:
      paths:
      - {path: /, pathType: Prefix, backend: {service: {name: api, port: {number: 80}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := Import(objs, testOptions)
	if err == nil || res != nil {
		t.Fatalf("Import = %v, %v; want an error and no HCL", res, err)
	}
	if want := `service "api": Invalid label selector`; !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "imported.hcl") {
		t.Errorf("error %q: want it to name %s, not HCL lines", err, want)
	}
}
