package plan_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// savedPlan is a small valid plan of stack "shop": a namespace it creates,
// a policy in it, and a delete of a live member elsewhere (prune).
func savedPlan() *plan.Plan {
	labels := func(extra map[string]any) map[string]any {
		out := map[string]any{}
		for k, v := range ownership.MemberLabels("shop", "default") {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	ns := map[string]any{"apiVersion": "v1", "kind": "Namespace",
		"metadata": map[string]any{"name": "shop", "labels": labels(map[string]any{"team": "a"})}}
	np := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "default-deny", "namespace": "shop", "labels": labels(nil)},
		"spec":     map[string]any{"podSelector": map[string]any{}, "x": 1.5, "port": int64(8080)}}
	return &plan.Plan{FormatVersion: plan.FormatVersion, Stack: "shop", StateNamespace: "default",
		Scope:   &plan.Scope{Namespaces: []string{"shop"}, ObjectNamespaces: []string{"default", "shop"}},
		Cluster: &plan.ClusterIdentity{Server: "https://a:6443/", KubeSystemUID: "uid-a"},
		Changes: []plan.Change{
			{Action: plan.Create, APIVersion: "v1", Kind: "Namespace", Name: "shop", Desired: ns},
			{Action: plan.Create, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "shop", Name: "default-deny", Desired: np},
			{Action: plan.Delete, APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy", Namespace: "old", Name: "gone",
				Live: &plan.LiveRef{UID: "u1", ResourceVersion: "7"}},
		}}
}

func TestSavedPlanDigest(t *testing.T) {
	var b bytes.Buffer
	if err := savedPlan().Write(&b); err != nil {
		t.Fatal(err)
	}
	saved := b.String()
	if _, err := plan.Read(strings.NewReader(saved)); err != nil {
		t.Fatalf("an unedited plan: %v", err)
	}
	for name, edit := range map[string]string{
		"a byte":          strings.Replace(saved, "default-deny", "default-denz", 1),
		"a number":        strings.Replace(saved, "8080", "8081", 1),
		"the digest gone": strings.Replace(saved, `"digest": "sha256:`, `"digest": "`, 1),
	} {
		if _, err := plan.Read(strings.NewReader(edit)); err == nil || !strings.Contains(err.Error(), "modified or truncated") {
			t.Errorf("%s: Read = %v, want a refusal", name, err)
		}
	}
	if _, err := plan.Read(strings.NewReader(saved[:len(saved)/2])); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated: Read = %v", err)
	}
	reindented := strings.ReplaceAll(saved, "\n  ", "\n\t")
	if _, err := plan.Read(strings.NewReader(reindented)); err != nil {
		t.Errorf("whitespace is not content: %v", err)
	}
}

func TestCheckScope(t *testing.T) {
	if err := plan.CheckScope(savedPlan(), generate.Kinds); err != nil {
		t.Fatalf("a valid plan: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(p *plan.Plan)
		want string
	}{
		{"another kind", func(p *plan.Plan) { p.Changes[1].Kind = "Secret"; p.Changes[1].APIVersion = "v1" },
			"kind Secret (v1) is not one perimeter manages"},
		{"another object than the change names", func(p *plan.Plan) { p.Changes[1].Desired["kind"] = "ClusterRoleBinding" },
			"the object to apply is networking.k8s.io/v1 ClusterRoleBinding shop/default-deny, not the one the change names"},
		{"unmanaged namespace", func(p *plan.Plan) {
			p.Changes[1].Namespace = "kube-system"
			p.Changes[1].Desired["metadata"].(map[string]any)["namespace"] = "kube-system"
		}, `NetworkPolicy kube-system/default-deny: namespace "kube-system" is not one the stack manages (it has default, shop)`},
		{"undeclared Namespace", func(p *plan.Plan) {
			p.Changes[0].Name = "kube-public"
			p.Changes[0].Desired["metadata"].(map[string]any)["name"] = "kube-public"
		}, `namespace "kube-public" is not one of the stack's namespace blocks (it has shop)`},
		{"another stack's label", func(p *plan.Plan) {
			p.Changes[1].Desired["metadata"].(map[string]any)["labels"].(map[string]any)[ownership.LabelStack] = "other"
		}, `label perimeter.dev/stack is "other", not "shop"`},
		{"an extra label", func(p *plan.Plan) {
			p.Changes[1].Desired["metadata"].(map[string]any)["labels"].(map[string]any)["x"] = "y"
		}, "label x is not one of the stack's ownership labels"},
		{"an ApplySet id on a namespace", func(p *plan.Plan) {
			p.Changes[0].Desired["metadata"].(map[string]any)["labels"].(map[string]any)[ownership.LabelApplySetID] = "y"
		}, "label applyset.kubernetes.io/id is not one of the stack's ownership labels"},
		{"renamed stack", func(p *plan.Plan) { p.Stack = "other" }, `label perimeter.dev/stack is "shop", not "other"`},
		{"a stack name that is no DNS label", func(p *plan.Plan) { p.Stack = "../x" }, `stack name "../x" is not a DNS label`},
		{"a delete without its live object", func(p *plan.Plan) { p.Changes[2].Live = nil }, "a delete without the live object"},
		{"an adopted policy", func(p *plan.Plan) { p.Changes[1].Adopt = true }, "only a Namespace read when planning can be adopted"},
		{"twice the same object", func(p *plan.Plan) { p.Changes = append(p.Changes, p.Changes[1]) }, "listed more than once"},
		{"a create without an object", func(p *plan.Plan) { p.Changes[1].Desired = nil }, "no object to apply"},
		{"no scope", func(p *plan.Plan) { p.Scope = nil }, "records no scope"},
	} {
		p := savedPlan()
		tc.edit(p)
		err := plan.CheckScope(p, generate.Kinds)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckScope = %v, want %q", tc.name, err, tc.want)
		}
	}
}

func TestCheckCluster(t *testing.T) {
	p := savedPlan()
	same := plan.ClusterIdentity{Server: "https://a:6443", KubeSystemUID: "uid-a"}
	if err := plan.CheckCluster(p, same); err != nil {
		t.Errorf("the same cluster (URL without its slash): %v", err)
	}
	for name, tc := range map[string]struct {
		now  plan.ClusterIdentity
		want string
	}{
		"another URL": {plan.ClusterIdentity{Server: "https://b:6443", KubeSystemUID: "uid-a"},
			"made against the cluster at https://a:6443/ (kube-system uid uid-a), and this is the cluster at https://b:6443 (kube-system uid uid-a)"},
		"another cluster at the URL": {plan.ClusterIdentity{Server: "https://a:6443/", KubeSystemUID: "uid-b"}, "(kube-system uid uid-b)"},
		"kube-system unreadable now": {plan.ClusterIdentity{Server: "https://a:6443/", Unknown: "forbidden"},
			"cannot tell that it is the same cluster"},
	} {
		if err := plan.CheckCluster(p, tc.now); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: CheckCluster = %v, want %q", name, err, tc.want)
		}
	}
	// planned without reading kube-system: the URL alone decides
	p.Cluster = &plan.ClusterIdentity{Server: "https://a:6443/", Unknown: "forbidden"}
	if err := plan.CheckCluster(p, plan.ClusterIdentity{Server: "https://a:6443/", KubeSystemUID: "uid-b"}); err != nil {
		t.Errorf("unknown at plan time, same URL: %v", err)
	}
	if err := plan.CheckCluster(p, plan.ClusterIdentity{Server: "https://b:6443/"}); err == nil {
		t.Error("unknown at plan time, another URL: applied")
	}
	p.Cluster = nil
	if err := plan.CheckCluster(p, same); err == nil || !strings.Contains(err.Error(), "records no cluster identity") {
		t.Errorf("no identity: %v", err)
	}
}

func TestIntentDigest(t *testing.T) {
	a := plan.IntentDigest(map[string][]byte{"a.hcl": []byte("x"), "b.hcl": []byte("y")})
	if a != plan.IntentDigest(map[string][]byte{"b.hcl": []byte("y"), "a.hcl": []byte("x")}) {
		t.Error("the digest depends on map order")
	}
	// moving bytes from one file to the next changes it
	if a == plan.IntentDigest(map[string][]byte{"a.hcl": []byte("xy"), "b.hcl": nil}) {
		t.Error("file boundaries are not part of the digest")
	}
}
