// Package benchintent writes the intent bench/overlay renders, so that
// tests can check what the benchmark measures.
package benchintent

import (
	"fmt"
	"strings"
)

// Intent writes n services in 10 namespaces, each with an egress
// connection, over three environments (dev, staging, prod); every tenth
// service's egress destination depends on the environment (var.net), so
// overlays carry patches. The services are spread over files round-robin
// (a stack this size is written by many teams in many files); with
// files = 1 everything is in main.hcl.
func Intent(n, files int) map[string][]byte {
	var head strings.Builder
	head.WriteString("perimeter {\n  stack = \"bench\"\n}\nvariable \"net\" {}\n")
	for i, env := range []string{"dev", "staging", "prod"} {
		fmt.Fprintf(&head, "environment %q {\n  variables = { net = \"10.%d.0.0/16\" }\n}\n", env, i)
	}
	for ns := 0; ns < 10; ns++ {
		fmt.Fprintf(&head, "namespace \"ns%d\" {\n  default_deny = [\"ingress\", \"egress\"]\n}\n", ns)
	}
	bodies := make([]strings.Builder, max(files, 1))
	bodies[0].WriteString(head.String())
	for i := 0; i < n; i++ {
		b := &bodies[i%len(bodies)]
		fmt.Fprintf(b, "service \"s%d\" {\n  namespace = \"ns%d\"\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, i%10, i)
		dest := fmt.Sprintf("cidr(\"192.0.%d.0/24\")", i%256)
		if i%10 == 0 {
			dest = "cidr(var.net)"
		}
		fmt.Fprintf(b, "allow \"s%d out\" {\n  from = service.s%d\n  to = %s\n  ports = [443]\n}\n", i, i, dest)
	}
	out := map[string][]byte{"main.hcl": []byte(bodies[0].String())}
	for i := 1; i < len(bodies); i++ {
		out[fmt.Sprintf("services-%02d.hcl", i)] = []byte(bodies[i].String())
	}
	return out
}
