package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// shapes are the stacks -write-intent can write besides the benchmark's
// own (one namespace with a default deny): the shapes where perimeter was
// once quadratic or waited on LISTs one by one (docs/benchmarks.md,
// "Stacks the benchmark does not build").
var shapes = map[string]func(n int) string{
	// the benchmark's services without a default deny: every allow
	// isolates its own pods (two policies per service)
	"no-deny": func(n int) string {
		var b strings.Builder
		b.WriteString("perimeter {\n  stack = \"nodeny\"\n  state_namespace = \"pnodeny\"\n}\nnamespace \"pnodeny\" {\n  create = false\n}\n")
		for i := range n {
			fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = \"pnodeny\"\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, i)
			fmt.Fprintf(&b, "allow \"s%d out\" {\n  from = service.s%d\n  to = cidr(\"10.%d.%d.0/24\")\n  ports = [443]\n}\n", i, i, i/256%256, i%256)
		}
		return b.String()
	},
	// n services over n/20 namespaces the stack creates, each with a
	// default deny, an egress allow per service
	"namespaces": func(n int) string {
		var b strings.Builder
		b.WriteString("perimeter {\n  stack = \"manyns\"\n  state_namespace = \"pmanyns\"\n}\nnamespace \"pmanyns\" {\n  create = false\n}\n")
		for ns := range max(n/20, 1) {
			fmt.Fprintf(&b, "namespace \"pm%d\" {\n  default_deny = [\"egress\"]\n}\n", ns)
			for i := range 20 {
				s := fmt.Sprintf("n%ds%d", ns, i)
				fmt.Fprintf(&b, "service %q {\n  namespace = \"pm%d\"\n  selector = { app = %q }\n  port = 80\n}\n", s, ns, s)
				fmt.Fprintf(&b, "allow \"%s out\" {\n  from = service.%s\n  to = cidr(\"10.%d.%d.0/24\")\n  ports = [443]\n}\n", s, s, ns%256, i)
			}
		}
		return b.String()
	},
	// n services, each allowed out to a domain name, as cluster policies
	// (fqdn_egress = "cluster-network-policy"), under a baseline that
	// denies other egress, with a check block per ten services
	"fqdn": func(n int) string {
		var b strings.Builder
		b.WriteString(`perimeter {
  stack = "fqdn"
  state_namespace = "pfqdn"
  fqdn_egress = "cluster-network-policy"
}
namespace "pfqdn" {
  create = false
  default_deny = ["ingress"]
}
baseline "egress-dns-only" {
  priority = 100
  subject = namespaces({})
  egress "dns" {
    action = "accept"
    to = pods("kube-system", { k8s-app = "kube-dns" })
    ports = ["53/udp", "53/tcp"]
  }
  egress "everything else" {
    action = "deny"
    to = [cidr("0.0.0.0/0"), cidr("::/0")]
  }
}
`)
		for i := range n {
			fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = \"pfqdn\"\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, i)
			fmt.Fprintf(&b, "allow \"s%d out\" {\n  from = service.s%d\n  to = fqdn(\"api%d.example.com\")\n  ports = [\"443/tcp\"]\n}\n", i, i, i%50)
			if i%10 == 0 {
				fmt.Fprintf(&b, "check \"s%d reaches\" {\n  from = service.s%d\n  to = fqdn(\"api%d.example.com\")\n  port = \"443/tcp\"\n  expect = \"allow\"\n}\n", i, i, i%50)
			}
		}
		return b.String()
	},
	// n services, each behind a route of one managed gateway
	"routes": func(n int) string {
		var b strings.Builder
		b.WriteString(`perimeter {
  stack = "routes"
  state_namespace = "proutes"
}
namespace "proutes" {
  create = false
}
gateway "public" {
  namespace      = "proutes-infra"
  implementation = "istio"
  manage {
    class = "istio"
    listener "https" {
      protocol     = "HTTPS"
      port         = 443
      hostname     = "*.example.com"
      certificates = ["wildcard"]
    }
  }
}
namespace "proutes-infra" {
  default_deny = ["ingress", "egress"]
}
namespace "proutes-apps" {
  default_deny = ["ingress", "egress"]
}
`)
		for i := range n {
			fmt.Fprintf(&b, "service \"s%d\" {\n  namespace = \"proutes-apps\"\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, i)
			fmt.Fprintf(&b, "route \"r%d\" {\n  namespace = \"proutes-apps\"\n  gateway = gateway.public\n  listener = \"https\"\n  hostnames = [\"s%d.example.com\"]\n  rule {\n    path = \"/\"\n    backend = service.s%d\n  }\n}\n", i, i, i)
		}
		return b.String()
	},
}

// writeShape writes shape's intent for n services into dir/main.hcl.
func writeShape(dir, shape string, n int) error {
	write, ok := shapes[shape]
	if !ok {
		return fmt.Errorf("-shape %q: want bench, no-deny, namespaces, routes or fqdn", shape)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(write(n)), 0o644)
}
