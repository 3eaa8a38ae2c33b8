package importer

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/perimeter-dev/perimeter/reach"
)

// checkRoutes compares the listener/host/path/backend tuples of the input
// Ingresses and routes with those of the rendered routes. Ingress paths are
// served on the listener the import attaches routes to; a host that
// ingress-nginx redirects to HTTPS (ssl-redirect, force-ssl-redirect) also
// has its paths redirected on the plain-HTTP listener.
func checkRoutes(t *testing.T, in, out []*unstructured.Unstructured, opts Options) {
	t.Helper()
	_, listener, _ := strings.Cut(opts.Gateway, ":")
	httpListener := opts.HTTPListener
	if httpListener == "" {
		httpListener = gatewayHTTPListener(t, in)
	}
	want := sortedSet(setOf(append(ingressTuples(t, in, listener, httpListener), routeTuples(t, in, listener)...)))
	got := routeTuples(t, out, listener)
	if !slices.Equal(want, got) {
		t.Errorf("routes differ from the Ingresses:\n ingress: %q\n routes:  %q", want, got)
	}
}

func ingressTuples(t *testing.T, objs []*unstructured.Unstructured, listener, httpListener string) []string {
	services := map[string]*corev1.Service{}
	var ingresses []*netv1.Ingress
	for _, u := range objs {
		switch u.GetKind() {
		case "Service":
			s := &corev1.Service{}
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s))
			s.Namespace = cmp.Or(s.Namespace, "default") // where kubectl apply puts it
			services[s.Namespace+"/"+s.Name] = s
		case "Ingress":
			in := &netv1.Ingress{}
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, in))
			in.Namespace = cmp.Or(in.Namespace, "default")
			ingresses = append(ingresses, in)
		}
	}
	set := map[string]bool{}
	primary := map[string]string{} // ns|host|type|path routed to a service by a primary Ingress: its listener
	sort.SliceStable(ingresses, func(i, j int) bool {
		return ingresses[i].Annotations["nginx.ingress.kubernetes.io/canary"] < ingresses[j].Annotations["nginx.ingress.kubernetes.io/canary"]
	})
	for _, in := range ingresses {
		a := in.Annotations
		if isTrue(a["nginx.ingress.kubernetes.io/ssl-passthrough"]) {
			continue // TLS passthrough: checkL4Routes
		}
		canary := isTrue(a["nginx.ingress.kubernetes.io/canary"])
		if canary && a["nginx.ingress.kubernetes.io/canary-weight"] == "" && a["nginx.ingress.kubernetes.io/canary-by-header"] == "" {
			continue // receives no traffic
		}
		grpc := strings.HasPrefix(strings.ToUpper(a["nginx.ingress.kubernetes.io/backend-protocol"]), "GRPC")
		redirect := a["nginx.ingress.kubernetes.io/permanent-redirect"] != "" || a["nginx.ingress.kubernetes.io/temporal-redirect"] != ""
		forced, _ := strconv.ParseBool(a["nginx.ingress.kubernetes.io/force-ssl-redirect"])
		// a host has TLS when any primary Ingress has it (one nginx server per host)
		hasTLS := func(host string) bool {
			_, parent, _ := strings.Cut(host, ".")
			for _, other := range ingresses {
				if isTrue(other.Annotations["nginx.ingress.kubernetes.io/canary"]) {
					continue
				}
				for _, tls := range other.Spec.TLS {
					if len(tls.Hosts) == 0 && other == in || host != "" && (slices.Contains(tls.Hosts, host) || slices.Contains(tls.Hosts, "*."+parent)) {
						return true
					}
				}
			}
			return false
		}
		toHTTPS := func(host string) bool {
			if canary || grpc || httpListener == "" {
				return false
			}
			if forced {
				return true
			}
			if b, err := strconv.ParseBool(a["nginx.ingress.kubernetes.io/ssl-redirect"]); host == "" || err == nil && !b {
				return false
			}
			return hasTLS(host)
		}
		// a host without TLS was served over plain HTTP, and stays there
		served := func(host string) string {
			if grpc || forced || hasTLS(host) || httpListener == "" {
				return listener
			}
			return httpListener
		}
		add := func(host string, p netv1.HTTPIngressPath) {
			if p.Backend.Service == nil {
				return
			}
			typ, path := "prefix", p.Path
			if path == "" {
				path = "/"
			}
			if p.PathType != nil && *p.PathType == netv1.PathTypeExact {
				typ = "exact"
			}
			rewrite := a["nginx.ingress.kubernetes.io/rewrite-target"]
			regex := isTrue(a["nginx.ingress.kubernetes.io/use-regex"]) && (strings.ContainsAny(path, "^$()[]*+?|{}\\") || !validPath.MatchString(path))
			if c := capturePath.FindStringSubmatch(path); c != nil && rewrite == "/$2" {
				typ, path = "prefix", c[1]
			} else if regex && rewrite == "" {
				// ingress-nginx: ~* "^PATH", case-insensitive, open-ended
				typ, path = "regex", "(?i)"+strings.TrimPrefix(path, "^")
				if !strings.HasSuffix(path, "$") {
					path += ".*"
				}
				if _, err := regexp.Compile(path); err != nil {
					return // PCRE only: reported as not translated
				}
			} else if !validPath.MatchString(path) || regex {
				return // reported as not translated
			}
			if appRoot := a["nginx.ingress.kubernetes.io/app-root"]; appRoot != "" && !canary && !grpc && validPath.MatchString(appRoot) {
				// a request for exactly / is redirected (302) first
				set[served(host)+"|"+host+"|exact|/|redirect"] = true
				if toHTTPS(host) {
					set[httpListener+"|"+host+"|exact|/|redirect"] = true
				}
			}
			if grpc {
				typ, path = "grpc", "-"
			}
			target := "redirect"
			if !redirect {
				target = backendOf(in.Namespace, p.Backend.Service, services)
			}
			k := in.Namespace + "|" + host + "|" + typ + "|" + path
			on := served(host)
			switch {
			case !canary && !redirect:
				primary[k] = on
			case canary && primary[k] == "":
				return // reported: no primary rule to merge into
			case canary:
				on = primary[k] // merged into the primary's rule
			}
			set[on+"|"+host+"|"+typ+"|"+path+"|"+target] = true
			if !canary && !redirect && !grpc && isTrue(a["nginx.ingress.kubernetes.io/enable-cors"]) && anyOrigin(a["nginx.ingress.kubernetes.io/cors-allow-origin"]) {
				set[on+"|"+host+"|"+typ+"|"+path+"|cors"] = true
			}
			if toHTTPS(host) {
				set[httpListener+"|"+host+"|"+typ+"|"+path+"|redirect"] = true
			}
		}
		for _, r := range in.Spec.Rules {
			if r.HTTP != nil {
				for _, p := range r.HTTP.Paths {
					add(r.Host, p)
				}
			}
		}
		if d := in.Spec.DefaultBackend; d != nil && !canary {
			add("", netv1.HTTPIngressPath{Path: "/", Backend: *d})
		}
	}
	return sortedSet(set)
}

func backendOf(ns string, b *netv1.IngressServiceBackend, services map[string]*corev1.Service) string {
	port := b.Port.Number
	if s := services[ns+"/"+b.Name]; s != nil && b.Port.Name != "" {
		for _, p := range s.Spec.Ports {
			if p.Name == b.Port.Name {
				port = p.Port
			}
		}
	}
	if port == 0 {
		port = 80
	}
	return fmt.Sprintf("%s/%s:%d", ns, b.Name, port)
}

// routeTuples lists listener|host|type|path|target of every route rule; a
// route naming no listener is counted on the listener the import uses.
func routeTuples(t *testing.T, objs []*unstructured.Unstructured, listener string) []string {
	set := map[string]bool{}
	for _, u := range objs {
		if u.GetKind() != "HTTPRoute" && u.GetKind() != "GRPCRoute" {
			continue
		}
		section := listener
		parents, _, _ := unstructured.NestedSlice(u.Object, "spec", "parentRefs")
		if len(parents) > 0 {
			if s, ok := parents[0].(map[string]any)["sectionName"].(string); ok {
				section = s
			}
		}
		hosts, _, _ := unstructured.NestedStringSlice(u.Object, "spec", "hostnames")
		if len(hosts) == 0 {
			hosts = []string{""}
		}
		rules, _, _ := unstructured.NestedSlice(u.Object, "spec", "rules")
		for _, r := range rules {
			for _, h := range hosts {
				for _, tup := range ruleTuples(u, r.(map[string]any)) {
					set[section+"|"+h+"|"+tup] = true
				}
			}
		}
	}
	return sortedSet(set)
}

func ruleTuples(u *unstructured.Unstructured, rule map[string]any) []string {
	var targets []string
	refs, _, _ := unstructured.NestedSlice(rule, "backendRefs")
	for _, r := range refs {
		ref := r.(map[string]any)
		ns, ok := ref["namespace"].(string)
		if !ok {
			ns = u.GetNamespace()
		}
		targets = append(targets, fmt.Sprintf("%s/%s:%v", ns, ref["name"], ref["port"]))
	}
	filters, _, _ := unstructured.NestedSlice(rule, "filters")
	for _, f := range filters {
		switch f.(map[string]any)["type"] {
		case "RequestRedirect":
			targets = append(targets, "redirect")
		case "CORS":
			targets = append(targets, "cors") // the rule answers CORS requests
		}
	}
	if u.GetKind() == "GRPCRoute" {
		var out []string
		for _, tg := range targets {
			out = append(out, "grpc|-|"+tg)
		}
		return out
	}
	var out []string
	matches, _, _ := unstructured.NestedSlice(rule, "matches")
	for _, m := range matches {
		typ, _, _ := unstructured.NestedString(m.(map[string]any), "path", "type")
		val, _, _ := unstructured.NestedString(m.(map[string]any), "path", "value")
		kind := map[string]string{"Exact": "exact", "PathPrefix": "prefix", "RegularExpression": "regex"}[typ]
		for _, tg := range targets {
			out = append(out, kind+"|"+val+"|"+tg)
		}
	}
	return out
}

// checkVerdicts evaluates every pod pair and port of a grid built from the
// input under the input policies and under the rendered ones. The policies
// perimeter adds to admit the gateway to route backends are left out: they
// change meaning by design, and the import report says so.
func checkVerdicts(t *testing.T, in, out []*unstructured.Unstructured) {
	t.Helper()
	before, err := reach.FromObjects(in)
	must(t, err)
	var kept []*unstructured.Unstructured
	for _, u := range out {
		if !strings.Contains(u.GetName(), "-from-gateway-") {
			kept = append(kept, u)
		}
	}
	after, err := reach.FromObjects(kept)
	must(t, err)
	g := buildGrid(in, before.Policies, before.Namespaces)
	e1, err := reach.New(before.Policies, g.namespaces, g.pods)
	must(t, err)
	e2, err := reach.New(after.Policies, g.namespaces, g.pods)
	must(t, err)
	diffs := 0
	for _, from := range g.peers {
		for _, to := range g.peers {
			if from.Pod == nil && to.Pod == nil {
				continue
			}
			for _, port := range g.ports {
				v1, v2 := e1.Evaluate(from, to, port), e2.Evaluate(from, to, port)
				if v1.Allowed != v2.Allowed && diffs < 10 {
					diffs++
					t.Errorf("%s -> %s %s: input says %v, imported intent says %v", from, to, port, v1.Allowed, v2.Allowed)
				}
			}
		}
	}
}

type grid struct {
	namespaces []reach.Namespace
	pods       []*reach.Pod
	peers      []reach.Peer
	ports      []reach.Port
}

// buildGrid makes pods for every selector the input mentions, in every
// namespace it mentions (plus one it does not), external addresses inside
// and outside every IP block, and the ports the policies and services name.
func buildGrid(objs []*unstructured.Unstructured, policies []netv1.NetworkPolicy, nss []reach.Namespace) grid {
	var g grid
	g.namespaces = append(g.namespaces, nss...)
	nsSet := map[string]bool{"elsewhere": true}
	for _, ns := range nss {
		nsSet[ns.Name] = true
	}
	var selectors []map[string]string
	ports := map[string]reach.Port{}
	addPort := func(p reach.Port) { ports[p.String()] = p }
	for _, n := range []int32{53, 80, 443, 8080} {
		addPort(reach.Port{Number: n, Protocol: corev1.ProtocolTCP})
		addPort(reach.Port{Number: n, Protocol: corev1.ProtocolUDP})
	}
	var named []reach.NamedPort
	ips := map[string]netip.Addr{"8.8.8.8": netip.MustParseAddr("8.8.8.8")}
	for _, u := range objs {
		nsSet[u.GetNamespace()] = u.GetNamespace() != "" || nsSet[""]
		if u.GetKind() == "Service" {
			sel, _, _ := unstructured.NestedStringMap(u.Object, "spec", "selector")
			selectors = append(selectors, sel)
		}
	}
	for i, p := range policies {
		nsSet[p.Namespace] = true
		selectors = append(selectors, p.Spec.PodSelector.MatchLabels)
		var peers []netv1.NetworkPolicyPeer
		var pps []netv1.NetworkPolicyPort
		for _, r := range p.Spec.Ingress {
			peers, pps = append(peers, r.From...), append(pps, r.Ports...)
		}
		for _, r := range p.Spec.Egress {
			peers, pps = append(peers, r.To...), append(pps, r.Ports...)
		}
		for j, peer := range peers {
			if peer.PodSelector != nil {
				selectors = append(selectors, peer.PodSelector.MatchLabels)
			}
			if peer.NamespaceSelector != nil {
				g.namespaces = append(g.namespaces, reach.Namespace{Name: fmt.Sprintf("sel-%d-%d", i, j), Labels: peer.NamespaceSelector.MatchLabels})
			}
			if b := peer.IPBlock; b != nil {
				for _, c := range append([]string{b.CIDR}, b.Except...) {
					pfx := netip.MustParsePrefix(c)
					ips[pfx.Addr().String()] = pfx.Addr()
					if next := pfx.Addr().Next(); pfx.Contains(next) {
						ips[next.String()] = next
					}
				}
			}
		}
		for _, pp := range pps {
			proto := corev1.ProtocolTCP
			if pp.Protocol != nil {
				proto = *pp.Protocol
			}
			switch {
			case pp.Port == nil:
			case pp.Port.Type == 1:
				named = append(named, reach.NamedPort{Name: pp.Port.StrVal, Port: 9999, Protocol: proto})
				addPort(reach.Port{Name: pp.Port.StrVal, Protocol: proto})
			default:
				n := pp.Port.IntVal
				for _, x := range []int32{n - 1, n, n + 1} {
					addPort(reach.Port{Number: x, Protocol: proto})
				}
				if pp.EndPort != nil {
					addPort(reach.Port{Number: *pp.EndPort, Protocol: proto})
					addPort(reach.Port{Number: *pp.EndPort + 1, Protocol: proto})
				}
			}
		}
	}
	for _, ns := range g.namespaces {
		nsSet[ns.Name] = true
	}
	selectors = append(selectors, nil)
	for _, ns := range sortedSet(nsSet) {
		if ns == "" {
			continue
		}
		for i, sel := range selectors {
			pod := &reach.Pod{Namespace: ns, Name: fmt.Sprintf("pod-%d", i), Labels: sel, Ports: named}
			g.pods = append(g.pods, pod)
			g.peers = append(g.peers, reach.PodPeer(pod))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(ips)) {
		g.peers = append(g.peers, reach.IPPeer(ips[k]))
	}
	for _, k := range slices.Sorted(maps.Keys(ports)) {
		g.ports = append(g.ports, ports[k])
	}
	return g
}

func sortedSet(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func setOf(xs []string) map[string]bool {
	out := map[string]bool{}
	for _, x := range xs {
		out[x] = true
	}
	return out
}

// gatewayHTTPListener is the name of the first HTTP listener of a Gateway
// in the input, or "".
func gatewayHTTPListener(t *testing.T, objs []*unstructured.Unstructured) string {
	for _, u := range objs {
		if u.GetKind() != "Gateway" {
			continue
		}
		listeners, _, _ := unstructured.NestedSlice(u.Object, "spec", "listeners")
		for _, l := range listeners {
			if l.(map[string]any)["protocol"] == "HTTP" {
				return l.(map[string]any)["name"].(string)
			}
		}
	}
	return ""
}

// checkBackendTLS expects a BackendTLSPolicy targeting every backend
// Service of an Ingress whose backends speak TLS (backend-protocol HTTPS or
// GRPCS), and of every input BackendTLSPolicy that targets Services.
func checkBackendTLS(t *testing.T, in, out []*unstructured.Unstructured) {
	t.Helper()
	want := map[string]bool{}
	for _, u := range in {
		switch u.GetKind() {
		case "Ingress":
			ing := &netv1.Ingress{}
			must(t, runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, ing))
			proto := strings.ToUpper(ing.Annotations["nginx.ingress.kubernetes.io/backend-protocol"])
			if proto != "HTTPS" && proto != "GRPCS" || isTrue(ing.Annotations["nginx.ingress.kubernetes.io/canary"]) ||
				isTrue(ing.Annotations["nginx.ingress.kubernetes.io/ssl-passthrough"]) { // the gateway does not speak TLS to a passthrough backend
				continue
			}
			for _, r := range ing.Spec.Rules {
				if r.HTTP != nil {
					for _, p := range r.HTTP.Paths {
						if p.Backend.Service != nil {
							want[ing.Namespace+"/"+p.Backend.Service.Name] = true
						}
					}
				}
			}
			if d := ing.Spec.DefaultBackend; d != nil && d.Service != nil {
				want[ing.Namespace+"/"+d.Service.Name] = true // the annotations apply to it too
			}
		case "BackendTLSPolicy":
			for _, ref := range targetServices(u) {
				want[ref] = true
			}
		}
	}
	got := map[string]bool{}
	for _, u := range out {
		if u.GetKind() == "BackendTLSPolicy" {
			for _, ref := range targetServices(u) {
				got[ref] = true
			}
		}
	}
	if w, g := sortedSet(want), sortedSet(got); !slices.Equal(w, g) {
		t.Errorf("services with backend TLS: want %q, rendered %q", w, g)
	}
}

func targetServices(u *unstructured.Unstructured) []string {
	var out []string
	refs, _, _ := unstructured.NestedSlice(u.Object, "spec", "targetRefs")
	for _, r := range refs {
		ref := r.(map[string]any)
		if ref["kind"] == "Service" {
			out = append(out, fmt.Sprintf("%s/%s", u.GetNamespace(), ref["name"]))
		}
	}
	return out
}

var testOrigin = regexp.MustCompile(`^(\*|https?://(\*\.)?[A-Za-z0-9.-]+(:[0-9]{1,5})?)$`)

// anyOrigin reports whether cors-allow-origin allows some origin: it is
// absent (every origin) or lists one that both ingress-nginx and Gateway
// API accept.
func anyOrigin(v string) bool {
	if strings.TrimSpace(v) == "" {
		return true
	}
	for _, o := range strings.Split(v, ",") {
		if testOrigin.MatchString(strings.TrimSpace(o)) {
			return true
		}
	}
	return false
}

func isTrue(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}
