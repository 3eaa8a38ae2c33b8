package hclspec

import (
	"slices"
	"testing"

	"github.com/hashicorp/hcl/v2"
)

// sharedBlocks parses src and lists the service and allow blocks NewShared
// decodes once for every environment, as "service.x" and "allow.x".
func sharedBlocks(t *testing.T, src string) []string {
	t.Helper()
	s, diags := Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	shared := NewShared(s)
	var out []string
	for _, b := range s.bodies() {
		content, _ := b.Content(rootSchema)
		for _, blk := range content.Blocks {
			if shared.entry(s, blk) != nil {
				out = append(out, blk.Type+"."+blk.Labels[0])
			}
		}
	}
	return out
}

const depsHead = `
perimeter { stack = "s" }
variable "net" {}
variable "on" { default = true }
variable "ports" { default = [443] }
environment "dev" { variables = { net = "10.0.0.0/8" } }
environment "prod" { variables = { net = "10.1.0.0/16" } }
namespace "fixed" {}
namespace "varies" { name = "ns-${var.net}" }
service "api" {
  namespace = "fixed"
  selector  = { app = "api" }
  port      = 80
}
`

// The decision follows every reference of a block through locals and the
// blocks it names, and counts as depending on the environment whatever
// reaches var.*, and whatever it cannot resolve.
func TestSharedBlocksDependencies(t *testing.T) {
	for _, c := range []struct {
		name, intent string
		want         []string
	}{
		{"literal", `allow "a" {
  from = service.api
  to   = cidr("192.0.2.0/24")
}`, []string{"service.api", "allow.a"}},
		{"direct var", `allow "a" {
  from = service.api
  to   = cidr(var.net)
}`, []string{"service.api"}},
		{"local of a literal", `locals { net = "192.0.2.0/24" }
allow "a" {
  from = service.api
  to   = cidr(local.net)
}`, []string{"service.api", "allow.a"}},
		{"local of a var", `locals { net = var.net }
allow "a" {
  from = service.api
  to   = cidr(local.net)
}`, []string{"service.api"}},
		{"local of a local of a var", `locals { a = var.net }
locals { b = "${local.a}" }
allow "a" {
  from = service.api
  to   = cidr(local.b)
}`, []string{"service.api"}},
		{"local of a local of a literal", `locals {
  a = "192.0.2.0/24"
  b = local.a
}
allow "a" {
  from = service.api
  to   = cidr(local.b)
}`, []string{"service.api", "allow.a"}},
		{"locals in a cycle", `locals {
  a = local.b
  b = local.a
}
allow "a" {
  from = service.api
  to   = cidr(local.a)
}`, []string{"service.api"}},
		{"the whole local object", `locals { a = "192.0.2.0/24" }
allow "a" {
  from = service.api
  to   = cidr(local["a"])
}`, []string{"service.api"}},
		{"an undeclared local", `allow "a" {
  from = service.api
  to   = cidr(local.nope)
}`, []string{"service.api"}},
		{"a service in a namespace that depends on var", `service "web" {
  namespace = namespace.varies
  selector  = { app = "web" }
  port      = 80
}
allow "a" {
  from = service.web
  to   = service.api
}`, []string{"service.api"}},
		{"a service in a fixed namespace", `service "web" {
  namespace = namespace.fixed
  selector  = { app = "web" }
  port      = 80
}
allow "a" {
  from = service.web
  to   = service.api
}`, []string{"service.api", "service.web", "allow.a"}},
		{"a service whose nested block reads var", `service "web" {
  namespace = "fixed"
  selector  = { app = "web" }
  port      = 80
  backend_tls { hostname = "web.${var.net}" }
}
allow "a" {
  from = service.api
  to   = service.web
}`, []string{"service.api"}},
		{"an undeclared service", `allow "a" {
  from = service.api
  to   = service.nope
}`, []string{"service.api"}},
		{"a duplicated service", `service "api" {
  namespace = "fixed"
  selector  = { app = "api" }
  port      = 80
}
allow "a" {
  from = service.api
  to   = cidr("192.0.2.0/24")
}`, nil},
		{"a function of a var", `allow "a" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  ports = [max(var.ports...)]
}`, []string{"service.api"}},
		{"a for expression over a var", `allow "a" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  ports = [for p in var.ports : p]
}`, []string{"service.api"}},
		{"a for expression over a literal", `allow "a" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  ports = [for p in [443, 8443] : p if p > 0]
}`, []string{"service.api", "allow.a"}},
		{"a for expression's condition on a var", `allow "a" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  ports = [for p in [443, 8443] : p if var.on]
}`, []string{"service.api"}},
		{"a conditional on a var", `allow "a" {
  from = service.api
  to   = var.on ? cidr("192.0.2.0/24") : cidr("198.51.100.0/24")
}`, []string{"service.api"}},
		{"a conditional on a literal", `allow "a" {
  from = service.api
  to   = true ? cidr("192.0.2.0/24") : cidr("198.51.100.0/24")
}`, []string{"service.api", "allow.a"}},
		{"a template reading a var", `allow "a" {
  from        = service.api
  to          = cidr("192.0.2.0/24")
  description = "to ${var.net}"
}`, []string{"service.api"}},
		{"a name the language does not have", `allow "a" {
  from = service.api
  to   = cidr(each.value)
}`, []string{"service.api"}},
		{"an attribute the schema does not have", `allow "a" {
  from  = service.api
  to    = cidr("192.0.2.0/24")
  extra = var.net
}`, []string{"service.api"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			got := sharedBlocks(t, depsHead+c.intent)
			if !slices.Equal(got, c.want) {
				t.Errorf("shared %q, want %q", got, c.want)
			}
		})
	}
}

// A Shared made from another parse is ignored.
func TestSharedOtherSources(t *testing.T) {
	files := map[string][]byte{"main.hcl": []byte(depsHead)}
	a, _ := Parse(files)
	b, _ := Parse(files)
	shared := NewShared(a)
	if shared.Len() != 1 {
		t.Fatalf("%d shared blocks, want 1", shared.Len())
	}
	for _, body := range b.bodies() {
		content, _ := body.Content(rootSchema)
		for _, blk := range content.Blocks {
			if shared.entry(b, blk) != nil {
				t.Errorf("%s %v shared with another parse", blk.Type, blk.Labels)
			}
		}
	}
	var none *Shared
	if none.entry(a, &hcl.Block{}) != nil || none.Len() != 0 {
		t.Error("a nil Shared shares")
	}
}
