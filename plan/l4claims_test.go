package plan

import (
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// l4Route writes a route attached to listener section of Gateway edge/edge;
// created is its creationTimestamp ("" for a desired object).
func l4Route(t *testing.T, kind, ns, name, section, created string) *unstructured.Unstructured {
	t.Helper()
	meta := map[string]any{"name": name, "namespace": ns}
	if created != "" {
		meta["creationTimestamp"] = created
	}
	u := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "gateway.networking.k8s.io/v1", "kind": kind, "metadata": meta,
		"spec": map[string]any{"parentRefs": []any{map[string]any{"name": "edge", "namespace": "edge", "sectionName": section}}},
	}}
	if kind == "HTTPRoute" || kind == "TLSRoute" {
		u.Object["spec"].(map[string]any)["hostnames"] = []any{"db.example.com"}
	}
	return u
}

// TestL4ListenerClaims: a TCPRoute or UDPRoute sharing a listener with
// another of its kind is told that Gateway API gives the connections to
// the oldest route, and which one loses when the live objects tell; routes
// of other kinds, or on other listeners, are no competition; HTTP and TLS
// routes keep the hostname warning.
func TestL4ListenerClaims(t *testing.T) {
	var gw unstructured.Unstructured
	if err := yaml.Unmarshal([]byte(l4Gateway), &gw.Object); err != nil {
		t.Fatal(err)
	}
	const early, late = "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"
	tests := []struct {
		name   string
		route  *unstructured.Unstructured
		live   []*unstructured.Unstructured
		want   []string // substrings of the one warning; nil: no warning
		absent string   // must not appear
	}{
		{name: "new tcp route behind a live one",
			route: l4Route(t, "TCPRoute", "data", "pg", "pg", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "TCPRoute", "other", "old", "pg", early)},
			want: []string{`TCPRoute other/old is attached to listener "pg" of Gateway edge/edge too`,
				"all of a TCP listener's connections to one route, the oldest by creation time (then by namespace/name)",
				"this route, created after it, will not receive traffic while TCPRoute other/old exists."},
			absent: "hostname"},
		{name: "live udp route older than the other",
			route: l4Route(t, "UDPRoute", "data", "dns", "dns", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "UDPRoute", "data", "dns", "dns", early), l4Route(t, "UDPRoute", "other", "dns2", "dns", late)},
			want:  []string{"UDP listener", "UDPRoute other/dns2, created after this route, does not receive traffic."}, absent: "hostname"},
		{name: "live tcp route newer than the other",
			route: l4Route(t, "TCPRoute", "data", "pg", "pg", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "TCPRoute", "data", "pg", "pg", late), l4Route(t, "TCPRoute", "other", "old", "pg", early)},
			want:  []string{"this route, created after TCPRoute other/old, does not receive traffic."}},
		{name: "equal creation times: namespace/name decides",
			route: l4Route(t, "TCPRoute", "data", "pg", "pg", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "TCPRoute", "data", "pg", "pg", early), l4Route(t, "TCPRoute", "alpha", "pg", "pg", early)},
			want:  []string{"this route, created after TCPRoute alpha/pg, does not receive traffic."}},
		{name: "another listener",
			route: l4Route(t, "TCPRoute", "data", "pg", "pg", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "UDPRoute", "data", "dns", "dns", early)}},
		{name: "tls routes on one listener keep the hostname warning",
			route: l4Route(t, "TLSRoute", "data", "vault", "tls", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "TLSRoute", "other", "db", "tls", early)},
			want:  []string{"TLSRoute other/db already serves db.example.com on listener \"tls\""}},
		{name: "a route the listener refuses is no competition",
			route: l4Route(t, "TCPRoute", "data", "pg", "pg", ""),
			live:  []*unstructured.Unstructured{l4Route(t, "HTTPRoute", "data", "web", "pg", early)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var lm map[string]any
			listeners, _, _ := unstructured.NestedSlice(gw.Object, "spec", "listeners")
			section := ParentRefs(tc.route)[0].Section
			for _, l := range listeners {
				if m := l.(map[string]any); m["name"] == section {
					lm = m
				}
			}
			got := hostnameClaims(tc.route, &gw, section, lm, tc.live)
			if tc.want == nil {
				if len(got) != 0 {
					t.Fatalf("want no warning, got %+v", got)
				}
				return
			}
			if len(got) != 1 {
				t.Fatalf("want one warning, got %+v", got)
			}
			for _, w := range tc.want {
				if !strings.Contains(got[0].Detail, w) {
					t.Errorf("warning %q lacks %q", got[0].Detail, w)
				}
			}
			if tc.absent != "" && strings.Contains(got[0].Detail, tc.absent) {
				t.Errorf("warning %q says %q", got[0].Detail, tc.absent)
			}
		})
	}
}

// onSet re-parents a route onto listener section of ListenerSet team/cache.
func onSet(u *unstructured.Unstructured, section string) *unstructured.Unstructured {
	u.Object["spec"].(map[string]any)["parentRefs"] = []any{map[string]any{"kind": "ListenerSet", "name": "cache", "namespace": "team", "sectionName": section}}
	return u
}

// TestPendingL4Claims: two TCPRoutes the plan creates on one listener are
// told (once, on the later by namespace/name) that one of them will not
// receive traffic; routes on a ListenerSet's listener are compared with
// live ones too; routes already in the cluster, routes on other listeners
// and HTTP routes are left to hostnameClaims or are no competition.
func TestPendingL4Claims(t *testing.T) {
	const early, late = "2026-01-01T00:00:00Z", "2026-06-01T00:00:00Z"
	tests := []struct {
		name          string
		desired, live []*unstructured.Unstructured
		want          []string // one substring per expected warning, in order
	}{
		{name: "two new tcp routes on one listener",
			desired: []*unstructured.Unstructured{l4Route(t, "TCPRoute", "data", "pg", "pg", ""), l4Route(t, "TCPRoute", "data", "pg2", "pg", "")},
			want:    []string{`data/pg2: TCPRoute data/pg, which this plan creates too, is attached to listener "pg" of Gateway edge/edge. Gateway API gives all of a TCP listener's connections to one route, the oldest by creation time (then by namespace/name), so one of the two routes will not receive traffic (which one depends on the order they are created in).`}},
		{name: "two new udp routes on different listeners",
			desired: []*unstructured.Unstructured{l4Route(t, "UDPRoute", "data", "a", "dns", ""), l4Route(t, "UDPRoute", "data", "b", "dns2", "")}},
		{name: "one of them live: hostnameClaims warns",
			desired: []*unstructured.Unstructured{l4Route(t, "TCPRoute", "data", "pg", "pg", ""), l4Route(t, "TCPRoute", "data", "pg2", "pg", "")},
			live:    []*unstructured.Unstructured{l4Route(t, "TCPRoute", "data", "pg", "pg", early)}},
		{name: "http routes are not l4",
			desired: []*unstructured.Unstructured{l4Route(t, "HTTPRoute", "data", "a", "http", ""), l4Route(t, "HTTPRoute", "data", "b", "http", "")}},
		{name: "new route on a listener set behind a live one",
			desired: []*unstructured.Unstructured{onSet(l4Route(t, "TCPRoute", "team", "redis", "", ""), "redis")},
			live:    []*unstructured.Unstructured{onSet(l4Route(t, "TCPRoute", "other", "old", "", early), "redis")},
			want:    []string{`team/redis: TCPRoute other/old is attached to listener "redis" of ListenerSet team/cache too. Gateway API gives all of a TCP listener's connections to one route, the oldest by creation time (then by namespace/name), so this route, created after it, will not receive traffic while TCPRoute other/old exists.`}},
		{name: "live route on a listener set older than the other",
			desired: []*unstructured.Unstructured{onSet(l4Route(t, "UDPRoute", "team", "dns", "", ""), "dns")},
			live:    []*unstructured.Unstructured{onSet(l4Route(t, "UDPRoute", "team", "dns", "", early), "dns"), onSet(l4Route(t, "UDPRoute", "team", "dns2", "", late), "dns")},
			want:    []string{"team/dns: UDPRoute team/dns2 is attached", "UDPRoute team/dns2, created after this route, does not receive traffic."}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := pendingL4Claims(tc.desired, tc.live)
			var lines []string
			for _, w := range got {
				lines = append(lines, w.Object+": "+w.Detail)
			}
			if len(tc.want) == 0 {
				if len(lines) > 0 {
					t.Fatalf("want no warning, got %q", lines)
				}
				return
			}
			if len(lines) != 1 {
				t.Fatalf("want one warning, got %q", lines)
			}
			for _, w := range tc.want {
				if !strings.Contains(lines[0], w) {
					t.Errorf("warning %q lacks %q", lines[0], w)
				}
			}
		})
	}
}
