package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

// TestDoctorRouteKinds writes a GatewayClass's supportedFeatures through
// the status subresource, as its controller would, and reads doctor's
// verdict on an intent whose managed gateway of that class carries TCP and
// UDP routes: the class lists TCPRoute but not UDPRoute.
func TestDoctorRouteKinds(t *testing.T) {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	classes := dyn.Resource(gatewayClassGVR)
	gc := createClass(t, classes, ns+"-l4", "example.com/l4")
	features := []any{map[string]any{"name": "HTTPRoute"}, map[string]any{"name": "TCPRoute"}}
	if err := unstructured.SetNestedSlice(gc.Object, features, "status", "supportedFeatures"); err != nil {
		t.Fatal(err)
	}
	if _, err := classes.UpdateStatus(context.Background(), gc, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	src := strings.NewReplacer("NS", ns, "CLASS", ns+"-l4").Replace(doctorL4Intent)
	if err := os.WriteFile(filepath.Join(dir, "main.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run([]string{"doctor", "--kubeconfig", c.Kubeconfig, dir}, &out, &errb)
	if code != 1 || strings.Contains(errb.String(), "Error") {
		t.Fatalf("doctor exited %d, want 1 (an error finding)\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	want := `(?m)^error +gatewayclass +gateway.edge: GatewayClass ` + ns + `-l4 does not support UDPRoute \(status.supportedFeatures\); its routes will not be served$`
	if !regexp.MustCompile(want).MatchString(out.String()) {
		t.Errorf("no line matching %s in:\n%s", want, out.String())
	}
}

var doctorL4Intent = `
perimeter {
  stack = "doctorl4"
}
namespace "app" {
  name         = "NS"
  default_deny = ["ingress", "egress"]
}
gateway "edge" {
  namespace      = "NS"
  implementation = "istio"
  manage {
    class = "CLASS"
    listener "pg" {
      protocol = "TCP"
      port     = 5432
    }
    listener "dns" {
      protocol = "UDP"
      port     = 53
    }
  }
}
` + l4Backends("gateway.edge")

// l4Backends are a TCP database and a UDP DNS service with their routes on
// the listeners "pg" and "dns" of parent (a gateway or a listener set).
func l4Backends(parent string) string {
	return strings.ReplaceAll(`service "db" {
  namespace = "NS"
  selector  = { app = "db" }
  port      = 5432
}
service "dns" {
  namespace = "NS"
  selector  = { app = "dns" }
  port      = 53
  protocol  = "udp"
}
tcp_route "db" {
  gateway  = PARENT
  listener = "pg"
  backend  = service.db
}
udp_route "dns" {
  gateway  = PARENT
  listener = "dns"
  backend  = service.dns
}
`, "PARENT", parent)
}
