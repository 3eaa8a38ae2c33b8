package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/manifest"
)

const intentHCL = `perimeter {
  stack = "lint"
}

namespace "open" {
  default_deny = ["ingress"]
}

namespace "closed" {
  default_deny = ["ingress", "egress"]
}

service "quiet" {
  namespace    = "open"
  selector     = { app = "quiet" }
  port         = 80
  default_deny = ["egress"]
  dns          = false
}

service "api" {
  namespace   = "closed"
  selector    = { app = "api" }
  port        = 80
  target_port = 8080
}

service "web" {
  namespace = "closed"
  selector  = { app = "web" }
  port      = 80
}

allow "web calls api on the wrong port" {
  from  = service.web
  to    = service.api
  ports = ["9090/tcp"]
}

allow "web calls api" {
  from = service.web
  to   = service.api
}

allow "web calls api again" {
  from  = service.web
  to    = service.api
  ports = ["8080/tcp"]
}
`

// load compiles HCL text written to a temporary main.hcl.
func load(t *testing.T, text string) (*hclspec.Intent, hcl.Diagnostics) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	in, _, diags := hclspec.Load(dir, hclspec.Options{})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	return in, diags
}

func render(fs []Finding) string {
	var b strings.Builder
	for _, f := range fs {
		b.WriteString(f.Source + " " + f.Summary + " [" + f.Object + "] " + f.Detail + "\n")
	}
	return b.String()
}

func TestIntent(t *testing.T) {
	in, _ := load(t, intentHCL)
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	fs := Intent(in, objs)
	got := render(fs)
	for _, want := range []string{
		`main.hcl:5 Egress left open [] Pods in managed namespace "open" may send traffic anywhere`,
		`main.hcl:13 Egress denied without DNS [] service.quiet cannot resolve names`,
		`main.hcl:34 Port matches no target port [] None of the ports 9090/TCP is the pod port of service.api (8080/TCP)`,
		`main.hcl:45 Redundant rule [NetworkPolicy closed/web-calls-api-again-egress] egress rule 0 admits nothing that egress rule 0 of NetworkPolicy closed/web-calls-api-egress does not already admit.`,
		`main.hcl:45 Redundant rule [NetworkPolicy closed/web-calls-api-again-ingress] ingress rule 0 admits nothing that ingress rule 0 of NetworkPolicy closed/web-calls-api-ingress does not already admit.`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, `"closed" may send`) || strings.Contains(got, "service.web cannot") {
		t.Errorf("false positive:\n%s", got)
	}
	for _, f := range fs {
		if f.Range == nil {
			t.Errorf("finding without an HCL range: %+v", f)
		}
	}
	if again := render(Intent(in, objs)); again != got {
		t.Errorf("not deterministic:\n%s\n---\n%s", got, again)
	}
}

func TestValidateStrict(t *testing.T) {
	in, diags := load(t, intentHCL)
	objs, gd := generate.Objects(in)
	diags = append(diags, gd...)
	lenient := Validate(in, objs, diags, false)
	if lenient.HasErrors() || len(lenient) < 5 {
		t.Fatalf("want warnings only: %v", lenient)
	}
	strict := Validate(in, objs, diags, true)
	if !strict.HasErrors() || len(strict) != len(lenient) {
		t.Fatalf("--strict: %v", strict)
	}
	for _, d := range strict {
		if d.Severity != hcl.DiagError {
			t.Errorf("still a warning with --strict: %s", d.Summary)
		}
	}
}

func TestSeedWarnsOnly(t *testing.T) {
	in, _, _ := hclspec.Load("../examples/seed", hclspec.Options{})
	objs, diags := generate.Objects(in)
	got := Validate(in, objs, diags, false)
	if got.HasErrors() {
		t.Fatal(got)
	}
	var sums []string
	for _, d := range got {
		sums = append(sums, d.Summary)
	}
	if s := strings.Join(sums, "; "); !strings.Contains(s, "Egress denied without DNS") {
		t.Errorf("the restricted service has no DNS on purpose; still a warning: %s", s)
	}
}

const liveYAML = `apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Service
metadata: {name: front, namespace: web}
spec:
  type: LoadBalancer
  selector: {app: front}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: local, namespace: web}
spec:
  type: LoadBalancer
  externalTrafficPolicy: Local
  selector: {app: local}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Pod
metadata: {name: front-1, namespace: web, labels: {app: front}}
spec:
  containers: [{name: app, image: x, ports: [{containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: local-1, namespace: web, labels: {app: local}}
spec:
  containers: [{name: app, image: x, ports: [{containerPort: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: office
  namespace: web
  annotations: {perimeter.dev/source: "main.hcl:7"}
spec:
  podSelector: {matchLabels: {app: front}}
  ingress:
  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]
    ports: [{port: 80}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: local-office, namespace: web}
spec:
  podSelector: {matchLabels: {app: local}}
  ingress:
  - from: [{ipBlock: {cidr: 198.51.100.0/24}}]
    ports: [{port: 8080}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: typo, namespace: web}
spec:
  podSelector: {matchLabels: {app: frnot}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: office-narrow, namespace: web}
spec:
  podSelector: {matchLabels: {app: local}}
  ingress:
  - from: [{ipBlock: {cidr: 198.51.100.7/32}}]
    ports: [{port: 8080}]
`

func TestObjects(t *testing.T) {
	objs, err := manifest.Decode([]byte(liveYAML))
	if err != nil {
		t.Fatal(err)
	}
	got := render(Objects(nil, nil, Split(objs)))
	for _, want := range []string{
		` ipBlock ingress behind a load balancer [NetworkPolicy web/office] It admits 198.51.100.0/24 by source address, but Service web/front (type LoadBalancer, externalTrafficPolicy Cluster) rewrites client source IPs`,
		`main.hcl:7 Port matches no pod port [NetworkPolicy web/office] Ingress rule 0 admits port 80/TCP, which none of the selected pods or their Services' target ports use (8080/TCP)`,
		` Policy selects no pods [NetworkPolicy web/typo] Its podSelector app=frnot matches none of the 2 pod(s) in namespace "web"`,
		` Redundant rule [NetworkPolicy web/office-narrow] ingress rule 0 admits nothing that ingress rule 0 of NetworkPolicy web/local-office does not already admit.`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	if strings.Contains(got, "web/local-office] It admits") || strings.Contains(got, "[NetworkPolicy web/local-office] Ingress rule") {
		t.Errorf("false positive:\n%s", got)
	}
}

const routeHCL = `perimeter {
  stack = "edge"
}

namespace "shop" {
  default_deny = ["ingress", "egress"]
}

gateway "public" {
  namespace      = "edge"
  implementation = "custom"
  data_plane {
    namespace = "edge"
    selector  = { app = "proxy" }
  }
}

service "users" {
  namespace   = "shop"
  selector    = { app = "users" }
  port        = 80
  target_port = "http"
}

route "api" {
  gateway = gateway.public
  rule {
    backend = service.users
  }
}
`

func edgeEgress(port int) string {
	return fmt.Sprintf(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: proxies-out, namespace: edge}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - ports: [{port: %d}]
---
apiVersion: v1
kind: Pod
metadata: {name: users-1, namespace: shop, labels: {app: users}}
spec:
  containers: [{name: app, image: x, ports: [{name: http, containerPort: 8080}]}]
`, port)
}

func TestUnreachableBackend(t *testing.T) {
	in, _ := load(t, routeHCL)
	desired, diags := generate.Objects(in)
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	for _, c := range []struct {
		port int
		want bool
	}{{8080, false}, {9090, true}} {
		live, err := manifest.Decode([]byte(edgeEgress(c.port)))
		if err != nil {
			t.Fatal(err)
		}
		got := render(Objects(in, desired, Split(live)))
		want := `main.hcl:25 Backend unreachable from the gateway [HTTPRoute shop/api] gateway.public's data plane (edge) cannot reach service.users on http/TCP: the data plane's egress is restricted by edge/proxies-out and no rule admits it.`
		if strings.Contains(got, want) != c.want {
			t.Errorf("egress to port %d: want warning %v, got:\n%s", c.port, c.want, got)
		}
	}
}
