package hclspec

import (
	"regexp"

	"github.com/hashicorp/hcl/v2"
)

var corsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "allow_origins"}, {Name: "allow_methods"}, {Name: "allow_headers"},
	{Name: "expose_headers"}, {Name: "allow_credentials"}, {Name: "max_age"},
}}

// corsOrigin is the Gateway API CORSOrigin pattern: "*", or
// http(s)://host[:port] where the host may start with "*." or be "*".
var corsOrigin = regexp.MustCompile(`(^\*$)|(^(http(s)?):\/\/(((\*\.)?([a-zA-Z0-9\-]+\.)*[a-zA-Z0-9-]+|\*)(:([0-9]{1,5}))?)$)`)

// corsMethods are the methods a CORS filter may allow (HTTPMethodWithWildcard).
var corsMethods = []string{"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "*"}

// cors reads a cors block and applies the HTTPCORSFilter's CRD validation:
// origin format, method enum, header names, list sizes, "*" alone, no
// duplicates (the lists are sets) and max_age of at least one second.
func (d *decoder) cors(b *hcl.Block) *CORS {
	r := open(b.Body, corsSchema, d.ctx, b.DefRange)
	c := &CORS{AllowOrigins: r.strList("allow_origins"), AllowMethods: r.strList("allow_methods"),
		AllowHeaders: r.strList("allow_headers"), ExposeHeaders: r.strList("expose_headers"),
		AllowCredentials: r.boolean("allow_credentials", false)}
	c.MaxAge = int32(r.integer("max_age", 0, 1, 2147483647))
	for _, o := range c.AllowOrigins {
		if len(o) > 253 || !corsOrigin.MatchString(o) {
			r.errorf(r.attrRange("allow_origins"), "Invalid CORS origin",
				"%q is not an origin: write \"*\" or scheme://host[:port] with scheme http or https, such as \"https://app.example.com\" or \"https://*.example.com\".", o)
		}
	}
	for _, m := range c.AllowMethods {
		r.oneOf("allow_methods", m, corsMethods...)
	}
	for i, headers := range [][]string{c.AllowHeaders, c.ExposeHeaders} {
		attr := []string{"allow_headers", "expose_headers"}[i]
		for _, h := range headers {
			if !headerName.MatchString(h) {
				r.errorf(r.attrRange(attr), "Invalid header name", "%q is not an HTTP header name.", h)
			}
		}
	}
	for _, l := range []struct {
		attr     string
		items    []string
		max      int
		wildcard bool
	}{
		{"allow_origins", c.AllowOrigins, 64, true}, {"allow_methods", c.AllowMethods, 9, true},
		{"allow_headers", c.AllowHeaders, 64, true}, {"expose_headers", c.ExposeHeaders, 64, false},
	} {
		checkCORSList(r, l.attr, l.items, l.max, l.wildcard)
	}
	if !r.diags.HasErrors() && len(r.attrs) == 0 {
		r.errorf(b.DefRange, "Empty cors", "A cors block needs at least allow_origins (and usually allow_methods and allow_headers).")
	}
	d.diags = append(d.diags, r.diags...)
	return c
}

func checkCORSList(r *body, attr string, items []string, max int, wildcard bool) {
	if len(items) > max {
		r.errorf(r.attrRange(attr), "Too many values", "%q may list at most %d values.", attr, max)
	}
	seen := map[string]bool{}
	for _, x := range items {
		if seen[x] {
			r.errorf(r.attrRange(attr), "Duplicate value", "%q lists %q twice.", attr, x)
		}
		seen[x] = true
	}
	if wildcard && seen["*"] && len(items) > 1 {
		r.errorf(r.attrRange(attr), "Wildcard with other values", "%q cannot list \"*\" alongside other values: \"*\" already allows everything.", attr)
	}
}
