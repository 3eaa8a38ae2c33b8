package views

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

// fixture is a plan with one change of every kind, as plan.Make produces
// them, so the renderings can be reviewed as golden files.
func fixture() *plan.Plan {
	np := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "users-pays-egress", "namespace": "shop"},
		"spec": map[string]any{"podSelector": map[string]any{"matchLabels": map[string]any{"app": "users"}},
			"policyTypes": []any{"Egress"},
			"egress":      []any{map[string]any{"to": []any{map[string]any{"ipBlock": map[string]any{"cidr": "203.0.113.0/24"}}}, "ports": []any{map[string]any{"port": int64(443), "protocol": "TCP"}}}}}}
	routeBefore := map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec":     map[string]any{"rules": []any{map[string]any{"matches": []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/order"}}}}}}}
	routeAfter := map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "api", "namespace": "shop"},
		"spec":     map[string]any{"rules": []any{map[string]any{"matches": []any{map[string]any{"path": map[string]any{"type": "PathPrefix", "value": "/orders"}}}}}}}
	legacy := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "legacy-egress", "namespace": "shop"},
		"spec":     map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Egress"}, "egress": []any{map[string]any{}}}}
	return &plan.Plan{
		FormatVersion: plan.FormatVersion, Stack: "shop", StateNamespace: "default", Environment: "prod", Target: `context "prod"`,
		Boundary: []plan.BoundaryChange{
			{Action: "add", Added: true, Kind: "expose", Text: "api.example.com/orders -> shop/orders:80", Source: "shop.hcl:28",
				From: "gateway infra/public (listener https)", To: "shop/orders:80", Hosts: []string{"api.example.com"}, Match: "/orders"},
			{Action: "add", Added: true, Kind: "allow", Text: "shop/app=users -> 203.0.113.0/24 443/tcp", Source: "shop.hcl:40",
				From: "shop/app=users", To: "203.0.113.0/24", Ports: []string{"443/tcp"}},
			{Action: "add", Added: true, Kind: "isolate", Text: "egress of shop/app=users", Source: "shop.hcl:40",
				Direction: "egress", Pods: "shop/app=users"},
			{Action: "remove", Added: false, Kind: "allow", Text: "shop/* -> anywhere (all ports)", From: "shop/*", To: "anywhere", Block: `namespace "legacy"`},
		},
		Changes: []plan.Change{
			{Action: plan.Update, APIVersion: "gateway.networking.k8s.io/v1", Kind: "HTTPRoute", Namespace: "shop", Name: "api",
				Source: "shop.hcl:28", Block: `route "api"`, Desired: routeAfter, Live: &plan.LiveRef{UID: "u1", ResourceVersion: "7"},
				Before: routeBefore, After: routeAfter,
				Fields: []plan.FieldChange{{Path: "spec.rules[0].matches[0].path.value", Before: "/order", After: "/orders"}}},
			{Action: plan.Create, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "users-pays-egress",
				Source: "shop.hcl:40", Block: `allow "users pays"`, Desired: np, After: np},
			{Action: plan.Update, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "default-deny",
				Source: "shop.hcl:10", Block: `namespace "shop"`, Live: &plan.LiveRef{UID: "u2", ResourceVersion: "9"},
				Conflict: `Apply failed with 1 conflict: conflict with "kubectl-edit": .spec.policyTypes`,
				Removals: []string{"/spec/ingress"},
				Fields: []plan.FieldChange{{Path: "spec.ingress", Before: []any{map[string]any{}}, Drift: true, Manager: "someone"},
					{Path: "spec.policyTypes[1]", After: "Egress", Drift: true, Manager: "kubectl-edit"}}},
			{Action: plan.NoOp, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "allow-dns"},
			{Action: plan.Update, Adopt: true, APIVersion: "v1", Kind: "Namespace", Name: "payments",
				Source: "shop.hcl:70", Block: `namespace "payments"`, Live: &plan.LiveRef{UID: "u4", ResourceVersion: "3"},
				Fields: []plan.FieldChange{{Path: `metadata.labels["team"]`, After: "payments"}}},
			{Action: plan.Delete, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "legacy-egress",
				Source: "shop.hcl:50", Live: &plan.LiveRef{UID: "u3", ResourceVersion: "11"}, Before: legacy},
		},
		Namespaces: []plan.NamespaceNote{
			{Name: "shop", State: plan.NotOwned, Source: "shop.hcl:10", Block: `namespace "shop"`, UID: "u9",
				Detail: "used as it is: never labelled, taken over or deleted (adopt = true makes it a member)"},
			{Name: "legacy", State: plan.Left, Source: "shop.hcl:60", Block: `namespace "legacy"`,
				Detail: "not deleted: it holds objects this stack does not own (ConfigMap legacy/settings); it stays in the stack's ApplySet, and destroy deletes it once they are gone"},
		},
		Warnings: []plan.Warning{{Severity: plan.WarningSeverity, Summary: "Gateway not found", Object: "HTTPRoute shop/api", Source: "shop.hcl:28",
			Detail: "Gateway infra/public does not exist in the cluster, so the route will not be served until it does."},
			{Severity: plan.WarningSeverity, Summary: "Allow isolates egress", Block: `allow "users pays"`, Source: "shop.hcl:40",
				Range:  &plan.SourceRange{Filename: "shop.hcl", Start: plan.Position{Line: 40, Column: 1}, End: plan.Position{Line: 40, Column: 20}},
				Detail: `allow "users pays" isolates egress for the pods of service.users (shop): their other egress is now denied.`}},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./views -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs; run go test ./views -update and review the diff\n%s", path, got)
	}
}

func TestGoldenText(t *testing.T) {
	var b bytes.Buffer
	if err := Text(&b, fixture(), Style{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.txt", b.Bytes())
	var c bytes.Buffer
	Text(&c, fixture(), Style{Color: true})
	if !strings.Contains(c.String(), "\x1b[32m") || strings.Contains(b.String(), "\x1b[") {
		t.Error("colour must appear only when asked for")
	}
}

func TestGoldenJSON(t *testing.T) {
	var b bytes.Buffer
	if err := JSON(&b, fixture()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", b.Bytes())
	back, err := plan.Read(bytes.NewReader(b.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	JSON(&again, back)
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Error("a plan does not survive a JSON round trip")
	}
}

func TestGoldenMarkdown(t *testing.T) {
	parts := Markdown(fixture())
	if len(parts) != 1 {
		t.Fatalf("%d parts for a small plan", len(parts))
	}
	golden(t, "plan.md", []byte(parts[0]))
}

func TestGoldenDiff(t *testing.T) {
	var b bytes.Buffer
	if err := Diff(&b, fixture(), Style{}); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.diff", b.Bytes())
}

func TestMarkdownSplitsLargePlans(t *testing.T) {
	p := fixture()
	base := p.Changes[1]
	p.Changes = nil
	for i := 0; i < 400; i++ {
		c := base
		c.Name = strings.Repeat("x", 40) + string(rune('a'+i%26)) + strings.Repeat("y", i%7)
		p.Changes = append(p.Changes, c)
	}
	parts := Markdown(p)
	if len(parts) < 2 {
		t.Fatalf("%d parts", len(parts))
	}
	for i, part := range parts {
		if len(part) > MaxCommentSize {
			t.Errorf("part %d has %d characters", i+1, len(part))
		}
		if !strings.HasPrefix(part, "_Part ") {
			t.Errorf("part %d is not numbered", i+1)
		}
		if strings.Count(part, "<details>") != strings.Count(part, "</details>") {
			t.Errorf("part %d splits an object's section", i+1)
		}
	}
}

// TestMarkdownSplitsLongHeads: a plan with thousands of boundary entries
// has a head longer than one comment; it is split at line ends, and each
// piece of a table repeats the table's header.
func TestMarkdownSplitsLongHeads(t *testing.T) {
	p := fixture()
	entry := p.Boundary[0]
	p.Boundary = nil
	for i := 0; i < 3000; i++ {
		e := entry
		e.Text = fmt.Sprintf("ns%d/app=svc%d -> ns%d/app=svc%d 8080/tcp", i%10, i, (i+1)%10, i+1)
		p.Boundary = append(p.Boundary, e)
	}
	parts := Markdown(p)
	if len(parts) < 3 {
		t.Fatalf("%d parts for a head of 3000 boundary entries", len(parts))
	}
	rows := 0
	for i, part := range parts {
		if len(part) > MaxCommentSize {
			t.Errorf("part %d has %d characters", i+1, len(part))
		}
		n := strings.Count(part, "| "+entry.Kind+" |")
		rows += n
		if n > 0 && !strings.Contains(part, "| | what | | source |\n|---|---|---|---|\n") {
			t.Errorf("part %d has boundary rows but no table header", i+1)
		}
	}
	if rows != 3000 {
		t.Errorf("%d boundary rows in all parts, want 3000", rows)
	}
}
