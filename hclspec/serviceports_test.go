package hclspec

import (
	"maps"
	"strings"
	"testing"
)

const portsBase = `
perimeter {
  stack = "s"
}
namespace "shop" {}
`

func decodeString(t *testing.T, src string) (*Intent, []string) {
	t.Helper()
	files, diags := Parse(map[string][]byte{"main.hcl": []byte(portsBase + src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	in, diags := Decode(files, Options{})
	var out []string
	for _, d := range diags {
		out = append(out, d.Subject.String()+": "+d.Summary+": "+d.Detail)
	}
	return in, out
}

// A service declares its pods' named ports; absent means unknown (nil),
// empty means none.
func TestServicePorts(t *testing.T) {
	in, diags := decodeString(t, `
service "api" {
  namespace   = "shop"
  selector    = { app = "api" }
  port        = 80
  target_port = "http"
  ports       = { http = 8080, metrics = 9102 }
}
service "none" {
  namespace = "shop"
  selector  = { app = "none" }
  port      = 80
  ports     = {}
}
service "open" {
  namespace = "shop"
  selector  = { app = "open" }
  port      = 80
}`)
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	if want := map[string]int32{"http": 8080, "metrics": 9102}; !maps.Equal(in.Services[0].Ports, want) {
		t.Errorf("ports = %v, want %v", in.Services[0].Ports, want)
	}
	if p := in.Services[1].Ports; p == nil || len(p) != 0 {
		t.Errorf("ports = {} decoded as %#v, want an empty map", p)
	}
	if in.Services[2].Ports != nil {
		t.Errorf("no ports attribute decoded as %v, want nil", in.Services[2].Ports)
	}
}

// Invalid names and numbers are errors at the item; a named target port
// or an allow port the declaration lacks is an error or a warning.
func TestServicePortsInvalid(t *testing.T) {
	_, diags := decodeString(t, `
service "api" {
  namespace   = "shop"
  selector    = { app = "api" }
  port        = 80
  target_port = "web"
  ports       = { http = 8080, "Bad_Name" = 1, metrics = 70000 }
}
allow "scrape" {
  from  = namespace.shop
  to    = service.api
  ports = ["prom"]
}`)
	want := []string{
		`main.hcl:12,32-46: Invalid port name: "Bad_Name"`,
		`main.hcl:12,48-63: Invalid port number: Port "metrics" must be a whole number from 1 to 65535.`,
		`main.hcl:11,17-22: Undeclared target port: target_port "web" is not among`,
		`main.hcl:17,11-19: Undeclared port name: Service "api" declares no container port named "prom" (its ports: http = 8080)`,
	}
	if len(diags) != len(want) {
		t.Fatalf("got %d diagnostics, want %d:\n%s", len(diags), len(want), strings.Join(diags, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(diags[i], w) {
			t.Errorf("diagnostic %d:\n got %s\nwant %s...", i, diags[i], w)
		}
	}
}
