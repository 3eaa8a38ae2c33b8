package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// These tests run plan and apply against a real kube-apiserver and etcd.

func TestMain(m *testing.M) { testcluster.Main(m) }

var (
	netpolGVR = schema.GroupVersionResource{Group: "networking.k8s.io", Version: "v1", Resource: "networkpolicies"}
	routeGVR  = schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "httproutes"}
	cmGVR     = schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
)

// stack is one intent directory planned and applied in a test namespace.
type stack struct {
	t      *testing.T
	name   string
	ns     string
	dir    string
	client *cluster.Client
	dyn    dynamic.Interface
	gwNS   string // namespace of the gateway the route attaches to
}

func newStack(t *testing.T) *stack {
	c := testcluster.Get(t)
	ns := c.Namespace(t)
	client, err := cluster.New(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &stack{t: t, name: "s" + strings.ReplaceAll(ns[len(ns)-6:], "-", ""), ns: ns, dir: t.TempDir(), client: client, dyn: dyn, gwNS: "infra"}
}

// write sets the intent: a namespace, two services, a route and allows.
func (s *stack) write(extra string) {
	src := fmt.Sprintf(`
perimeter {
  stack = %q
}

gateway "public" {
  namespace      = %q
  implementation = "istio"
}

namespace "app" {
  name         = %q
  default_deny = ["ingress"]
}

service "users" {
  namespace   = namespace.app
  selector    = { app = "users" }
  port        = 80
  target_port = 8080
}

service "orders" {
  namespace = namespace.app
  selector  = { app = "orders" }
  port      = 80
}

route "api" {
  gateway   = gateway.public
  hostnames = ["api.example.com"]
  rule {
    path    = "/users"
    backend = service.users
  }
}
%s`, s.name, s.gwNS, s.ns, extra)
	if err := os.WriteFile(filepath.Join(s.dir, "main.hcl"), []byte(src), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) request(destroy bool) plan.Request {
	in, _, diags := hclspec.Load(s.dir, hclspec.Options{})
	if diags.HasErrors() {
		s.t.Fatal(diags.Error())
	}
	objs, diags := generate.Objects(in)
	if diags.HasErrors() {
		s.t.Fatal(diags.Error())
	}
	if destroy {
		objs = nil
	}
	return plan.Request{Stack: in.Stack, StateNamespace: in.StateNamespace, Target: "test", Desired: objs, Kinds: generate.Kinds,
		OwnerSelector: ownership.MemberSelector(in.Stack, in.StateNamespace),
		Owned:         func(o *unstructured.Unstructured) bool { return ownership.IsMember(o, in.Stack, in.StateNamespace) }}
}

func (s *stack) plan() *plan.Plan {
	s.t.Helper()
	p, err := plan.Make(context.Background(), s.client, s.request(false))
	if err != nil {
		s.t.Fatal(err)
	}
	return p
}

func (s *stack) apply(p *plan.Plan, client apply.Cluster, opts apply.Options) *apply.Report {
	s.t.Helper()
	opts.KindOrder = generate.Kinds
	r, err := apply.Run(context.Background(), client, p, opts)
	if err != nil {
		s.t.Fatal(err)
	}
	return r
}

func (s *stack) current(p *plan.Plan) error {
	req := s.request(false)
	return plan.CheckCurrent(context.Background(), s.client, p, generate.Kinds, req.OwnerSelector, req.Owned)
}

func actions(p *plan.Plan) map[string]plan.Action {
	out := map[string]plan.Action{}
	for _, c := range p.Changes {
		out[c.ID()] = c.Action
	}
	return out
}

func (s *stack) netpol(name string) *unstructured.Unstructured {
	obj, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Get(context.Background(), name, metav1.GetOptions{})
	if err != nil {
		return nil
	}
	return obj
}

const usersEgress = `
allow "users pays" {
  from  = service.users
  to    = cidr("203.0.113.0/24")
  ports = ["443/tcp"]
}
`

// The round trip: plan shows creates, apply makes them, the next plan is empty.
func TestPlanApplyPlan(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	p := s.plan()
	a := actions(p)
	want := []string{"HTTPRoute " + s.ns + "/api", "NetworkPolicy " + s.ns + "/default-deny",
		"NetworkPolicy " + s.ns + "/users-from-gateway-public", "NetworkPolicy " + s.ns + "/users-pays-egress", "NetworkPolicy " + s.ns + "/users-allow-dns"}
	for _, id := range want {
		if a[id] != plan.Create {
			t.Errorf("%s: action %q, want create (plan: %v)", id, a[id], a)
		}
	}
	if len(p.Boundary) == 0 {
		t.Error("no boundary summary for a plan that exposes a route")
	}
	r := s.apply(p, s.client, apply.Options{})
	if r.Failed != 0 || r.Added != len(want) {
		t.Fatalf("apply: %+v", r)
	}
	again := s.plan()
	if again.HasChanges() || len(again.Boundary) != 0 {
		t.Fatalf("second plan not empty: %+v", again.Changes)
	}
	obj := s.netpol("users-pays-egress")
	managers := map[string]bool{}
	for _, mf := range obj.GetManagedFields() {
		managers[mf.Manager+"/"+string(mf.Operation)] = true
	}
	if !managers["perimeter/Apply"] {
		t.Errorf("managed fields: %v, want perimeter/Apply", managers)
	}
	parent, err := s.dyn.Resource(cmGVR).Namespace("default").Get(context.Background(), ownership.ParentName(s.name), metav1.GetOptions{})
	if err != nil {
		t.Fatalf("ApplySet parent: %v", err)
	}
	if got := parent.GetAnnotations()[ownership.AnnotationApplySetGroupKinds]; got != "HTTPRoute.gateway.networking.k8s.io,NetworkPolicy.networking.k8s.io" {
		t.Errorf("contains-group-kinds = %q", got)
	}
	if got := parent.GetAnnotations()[ownership.AnnotationApplySetNamespaces]; got != s.ns {
		t.Errorf("additional-namespaces = %q, want %q", got, s.ns)
	}
}

// A changed route shows as a field-level update, and apply converges.
func TestUpdateShowsFieldDiff(t *testing.T) {
	s := newStack(t)
	s.write("")
	s.apply(s.plan(), s.client, apply.Options{})
	src, _ := os.ReadFile(filepath.Join(s.dir, "main.hcl"))
	os.WriteFile(filepath.Join(s.dir, "main.hcl"), []byte(strings.Replace(string(src), `"/users"`, `"/people"`, 1)), 0o644)
	p := s.plan()
	var route *plan.Change
	for i := range p.Changes {
		if p.Changes[i].Kind == "HTTPRoute" {
			route = &p.Changes[i]
		}
	}
	if route == nil || route.Action != plan.Update {
		t.Fatalf("route change: %+v", route)
	}
	if len(route.Fields) != 1 || route.Fields[0].Path != "spec.rules[0].matches[0].path.value" ||
		route.Fields[0].Before != "/users" || route.Fields[0].After != "/people" || route.Fields[0].Drift {
		t.Errorf("fields: %+v", route.Fields)
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Changed != 1 {
		t.Fatalf("apply: %+v", r)
	}
	if s.plan().HasChanges() {
		t.Fatal("not converged")
	}
}

// Someone else's edit of a managed field is drift, named by its manager;
// apply takes it back without --force-conflicts.
func TestDriftAndConflicts(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	s.apply(s.plan(), s.client, apply.Options{})
	patch := []byte(`[{"op":"replace","path":"/spec/egress/0/ports/0/port","value":8443}]`)
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Patch(context.Background(), "users-pays-egress", types.JSONPatchType, patch,
		metav1.PatchOptions{FieldManager: "someone-else"}); err != nil {
		t.Fatal(err)
	}
	p := s.plan()
	var c *plan.Change
	for i := range p.Changes {
		if p.Changes[i].Name == "users-pays-egress" {
			c = &p.Changes[i]
		}
	}
	if c == nil || c.Action != plan.Update || c.Conflict == "" || len(c.Fields) != 1 || !c.Fields[0].Drift {
		t.Fatalf("drifted policy change: %+v", c)
	}
	if !strings.Contains(c.Conflict, "someone-else") {
		t.Errorf("conflict does not name the other manager: %s", c.Conflict)
	}
	if c.Fields[0].Manager != "someone-else" || !c.RepairsDrift() {
		t.Fatalf("the drift is not named and repaired: %+v", c.Fields)
	}
	r := s.apply(p, s.client, apply.Options{})
	if r.Failed != 0 || r.Changed != 1 {
		t.Fatalf("apply without force: %+v", r)
	}
	if s.plan().HasChanges() {
		t.Fatal("not converged after the drift was taken back")
	}
}

// A saved plan is applied exactly or refused when the cluster moved.
func TestStalePlanRefused(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	s.apply(s.plan(), s.client, apply.Options{})
	src, _ := os.ReadFile(filepath.Join(s.dir, "main.hcl"))
	os.WriteFile(filepath.Join(s.dir, "main.hcl"), []byte(strings.Replace(string(src), `"/users"`, `"/people"`, 1)), 0o644)
	saved := s.plan()
	if err := s.current(saved); err != nil {
		t.Fatalf("fresh plan reported stale: %v", err)
	}
	// someone touches an object the plan read
	obj := s.netpol("users-pays-egress")
	obj.SetAnnotations(map[string]string{"touched": "yes"})
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Update(context.Background(), obj, metav1.UpdateOptions{FieldManager: "someone"}); err != nil {
		t.Fatal(err)
	}
	err := s.current(saved)
	if _, ok := err.(*plan.StaleError); !ok || !strings.Contains(err.Error(), "users-pays-egress changed since the plan was made") {
		t.Fatalf("CheckCurrent: %v", err)
	}
	// and an object the plan would create appears
	s.write(usersEgress + `
allow "orders out" {
  from  = service.orders
  to    = cidr("198.51.100.0/24")
  ports = [443]
}`)
	withCreate := s.plan()
	np := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "orders-out-egress", "namespace": s.ns}, "spec": map[string]any{"podSelector": map[string]any{}}}}
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Create(context.Background(), np, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := s.current(withCreate); err == nil || !strings.Contains(err.Error(), "orders-out-egress now exists") {
		t.Fatalf("CheckCurrent after a conflicting create: %v", err)
	}
	// planning again refuses to take the unowned object over
	if _, err := plan.Make(context.Background(), s.client, s.request(false)); err == nil || !strings.Contains(err.Error(), "never takes over") {
		t.Fatalf("plan over an unowned object: %v", err)
	}
}

// Pruning removes only members of the stack's ApplySet, whatever other
// objects' labels look like; destroy removes every member, the parent last.
func TestPruneOnlyOwnedAndDestroy(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	s.apply(s.plan(), s.client, apply.Options{})
	lookalike := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "lookalike", "namespace": s.ns, "labels": map[string]any{
			ownership.LabelStack: s.name, ownership.LabelManagedBy: "perimeter"}},
		"spec": map[string]any{"podSelector": map[string]any{}}}}
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Create(context.Background(), lookalike, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	// another stack in the same namespace, and an object made with kubectl
	other := &stack{t: t, name: s.name + "b", ns: s.ns, dir: t.TempDir(), client: s.client, dyn: s.dyn}
	os.WriteFile(filepath.Join(other.dir, "main.hcl"), []byte(fmt.Sprintf(`
perimeter {
  stack = %q
}
namespace "app" {
  name = %q
}
service "payer" {
  namespace = namespace.app
  selector  = { app = "users" }
  port      = 80
}
allow "other stack" {
  from  = service.payer
  to    = cidr("192.0.2.0/24")
  ports = [443]
}
`, other.name, s.ns)), 0o644)
	if r := other.apply(other.plan(), s.client, apply.Options{}); r.Failed != 0 || r.Added != 2 {
		t.Fatalf("other stack: %+v", r)
	}
	byKubectl := lookalike.DeepCopy()
	byKubectl.SetName("made-by-kubectl")
	byKubectl.SetLabels(map[string]string{ownership.LabelApplySetPartOf: "applyset-somethingelse-v1"})
	if _, err := s.dyn.Resource(netpolGVR).Namespace(s.ns).Create(context.Background(), byKubectl, metav1.CreateOptions{FieldManager: "kubectl-client-side-apply"}); err != nil {
		t.Fatal(err)
	}
	decoys := []string{"lookalike", "made-by-kubectl", "other-stack-egress", "payer-allow-dns"}

	s.write("") // the egress allow is gone
	p := s.plan()
	a := actions(p)
	if a["NetworkPolicy "+s.ns+"/users-pays-egress"] != plan.Delete || a["NetworkPolicy "+s.ns+"/users-allow-dns"] != plan.Delete {
		t.Fatalf("plan: %v", a)
	}
	if _, touched := a["NetworkPolicy "+s.ns+"/lookalike"]; touched {
		t.Fatal("the plan touches an object that is not a member of the ApplySet")
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Destroyed != 2 {
		t.Fatalf("apply: %+v", r)
	}
	if s.netpol("users-pays-egress") != nil {
		t.Fatal("the removed allow's policy survived")
	}
	for _, d := range decoys[:3] {
		if s.netpol(d) == nil {
			t.Fatalf("pruned decoy %s", d)
		}
	}
	d, err := plan.Make(context.Background(), s.client, s.request(true))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, destroy := d.Counts(); destroy != 3 {
		t.Fatalf("destroy plan: %v", actions(d))
	}
	if r := s.apply(d, s.client, apply.Options{DeleteParent: true}); r.Failed != 0 || r.Destroyed != 3 {
		t.Fatalf("destroy: %+v", r)
	}
	if s.netpol("default-deny") != nil {
		t.Fatal("destroy left a member")
	}
	for _, d := range decoys {
		if s.netpol(d) == nil {
			t.Fatalf("destroy removed decoy %s", d)
		}
	}
	if _, err := s.dyn.Resource(cmGVR).Namespace("default").Get(context.Background(), ownership.ParentName(s.name), metav1.GetOptions{}); err == nil {
		t.Fatal("the ApplySet parent survived destroy")
	}
}

// Partial failure: an identity that may write policies but not routes, with
// the permission check before the first write out of the way, gets
// per-object failures; the next plan describes the cluster, an admin apply
// converges, and nothing applied is forgotten.
func TestPartialFailureConverges(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	c := testcluster.Get(t)
	cfg := c.RestrictedConfig(t, "netpol-only-"+s.name, []rbacv1.PolicyRule{
		{APIGroups: []string{"networking.k8s.io"}, Resources: []string{"networkpolicies"}, Verbs: []string{"get", "list", "create", "update", "patch", "delete"}},
		{APIGroups: []string{"gateway.networking.k8s.io"}, Resources: []string{"httproutes"}, Verbs: []string{"get", "list"}},
		{APIGroups: []string{""}, Resources: []string{"configmaps"}, Verbs: []string{"get", "create", "update", "patch"}},
	}, "")
	restricted, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	// as if permissions changed between the check before the first write
	// and the writes (or a webhook refused): the check is hidden
	r := s.apply(s.plan(), struct{ apply.Cluster }{restricted}, apply.Options{})
	if r.Failed != 1 || r.Added != 4 {
		t.Fatalf("restricted apply: %+v", r)
	}
	for _, res := range r.Results {
		if res.Error != "" && (!strings.HasPrefix(res.Object, "HTTPRoute") || !strings.Contains(res.Error, "forbidden") || res.Source == "") {
			t.Errorf("failure not explained against its HCL block: %+v", res)
		}
	}
	p := s.plan()
	if a, ch, d := p.Counts(); a != 1 || ch != 0 || d != 0 {
		t.Fatalf("plan after partial failure: %v", actions(p))
	}
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 || r.Added != 1 {
		t.Fatalf("admin apply: %+v", r)
	}
	if s.plan().HasChanges() {
		t.Fatal("not converged")
	}
	if _, err := s.dyn.Resource(routeGVR).Namespace(s.ns).Get(context.Background(), "api", metav1.GetOptions{}); err != nil {
		t.Fatal(err)
	}
}

// Plan warns about what would keep a route from being served.
func TestGatewayWarnings(t *testing.T) {
	s := newStack(t)
	s.write("")
	warnings := func() string {
		var b strings.Builder
		for _, w := range s.plan().Warnings {
			fmt.Fprintf(&b, "%s: %s [%s %s]\n", w.Summary, w.Detail, w.Object, w.Source)
		}
		return b.String()
	}
	if w := warnings(); !strings.Contains(w, "Gateway not found") || !strings.Contains(w, "main.hcl:") {
		t.Fatalf("missing gateway: %s", w)
	}
	s.gwNS = testcluster.Get(t).Namespace(t)
	s.write("")
	gw := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
		"metadata": map[string]any{"name": "public", "namespace": s.gwNS},
		"spec": map[string]any{"gatewayClassName": "test", "listeners": []any{
			map[string]any{"name": "http", "port": int64(80), "protocol": "HTTP"},
		}}}}
	gwGVR := schema.GroupVersionResource{Group: "gateway.networking.k8s.io", Version: "v1", Resource: "gateways"}
	if _, err := s.dyn.Resource(gwGVR).Namespace(s.gwNS).Create(context.Background(), gw, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); !strings.Contains(w, "Listener does not admit the route") || !strings.Contains(w, "allowedRoutes.namespaces.from: Same") {
		t.Fatalf("listener with from: Same: %s", w)
	}
	patch := []byte(`{"spec":{"listeners":[{"name":"http","port":80,"protocol":"HTTP","allowedRoutes":{"namespaces":{"from":"All"}}}]}}`)
	if _, err := s.dyn.Resource(gwGVR).Namespace(s.gwNS).Patch(context.Background(), "public", types.MergePatchType, patch, metav1.PatchOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); w != "" {
		t.Fatalf("an admitting listener still warns: %s", w)
	}
	other := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
		"metadata": map[string]any{"name": "squatter", "namespace": s.gwNS},
		"spec":     map[string]any{"hostnames": []any{"*.example.com"}, "parentRefs": []any{map[string]any{"name": "public"}}}}}
	if _, err := s.dyn.Resource(routeGVR).Namespace(s.gwNS).Create(context.Background(), other, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if w := warnings(); !strings.Contains(w, "Hostname already claimed") || !strings.Contains(w, "squatter") {
		t.Fatalf("hostname claim: %s", w)
	}
}

// countingTransport counts requests by method.
type countingTransport struct {
	mu     sync.Mutex
	counts map[string]int
	next   http.RoundTripper
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.counts[r.Method]++
	c.mu.Unlock()
	return c.next.RoundTrip(r)
}

// Planning an unchanged stack costs LIST requests per kind, not requests
// per object, and applying a plan without changes writes nothing.
func TestUnchangedStackIsCheap(t *testing.T) {
	s := newStack(t)
	var extra strings.Builder
	for i := 0; i < 30; i++ {
		fmt.Fprintf(&extra, "allow \"out %d\" {\n  from = service.users\n  to = cidr(\"198.51.100.%d/32\")\n  ports = [443]\n}\n", i, i)
	}
	s.write(extra.String())
	if r := s.apply(s.plan(), s.client, apply.Options{}); r.Failed != 0 || r.Added < 30 {
		t.Fatalf("apply: %+v", r)
	}
	counter := &countingTransport{counts: map[string]int{}}
	cfg := rest.CopyConfig(testcluster.Get(t).Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { counter.next = rt; return counter })
	client, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := plan.Make(context.Background(), client, s.request(false))
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() {
		t.Fatalf("plan of an applied stack has changes: %v", actions(p))
	}
	t.Logf("planning %d unchanged objects: %v requests", len(p.Changes), counter.counts)
	// discovery (a few GETs) + the ApplySet parent + two LISTs per kind
	// (by ApplySet label and by stack label, to report look-alikes) + the
	// gateway checks' LISTs: a constant, whatever the number of objects
	// (11 kinds since ListenerSet, TLSRoute, TCPRoute and UDPRoute)
	if counter.counts["GET"] > 40 || counter.counts["PATCH"] != 0 {
		t.Errorf("planning %d unchanged objects made %v requests", len(p.Changes), counter.counts)
	}
	before := counter.counts["PATCH"] + counter.counts["DELETE"] + counter.counts["POST"] + counter.counts["PUT"]
	if r := s.apply(p, client, apply.Options{}); r.Failed+r.Added+r.Changed+r.Destroyed != 0 {
		t.Fatalf("second apply: %+v", r)
	}
	if after := counter.counts["PATCH"] + counter.counts["DELETE"] + counter.counts["POST"] + counter.counts["PUT"]; after != before {
		t.Errorf("applying an empty plan wrote %d times", after-before)
	}
}

// setRouteStatus writes the route's status as a Gateway controller would,
// through the status subresource.
func (s *stack) setRouteStatus(conds map[string][2]string) {
	s.t.Helper()
	if err := s.writeRouteStatus(conds); err != nil {
		s.t.Fatal(err)
	}
}

func (s *stack) writeRouteStatus(conds map[string][2]string) error {
	route, err := s.dyn.Resource(routeGVR).Namespace(s.ns).Get(context.Background(), "api", metav1.GetOptions{})
	if err != nil {
		return err
	}
	var conditions []any
	for _, typ := range []string{"Accepted", "ResolvedRefs"} {
		c, ok := conds[typ]
		if !ok {
			continue
		}
		conditions = append(conditions, map[string]any{"type": typ, "status": c[0], "reason": c[1], "message": typ + " says " + c[1],
			"lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": route.GetGeneration()})
	}
	parents := []any{}
	if conds != nil {
		parents = append(parents, map[string]any{"controllerName": "example.com/gateway-controller",
			"parentRef": map[string]any{"name": "public", "namespace": s.gwNS}, "conditions": conditions})
	}
	route.Object["status"] = map[string]any{"parents": parents}
	_, err = s.dyn.Resource(routeGVR).Namespace(s.ns).UpdateStatus(context.Background(), route, metav1.UpdateOptions{})
	return err
}

// --wait reports in plain words why a route is not served, and succeeds
// once the gateway accepts it.
func TestWaitForRoutes(t *testing.T) {
	s := newStack(t)
	s.write("")
	p := s.plan()
	s.apply(p, s.client, apply.Options{})
	wait := func() apply.RouteStatus {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		st := apply.Wait(ctx, s.client, p, 50*time.Millisecond)
		if len(st) != 1 {
			t.Fatalf("statuses: %+v", st)
		}
		return st[0]
	}
	if st := wait(); st.Ready || !strings.Contains(st.Problem, "no controller has picked the route up") {
		t.Errorf("without status: %+v", st)
	}
	s.setRouteStatus(map[string][2]string{"Accepted": {"False", "NotAllowedByListeners"}})
	if st := wait(); st.Ready || !strings.Contains(st.Problem, "refused the route: NotAllowedByListeners") {
		t.Errorf("refused: %+v", st)
	}
	s.setRouteStatus(map[string][2]string{"Accepted": {"True", "Accepted"}, "ResolvedRefs": {"False", "BackendNotFound"}})
	if st := wait(); st.Ready || !strings.Contains(st.Problem, "could not resolve a backend: BackendNotFound") {
		t.Errorf("unresolved: %+v", st)
	}
	// the controller catches up while we wait
	written := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		written <- s.writeRouteStatus(map[string][2]string{"Accepted": {"True", "Accepted"}, "ResolvedRefs": {"True", "ResolvedRefs"}})
	}()
	defer func() {
		if err := <-written; err != nil {
			t.Error(err)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if st := apply.Wait(ctx, s.client, p, 50*time.Millisecond); len(st) != 1 || !st[0].Ready {
		t.Errorf("accepted: %+v", st)
	}
}

// cuttingTransport passes the first `allow` writes, then fails every request
// as if the API server had gone away.
type cuttingTransport struct {
	mu     sync.Mutex
	allow  int
	writes int
	next   http.RoundTripper
}

func (c *cuttingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	// access and identity reviews are POSTs that write nothing
	review := strings.HasPrefix(r.URL.Path, "/apis/authorization.k8s.io/") || strings.HasPrefix(r.URL.Path, "/apis/authentication.k8s.io/")
	if r.Method != http.MethodGet && !review {
		c.writes++
	}
	cut := c.writes > c.allow
	c.mu.Unlock()
	if cut {
		return nil, fmt.Errorf("dial tcp %s: connect: connection refused", r.URL.Host)
	}
	return c.next.RoundTrip(r)
}

// The connection is lost in the middle of an apply: the failures are
// reported against their HCL blocks, the next plan describes the cluster as
// it is, and applying again converges.
func TestLostConnectionMidApply(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	p := s.plan()
	cut := &cuttingTransport{allow: 3} // the parent and two objects
	cfg := rest.CopyConfig(testcluster.Get(t).Config)
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { cut.next = rt; return cut })
	flaky, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r := s.apply(p, flaky, apply.Options{Concurrency: 1})
	if r.Failed == 0 || r.Added != 2 {
		t.Fatalf("apply over a cut connection: %+v", r)
	}
	for _, res := range r.Results {
		if res.Error != "" && !strings.Contains(res.Error, "connection refused") {
			t.Errorf("unclear failure: %+v", res)
		}
	}
	next := s.plan()
	if a, c, d := next.Counts(); a != 3 || c != 0 || d != 0 {
		t.Fatalf("plan after the cut: %v", actions(next))
	}
	if r := s.apply(next, s.client, apply.Options{}); r.Failed != 0 || r.Added != 3 {
		t.Fatalf("re-run: %+v", r)
	}
	if s.plan().HasChanges() {
		t.Fatal("not converged")
	}
}

// kubectl understands the stack's ApplySet: it lists the same members by
// the part-of label, and its own ApplySet pruning recognises the parent as
// managed by perimeter and refuses to prune it.
func TestKubectlSeesTheApplySet(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	p := s.plan()
	if r := s.apply(p, s.client, apply.Options{}); r.Failed != 0 {
		t.Fatalf("apply: %+v", r)
	}
	c := testcluster.Get(t)
	kubectl := func(env []string, args ...string) (string, error) {
		cmd := exec.Command(filepath.Join(c.BinaryDir, "kubectl"), append([]string{"--kubeconfig", c.Kubeconfig}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := kubectl(nil, "get", "networkpolicies,httproutes", "-n", s.ns, "-o", "name",
		"-l", ownership.MemberSelector(s.name, "default"))
	if err != nil {
		t.Fatalf("kubectl get: %v\n%s", err, out)
	}
	var want []string
	for _, ch := range p.Changes {
		want = append(want, strings.ToLower(ch.Kind)+"."+ch.GVK().Group+"/"+ch.Name)
	}
	sort.Strings(want)
	got := strings.Fields(out)
	sort.Strings(got)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("kubectl sees members\n%v\nperimeter planned\n%v", got, want)
	}
	rendered := filepath.Join(t.TempDir(), "objects.yaml")
	var buf bytes.Buffer
	var objs []*unstructured.Unstructured
	for _, ch := range p.Changes {
		objs = append(objs, ch.DesiredObject())
	}
	if err := manifest.WriteStream(&buf, objs); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(rendered, buf.Bytes(), 0o644)
	out, err = kubectl([]string{"KUBECTL_APPLYSET=true"}, "apply", "--server-side", "--prune", "--dry-run=server",
		"--applyset=configmap/"+ownership.ParentName(s.name), "-n", "default", "-f", rendered)
	if err == nil || !strings.Contains(out, `managed by tooling "perimeter"`) {
		t.Errorf("kubectl's ApplySet pruning did not recognise perimeter's parent: %v\n%s", err, out)
	}
}

// plan --against a rendered tree matches the plan against the cluster for
// the same states: same actions, boundary summary and field changes.
func TestAgainstMatchesLivePlan(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	before := s.request(false).Desired
	s.apply(s.plan(), s.client, apply.Options{})
	tree := t.TempDir()
	if _, err := manifest.WriteDir(t.Context(), tree, generate.ForOutput(before)); err != nil { // as render writes it
		t.Fatal(err)
	}
	s.write(`
allow "orders out" {
  from  = service.orders
  to    = cidr("198.51.100.0/24")
  ports = [443]
}`)
	src, _ := os.ReadFile(filepath.Join(s.dir, "main.hcl"))
	os.WriteFile(filepath.Join(s.dir, "main.hcl"), []byte(strings.Replace(string(src), `"/users"`, `"/people"`, 1)), 0o644)
	live := s.plan()
	objs, err := manifest.ReadDir(tree)
	if err != nil {
		t.Fatal(err)
	}
	offline, err := plan.Make(context.Background(), manifest.Objects(objs), s.request(false))
	if err != nil {
		t.Fatal(err)
	}
	summary := func(p *plan.Plan) string {
		var b strings.Builder
		for _, c := range p.Changes {
			fmt.Fprintf(&b, "%s %s\n", c.Action, c.ID())
			for _, f := range c.Fields {
				fmt.Fprintf(&b, "  %s: %v -> %v\n", f.Path, f.Before, f.After)
			}
		}
		for _, bc := range p.Boundary {
			fmt.Fprintf(&b, "boundary %v %s %s %s\n", bc.Added, bc.Kind, bc.Text, bc.Source)
		}
		return b.String()
	}
	if a, b := summary(live), summary(offline); a != b {
		t.Errorf("against the cluster:\n%s\nagainst the rendered tree:\n%s", a, b)
	}
	if a, c, d := live.Counts(); a != 2 || c != 1 || d != 2 {
		t.Errorf("live plan counts %d/%d/%d:\n%s", a, c, d, summary(live))
	}
	if !offline.Offline || live.Offline {
		t.Error("Offline marks the wrong plan")
	}
}

// A kind the cluster does not serve (here a made-up one; in the field a
// Gateway API bundle without BackendTLSPolicy) does not stop a plan that
// wants none of it; a plan that wants one fails, naming the kind.
func TestPlanSkipsKindsNotServed(t *testing.T) {
	s := newStack(t)
	s.write(usersEgress)
	unserved := schema.GroupVersionKind{Group: "unserved.perimeter.dev", Version: "v1", Kind: "Nothing"}
	req := s.request(false)
	req.Kinds = append(slices.Clone(req.Kinds), unserved)
	if _, err := plan.Make(context.Background(), s.client, req); err != nil {
		t.Fatalf("plan with an unserved kind it does not want: %v", err)
	}
	want := &unstructured.Unstructured{}
	want.SetGroupVersionKind(unserved)
	want.SetName("x")
	want.SetNamespace(s.ns)
	req.Desired = append(slices.Clone(req.Desired), want)
	if _, err := plan.Make(context.Background(), s.client, req); err == nil || !strings.Contains(err.Error(), "does not serve Nothing") {
		t.Fatalf("plan wanting an unserved kind: %v, want an error naming it", err)
	}
}
