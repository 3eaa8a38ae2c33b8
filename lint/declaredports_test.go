package lint

import (
	"strings"
	"testing"
)

// Allow ports and named target ports resolve through a service's declared
// ports: "http" covers target port 8080 when the pods name it so, and a
// numeric port other than a declared named target port's does not.
func TestAllowPortsDeclared(t *testing.T) {
	in, _ := load(t, `
perimeter {
  stack = "s"
}
namespace "shop" {
  default_deny = ["ingress"]
}
service "api" {
  namespace   = "shop"
  selector    = { app = "api" }
  port        = 80
  target_port = 8080
  ports       = { http = 8080 }
}
service "web" {
  namespace   = "shop"
  selector    = { app = "web" }
  port        = 80
  target_port = "http"
  ports       = { http = 8000 }
}
allow "by name" {
  from  = namespace.shop
  to    = service.api
  ports = ["http"]
}
allow "wrong number" {
  from  = namespace.shop
  to    = service.web
  ports = [8080]
}
`)
	got := render(allowPorts(in))
	if strings.Contains(got, "service.api") {
		t.Errorf("false positive for a declared name:\n%s", got)
	}
	if !strings.Contains(got, "None of the ports 8080/TCP is the pod port of service.web") {
		t.Errorf("missing the warning for a number the declared target port does not have:\n%s", got)
	}
}
