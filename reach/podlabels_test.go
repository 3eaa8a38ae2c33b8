package reach

import (
	"math/rand"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// A pod selector against a pod known to carry only app=users (its other
// labels unknown): every selector form, on the fixed key and on other keys.
// Besides the expected answer, each definite answer must hold in every
// world (the pod with or without team=x or team=y), and each "maybe" must
// really differ between two of them.
func TestMatchPodOpen(t *testing.T) {
	pod := &Pod{Namespace: "a", Name: "users", Labels: map[string]string{"app": "users"}, LabelsOpen: true}
	op := func(key string, o metav1.LabelSelectorOperator, vals ...string) *metav1.LabelSelector {
		return exprSel(key, o, vals...)
	}
	for _, c := range []struct {
		name string
		sel  *metav1.LabelSelector
		want tri
		reqs []string
	}{
		{"empty", sel(), yes, nil},
		{"fixed key equal", sel("app", "users"), yes, nil},
		{"fixed key other value", sel("app", "orders"), no, nil},
		{"unfixed key", sel("team", "x"), maybe, []string{"team=x"}},
		{"fixed equal and unfixed", sel("app", "users", "team", "x"), maybe, []string{"team=x"}},
		{"fixed other value beats unfixed", sel("app", "orders", "team", "x"), no, nil},
		{"In fixed, value listed", op("app", metav1.LabelSelectorOpIn, "users", "web"), yes, nil},
		{"In fixed, value not listed", op("app", metav1.LabelSelectorOpIn, "web"), no, nil},
		{"In unfixed", op("team", metav1.LabelSelectorOpIn, "x"), maybe, []string{"team in (x)"}},
		{"NotIn fixed, value listed", op("app", metav1.LabelSelectorOpNotIn, "users"), no, nil},
		{"NotIn fixed, value not listed", op("app", metav1.LabelSelectorOpNotIn, "web"), yes, nil},
		{"NotIn unfixed", op("team", metav1.LabelSelectorOpNotIn, "x"), maybe, []string{"team notin (x)"}},
		{"Exists fixed", op("app", metav1.LabelSelectorOpExists), yes, nil},
		{"Exists unfixed", op("team", metav1.LabelSelectorOpExists), maybe, []string{"team"}},
		{"DoesNotExist fixed", op("app", metav1.LabelSelectorOpDoesNotExist), no, nil},
		{"DoesNotExist unfixed", op("team", metav1.LabelSelectorOpDoesNotExist), maybe, []string{"!team"}},
	} {
		s, err := metav1.LabelSelectorAsSelector(c.sel)
		if err != nil {
			t.Fatal(err)
		}
		got, facts := matchPod(s, pod)
		var reqs []string
		for _, f := range facts {
			if f.Kind != FactPodLabels || f.Namespace != "a" || f.Pod != "users" {
				t.Errorf("%s: fact %+v is not about the pod's labels", c.name, f)
			}
			reqs = append(reqs, f.Keys...)
		}
		if got != c.want || strings.Join(reqs, ";") != strings.Join(c.reqs, ";") {
			t.Errorf("%s: got %v %v, want %v %v", c.name, got, reqs, c.want, c.reqs)
		}
		checkWorlds(t, c.name, s, got)
		closed := &Pod{Labels: pod.Labels}
		if is, _ := matchPod(s, closed); is != triOf(s.Matches(labels.Set(pod.Labels))) {
			t.Errorf("%s: a pod with known labels got %v", c.name, is)
		}
	}
}

// checkWorlds checks a three-valued match against the pod app=users with
// no other label, with team=x, and with team=y.
func checkWorlds(t *testing.T, name string, s labels.Selector, got tri) {
	t.Helper()
	seen := map[bool]bool{}
	for _, team := range []string{"", "x", "y"} {
		l := labels.Set{"app": "users"}
		if team != "" {
			l["team"] = team
		}
		m := s.Matches(l)
		seen[m] = true
		if got != maybe && m != (got == yes) {
			t.Errorf("%s: definite %v, but the pod with labels %v matches %v", name, got, l, m)
		}
	}
	if got == maybe && len(seen) < 2 {
		t.Errorf("%s: maybe, but every world agrees", name)
	}
}

// The reported bug: a policy admitting pods("a", {team = "x"}) must not
// give a definite verdict for the pods of a service that fixes only app.
const podLabelsIntent = `
perimeter {
  stack = "s"
}
namespace "a" {
  default_deny = ["ingress"]
}
service "users" {
  namespace = "a"
  selector  = { app = "users" }
  port      = 8080
}
service "orders" {
  namespace = "a"
  selector  = { app = "orders" }
  port      = 8080
}
service "billing" {
  namespace = "a"
  selector  = { app = "billing", team = "y" }
  port      = 8080
}
allow "team x calls users" {
  from  = pods("a", { team = "x" })
  to    = service.users
  ports = ["8080"]
}
`

func TestIntentPodLabelsUnknown(t *testing.T) {
	in, objs, ok := loadIntent(t, podLabelsIntent)
	if !ok {
		t.Fatal("does not compile")
	}
	w, err := FromIntent(in, objs.Policies, objs.ClusterPolicies...)
	if err != nil {
		t.Fatal(err)
	}
	svc := func(name string) Peer {
		for _, s := range in.Services {
			if s.Label == name {
				return PodPeer(w.servicePod(s))
			}
		}
		t.Fatalf("no service %s", name)
		return Peer{}
	}
	q := Port{Number: 8080, Protocol: corev1.ProtocolTCP}
	v := w.Evaluate(svc("orders"), svc("users"), q)
	if !v.Unknown || len(v.Facts) != 1 || v.Facts[0].Kind != FactPodLabels || v.Facts[0].Subject != "service.orders" ||
		strings.Join(v.Facts[0].Keys, ",") != "team=x" || !strings.Contains(v.Facts[0].Settle, "--live") {
		t.Errorf("orders -> users: allowed %v unknown %v facts %+v; want unknown on whether service.orders' pods carry team=x", v.Allowed, v.Unknown, v.Facts)
	}
	if v := w.Evaluate(svc("billing"), svc("users"), q); v.Unknown || v.Allowed {
		t.Errorf("billing (team=y fixed) -> users: allowed %v unknown %v; want denied", v.Allowed, v.Unknown)
	}
	if v := w.Evaluate(svc("orders"), svc("users"), Port{Number: 9090, Protocol: corev1.ProtocolTCP}); v.Unknown || v.Allowed {
		t.Errorf("orders -> users 9090: allowed %v unknown %v; want denied whatever the labels", v.Allowed, v.Unknown)
	}
	if v := w.Evaluate(svc("users"), svc("orders"), q); v.Unknown || v.Allowed {
		t.Errorf("users -> orders: allowed %v unknown %v; want denied (no rule names orders' ingress)", v.Allowed, v.Unknown)
	}
	// --live settles it: an orders pod with team=x is admitted, one without
	// is not.
	live := Objects{Namespaces: []Namespace{{Name: "a"}}, Pods: []*Pod{
		{Namespace: "a", Name: "orders-0", Labels: map[string]string{"app": "orders", "team": "x"}},
		{Namespace: "a", Name: "orders-1", Labels: map[string]string{"app": "orders"}},
		{Namespace: "a", Name: "users-0", Labels: map[string]string{"app": "users"}},
	}}
	lw, err := FromLive(in, objs.Policies, live)
	if err != nil {
		t.Fatal(err)
	}
	from, _ := lw.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: in.Services[1]})
	to, _ := lw.Peer(hclspec.Endpoint{Kind: hclspec.EndpointService, Service: in.Services[0]})
	if v := lw.Evaluate(from, to, q); v.Unknown || v.Pairs != (PairCounts{Allowed: 1, Denied: 1}) {
		t.Errorf("live orders -> users: unknown %v pairs %+v; want orders-0 allowed, orders-1 denied", v.Unknown, v.Pairs)
	}
}

// A policy that may select a service's pods (pods("a", {team = "x"}) as a
// destination isolates them if they carry team=x) makes their ingress
// unknown only where the outcome depends on it.
func TestIntentPodLabelsMaybeIsolated(t *testing.T) {
	src := `
perimeter {
  stack = "s"
}
namespace "a" {}
namespace "b" {}
service "users" {
  namespace = "a"
  selector  = { app = "users" }
  port      = 8080
}
service "orders" {
  namespace = "b"
  selector  = { app = "orders" }
  port      = 8080
}
allow "orders calls team x" {
  from  = service.orders
  to    = pods("a", { team = "x" })
  ports = ["8080"]
}
`
	in, objs, ok := loadIntent(t, src)
	if !ok {
		t.Fatal("does not compile")
	}
	w, err := FromIntent(in, objs.Policies, objs.ClusterPolicies...)
	if err != nil {
		t.Fatal(err)
	}
	users, orders := PodPeer(w.servicePod(in.Services[0])), PodPeer(w.servicePod(in.Services[1]))
	// orders' egress reaches users only if users carries team=x: unknown.
	v := w.Evaluate(orders, users, Port{Number: 8080, Protocol: corev1.ProtocolTCP})
	if !v.Unknown || !v.Egress.Unknown() || len(v.Facts) != 1 || v.Facts[0].Subject != "service.users" {
		t.Errorf("orders -> users 8080: allowed %v unknown %v facts %v; want unknown on users' labels", v.Allowed, v.Unknown, v.Facts)
	}
	// users' ingress on 8080 admits orders whether or not it is selected.
	if !v.Ingress.Allowed() || v.Ingress.Unknown() {
		t.Errorf("users ingress 8080: %+v; want allowed either way", v.Ingress)
	}
	// On 9090 it is open if users lacks team=x, closed if it carries it.
	v = w.Evaluate(orders, users, Port{Number: 9090, Protocol: corev1.ProtocolTCP})
	if v.Unknown || v.Allowed || !v.Ingress.Unknown() || len(v.Ingress.MaybeIsolatedBy) != 1 || v.Ingress.Isolated {
		t.Errorf("orders -> users 9090: allowed %v unknown %v ingress %+v; want denied (egress), ingress maybe isolated", v.Allowed, v.Unknown, v.Ingress)
	}
}

// extraLabels are the labels the pods(...) endpoints of the property below
// select by besides app, which no service's selector fixes.
var extraLabels = map[string]string{"team": "x", "tier": "web"}

// TestIntentDifferentialExtraLabels: for random intents whose pods(...)
// endpoints select by labels services do not fix, the pods of services,
// endpoints and data planes are built twice, without and with every extra
// label they are not known to lack. A definite intent verdict must hold in
// both worlds (for ends standing for several pods, as its pair counts
// claim); where the worlds differ on a single pair, it must be unknown.
func TestIntentDifferentialExtraLabels(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	extra := []string{`pods("a", { team = "x" })`, `pods("b", { app = "s0", tier = "web" })`, `pods("a", { tier = "web" })`}
	compiled, decided, unknown, differ := 0, 0, 0, 0
	for n := 0; n < 300; n++ {
		src, ends := randIntentWith(r, extra...)
		in, objs, ok := loadIntent(t, src)
		if !ok {
			continue
		}
		compiled++
		d, u, x := compareWorlds(t, r, n, src, in, objs, ends)
		decided, unknown, differ = decided+d, unknown+u, differ+x
		if t.Failed() {
			return
		}
	}
	t.Logf("%d intents, %d verdicts decided and confirmed in both worlds, %d unknown, %d of them differing between the worlds", compiled, decided, unknown, differ)
	if compiled < 100 || decided == 0 || differ == 0 {
		t.Fatalf("too few cases: %d intents, %d decided, %d differing", compiled, decided, differ)
	}
}

// compareWorlds evaluates every pair of ends on every probe port at the
// intent level and in the two worlds; it returns the verdicts decided, the
// unknown ones, and the unknown ones whose worlds differ.
func compareWorlds(t *testing.T, r *rand.Rand, n int, src string, in *hclspec.Intent, objs Objects, exprs []string) (int, int, int) {
	w, tr, ends := intentWorld(t, r, in, objs, exprs)
	without := tr.engine(t, objs)
	other, moved := tr.withExtraLabels()
	with := other.engine(t, objs)
	decided, unknown, differ := 0, 0, 0
	for _, f := range ends {
		for _, to := range ends {
			if f.peer.Pod == nil && to.peer.Pod == nil {
				continue
			}
			for _, q := range diffQueries {
				v := w.Evaluate(f.peer, to.peer, q)
				f2, to2 := remap(f, moved), remap(to, moved)
				a, b := outcomesIn(without, f, to, q), outcomesIn(with, f2, to2, q)
				if v.Unknown {
					unknown++
					differ += b2i(a != b)
					continue
				}
				decided++
				if a != b && v.Pairs.Total() == 0 {
					t.Errorf("intent %d: %s -> %s on %s: definite (allowed %v), but the worlds differ: without extra labels %s, with them %s\n%s",
						n, f.expr, to.expr, q, v.Allowed, a, b, src)
					return decided, unknown, differ
				}
				msg := confirm(v, without, f, to, q)
				if msg == "" {
					msg = confirm(v, with, f2, to2, q)
				}
				if msg != "" {
					t.Errorf("intent %d: %s -> %s on %s: %s\n%s", n, f.expr, to.expr, q, msg, src)
					return decided, unknown, differ
				}
			}
		}
	}
	return decided, unknown, differ
}

// engine builds the concrete engine of a world.
func (t *truth) engine(tt *testing.T, objs Objects) *Engine {
	e, err := New(objs.Policies, t.namespaceList(), t.pods)
	if err == nil {
		err = e.AddClusterPolicies(objs.ClusterPolicies)
	}
	if err != nil {
		tt.Fatal(err)
	}
	return e
}

// withExtraLabels is the same world with every pod made for an open
// representative carrying the extra labels its own labels do not fix. The
// pods are copies; moved maps the first world's pods to them.
func (t *truth) withExtraLabels() (*truth, map[*Pod]*Pod) {
	out := &truth{r: t.r, namespaces: t.namespaces}
	moved := map[*Pod]*Pod{}
	for _, p := range t.pods {
		q := *p
		if t.open[p] {
			q.Labels = map[string]string{}
			for k, v := range extraLabels {
				q.Labels[k] = v
			}
			for k, v := range p.Labels {
				q.Labels[k] = v
			}
		}
		out.pods = append(out.pods, &q)
		moved[p] = &q
	}
	return out, moved
}

// remap is an end with its concrete pods replaced by their copies.
func remap(e end, moved map[*Pod]*Pod) end {
	out := end{expr: e.expr, peer: e.peer}
	swap := func(p Peer) Peer {
		if q := moved[p.Pod]; q != nil {
			return PodPeer(q)
		}
		return p
	}
	for _, pair := range e.truth {
		out.truth = append(out.truth, [2]Peer{swap(pair[0]), swap(pair[1])})
	}
	return out
}

// outcomesIn renders the concrete outcome of every pair of an end's pods in
// one world, e.g. "AD" for an allowed and a denied pair.
func outcomesIn(e *Engine, from, to end, q Port) string {
	var b strings.Builder
	for _, f := range from.truth {
		for _, t := range to.truth {
			if e.Evaluate(f[0], t[1], q).Allowed {
				b.WriteByte('A')
			} else {
				b.WriteByte('D')
			}
		}
	}
	return b.String()
}

// A guardrail whose subject selects by a label a service does not fix may
// or may not apply to the service's pods: its Deny makes the verdict
// unknown, named by the pod-label fact; for a service whose selector
// contradicts it, the guardrail surely does not apply.
func TestIntentPodLabelsTier(t *testing.T) {
	src := `
perimeter {
  stack = "s"
}
namespace "a" {}
service "users" {
  namespace = "a"
  selector  = { app = "users" }
  port      = 8080
}
service "billing" {
  namespace = "a"
  selector  = { app = "billing", team = "y" }
  port      = 8080
}
service "orders" {
  namespace = "a"
  selector  = { app = "orders" }
  port      = 8080
}
guardrail "g" {
  priority = 1
  subject  = pods("a", { team = "x" })
  ingress "r" {
    action = "deny"
    from   = service.orders
  }
}
`
	in, objs, ok := loadIntent(t, src)
	if !ok || len(objs.ClusterPolicies) == 0 {
		t.Fatal("does not compile to a ClusterNetworkPolicy")
	}
	w, err := FromIntent(in, objs.Policies, objs.ClusterPolicies...)
	if err != nil {
		t.Fatal(err)
	}
	users, billing, orders := PodPeer(w.servicePod(in.Services[0])), PodPeer(w.servicePod(in.Services[1])), PodPeer(w.servicePod(in.Services[2]))
	q := Port{Number: 8080, Protocol: corev1.ProtocolTCP}
	v := w.Evaluate(orders, users, q)
	if !v.Unknown || len(v.Facts) != 1 || v.Facts[0].Kind != FactPodLabels || v.Facts[0].Subject != "service.users" {
		t.Errorf("orders -> users: allowed %v unknown %v facts %v; want unknown on whether users' pods carry team=x", v.Allowed, v.Unknown, v.Facts)
	}
	if v := w.Evaluate(orders, billing, q); v.Unknown || !v.Allowed {
		t.Errorf("orders -> billing: allowed %v unknown %v; want allowed (team=y: the guardrail does not apply)", v.Allowed, v.Unknown)
	}
}
