package plan

import (
	"fmt"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
)

// boundaryChanges describes, in the user's terms, what becomes reachable
// and what stops being reachable: routes as host/path -> backend, policies
// as source -> destination on ports, baselines as isolation.
func boundaryChanges(live, desired []*unstructured.Unstructured, blocks map[string]string) []BoundaryChange {
	return readBoundary(live, blocks).changes(desired)
}

// boundaryNow is the boundary the live objects make: their statements and
// the pod sets they isolate. Once it is read, the summary needs nothing
// more from the live objects (see releaser).
type boundaryNow struct {
	statements map[string]statement
	isolations []isolation
}

// readBoundary reads the boundary of the live objects; blocks give them
// their lines (sources).
func readBoundary(live []*unstructured.Unstructured, blocks map[string]string) boundaryNow {
	lines := sources(blocks)
	return boundaryNow{statements: statements(live, lines), isolations: isolations(live, lines)}
}

// changes compares the boundary now with the one desired makes.
func (now boundaryNow) changes(desired []*unstructured.Unstructured) []BoundaryChange {
	before, after := now.statements, statements(desired, nil)
	isolated, opened := isolationChanges(now.isolations, isolations(desired, nil))
	var out []BoundaryChange
	for _, s := range sortedStatements(after) {
		if _, ok := before[s.key()]; !ok {
			out = append(out, s.change(true))
		}
	}
	out = append(out, isolated...)
	for _, s := range sortedStatements(before) {
		if _, ok := after[s.key()]; !ok {
			out = append(out, s.change(false))
		}
	}
	return append(out, opened...)
}

// Statements returns the boundary statements a set of objects makes, as
// "kind text" lines, sorted; used by views and tests.
func Statements(objs []*unstructured.Unstructured) []string {
	var out []string
	for _, s := range sortedStatements(statements(objs, nil)) {
		out = append(out, s.kind+" "+s.text)
	}
	for _, s := range isolations(objs, nil) {
		out = append(out, "isolate "+s.text())
	}
	return out
}

// statement is one thing the boundary says: a route exposing a backend, a
// rule allowing a connection. Its text is what the views print; its
// fields are what the JSON plan carries.
type statement struct {
	kind, text, source string
	block              string
	from, to, match    string
	ports, hosts       []string
	// order sorts statements of a kind where their text does not: tier
	// rules by priority and rule order, as the API evaluates them.
	order string
}

func (s statement) key() string { return s.kind + " " + s.text }

// change is the statement as a boundary change of the plan.
func (s statement) change(added bool) BoundaryChange {
	return BoundaryChange{Action: boundaryAction(added), Added: added, Kind: s.kind, Text: s.text, Source: s.source,
		Block: s.block, From: s.from, To: s.to, Match: s.match, Ports: s.ports, Hosts: s.hosts}
}

func boundaryAction(added bool) string {
	if added {
		return "add"
	}
	return "remove"
}

func sortedStatements(m map[string]statement) []statement {
	out := make([]statement, 0, len(m))
	for _, s := range m {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].kind != out[j].kind {
			return kindRank(out[i].kind) < kindRank(out[j].kind)
		}
		return out[i].order+out[i].text < out[j].order+out[j].text
	})
	return out
}

// kindRank orders the lines as the API evaluates them: guardrails (Admin
// tier) before the NetworkPolicies, baselines after.
func kindRank(k string) int {
	return map[string]int{"expose": 0, "guardrail": 1, "allow": 2, "isolate": 3, "baseline": 4}[k]
}

func statements(objs []*unstructured.Unstructured, lines sources) map[string]statement {
	out := map[string]statement{}
	add := func(s statement) {
		if _, dup := out[s.key()]; !dup {
			out[s.key()] = s
		}
	}
	gateways := indexGateways(objs)
	for _, o := range objs {
		src, block := lines.of(o), firstBlock(o)
		switch o.GetKind() {
		case "HTTPRoute", "GRPCRoute":
			for _, s := range exposures(o) {
				s.source, s.block = src, block
				add(s)
			}
		case "TLSRoute", "TCPRoute", "UDPRoute":
			for _, s := range l4Exposures(o, gateways) {
				s.source, s.block = src, block
				add(s)
			}
		case "NetworkPolicy":
			for _, s := range policyStatements(o) {
				s.source, s.block = src, block
				add(s)
			}
		case "ClusterNetworkPolicy":
			for _, s := range tierStatements(o) {
				s.source, s.block = src, block
				add(s)
			}
		}
	}
	return out
}

// sources are the lines of the current intent's blocks, by address
// (Request.Blocks). Live objects carry their block's address but no line:
// a withdrawn rule of a block that is still there shows where that block
// now stands. The objects are only read: copying 5,000 live objects'
// metadata to add the line was a tenth of what a plan allocated while
// it compared them.
type sources map[string]string

// of is o's line: its source annotation, or when it has none (present,
// even empty, it is kept) the line of its first block in lines.
func (lines sources) of(o *unstructured.Unstructured) string {
	if lines != nil {
		ann, _, _ := unstructured.NestedFieldNoCopy(o.Object, "metadata", "annotations")
		if _, has := asMap(ann)[ownership.AnnotationSource]; !has {
			if src, ok := lines[firstBlock(o)]; ok {
				return firstLine(src)
			}
		}
	}
	return firstSource(o)
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

// firstBlock is the first HCL block an object names (for an admission
// policy, the gateway), as firstSource is its line.
func firstBlock(o *unstructured.Unstructured) string {
	b := annotation(o, ownership.AnnotationBlock)
	if j := strings.Index(b, ", "); j >= 0 {
		b = b[:j]
	}
	return b
}

func firstSource(o *unstructured.Unstructured) string {
	return firstLine(annotation(o, ownership.AnnotationSource))
}

// firstLine is the first of the lines a source annotation lists.
func firstLine(s string) string {
	if i := strings.Index(s, ","); i >= 0 {
		s = s[:i]
	}
	return s
}

// exposures lists host+match -> backend for each rule of a route; from is
// the gateway(s) the route attaches to.
func exposures(o *unstructured.Unstructured) []statement {
	hosts, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "hostnames")
	if len(hosts) == 0 {
		hosts = []string{"*"}
	}
	from := parentsText(o)
	rules, _, _ := sliceAt(o.Object, "spec", "rules")
	var out []statement
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		matches := matchTexts(o.GetKind(), rule)
		targets := backendTexts(o.GetNamespace(), rule)
		for _, h := range hosts {
			for _, m := range matches {
				for _, t := range targets {
					out = append(out, statement{kind: "expose", text: h + m + " -> " + t,
						from: from, to: t, match: strings.TrimSpace(m), hosts: []string{h}})
				}
			}
		}
	}
	return out
}

// parentsText names the gateways (and listeners) a route attaches to.
func parentsText(o *unstructured.Unstructured) string {
	refs, _, _ := sliceAt(o.Object, "spec", "parentRefs")
	var parts []string
	for _, r := range refs {
		rm, _ := r.(map[string]any)
		ns, _, _ := unstructured.NestedString(rm, "namespace")
		if ns == "" {
			ns = o.GetNamespace()
		}
		t := fmt.Sprintf("gateway %s/%v", ns, rm["name"])
		if l, _, _ := unstructured.NestedString(rm, "sectionName"); l != "" {
			t += " (listener " + l + ")"
		}
		parts = append(parts, t)
	}
	return strings.Join(parts, ", ")
}

func matchTexts(kind string, rule map[string]any) []string {
	ms, _, _ := sliceAt(rule, "matches")
	if len(ms) == 0 {
		if kind == "GRPCRoute" {
			return []string{" (all gRPC)"}
		}
		return []string{"/"}
	}
	var out []string
	for _, m := range ms {
		mm, _ := m.(map[string]any)
		var b strings.Builder
		if kind == "GRPCRoute" {
			svc, _, _ := unstructured.NestedString(mm, "method", "service")
			method, _, _ := unstructured.NestedString(mm, "method", "method")
			fmt.Fprintf(&b, " %s/%s", orStar(svc), orStar(method))
		} else {
			v, _, _ := unstructured.NestedString(mm, "path", "value")
			t, _, _ := unstructured.NestedString(mm, "path", "type")
			if v == "" {
				v = "/"
			}
			b.WriteString(v)
			switch t {
			case "Exact":
				b.WriteString(" (exact)")
			case "RegularExpression":
				b.WriteString(" (regex)")
			}
			if method, _, _ := unstructured.NestedString(mm, "method"); method != "" {
				b.WriteString(" " + method)
			}
		}
		if hs, _, _ := sliceAt(mm, "headers"); len(hs) > 0 {
			var parts []string
			for _, h := range hs {
				hm, _ := h.(map[string]any)
				parts = append(parts, fmt.Sprintf("%v=%v", hm["name"], hm["value"]))
			}
			b.WriteString(" [" + strings.Join(parts, ",") + "]")
		}
		out = append(out, b.String())
	}
	return out
}

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

func backendTexts(routeNS string, rule map[string]any) []string {
	refs, _, _ := sliceAt(rule, "backendRefs")
	if len(refs) == 0 {
		filters, _, _ := sliceAt(rule, "filters")
		for _, f := range filters {
			if fm, _ := f.(map[string]any); fm["type"] == "RequestRedirect" {
				return []string{"redirect"}
			}
		}
		return []string{"(no backend)"}
	}
	var out []string
	for _, r := range refs {
		rm, _ := r.(map[string]any)
		ns, _, _ := unstructured.NestedString(rm, "namespace")
		if ns == "" {
			ns = routeNS
		}
		port, _, _ := unstructured.NestedFieldNoCopy(rm, "port")
		t := fmt.Sprintf("%s/%v:%v", ns, rm["name"], port)
		if len(refs) > 1 {
			// weight defaults to 1 on the server; only a split shows it
			w, ok, _ := unstructured.NestedFieldNoCopy(rm, "weight")
			if !ok {
				w = 1
			}
			t += fmt.Sprintf(" (weight %v)", w)
		}
		out = append(out, t)
	}
	return out
}

// policyStatements renders each rule of a NetworkPolicy as a sentence;
// the isolation the policy causes is told apart (isolations).
func policyStatements(o *unstructured.Unstructured) []statement {
	sel := nested(o.Object, "spec", "podSelector")
	subject := o.GetNamespace() + "/" + selectorText(sel)
	if gw, ok := dataPlaneText(sel); ok {
		subject = gw // a gateway's proxies, wherever they run
	}
	types, _, _ := unstructured.NestedStringSlice(o.Object, "spec", "policyTypes")
	var out []statement
	for _, dir := range types {
		field, arrow := "ingress", "from"
		if dir == "Egress" {
			field, arrow = "egress", "to"
		}
		rules, _, _ := sliceAt(o.Object, "spec", field)
		for _, r := range rules {
			rm, _ := r.(map[string]any)
			peers, _, _ := sliceAt(rm, arrow)
			ports := portList(rm)
			if len(peers) == 0 {
				peers = []any{map[string]any{}}
			}
			for _, pr := range peers {
				from, to := subject, peerText(pr.(map[string]any))
				if dir != "Egress" {
					from, to = to, subject
				}
				out = append(out, statement{kind: "allow", text: fmt.Sprintf("%s -> %s %s", from, to, portsText(ports)),
					from: from, to: to, ports: ports})
			}
		}
	}
	return out
}

// sliceAt is unstructured.NestedSlice without the deep copy: the summary
// only reads, and copying every rule of thousands of policies was most of
// what it allocated.
func sliceAt(obj map[string]any, path ...string) ([]any, bool, error) {
	v, found, err := unstructured.NestedFieldNoCopy(obj, path...)
	if !found || err != nil {
		return nil, found, err
	}
	s, ok := v.([]any)
	if !ok {
		return nil, false, fmt.Errorf("%v accessor error: %v is of the type %T, expected []interface{}", path, v, v)
	}
	return s, true, nil
}

func nested(obj map[string]any, path ...string) map[string]any {
	v, _, _ := unstructured.NestedFieldNoCopy(obj, path...)
	m, _ := v.(map[string]any)
	return m
}

func selectorText(sel map[string]any) string {
	labels, _, _ := unstructured.NestedStringMap(sel, "matchLabels")
	exprs, _, _ := sliceAt(sel, "matchExpressions")
	if len(labels) == 0 && len(exprs) == 0 {
		return "*"
	}
	var parts []string
	for _, k := range sortedKeys(labels) {
		parts = append(parts, k+"="+labels[k])
	}
	for _, e := range exprs {
		em, _ := e.(map[string]any)
		parts = append(parts, fmt.Sprintf("%v %v %v", em["key"], em["operator"], em["values"]))
	}
	return strings.Join(parts, ",")
}

// dataPlaneText names a gateway's data plane by the labels its
// implementation puts on the proxy pods.
func dataPlaneText(pods map[string]any) (string, bool) {
	labels, _, _ := unstructured.NestedStringMap(pods, "matchLabels")
	if n, ok := labels["gateway.envoyproxy.io/owning-gateway-name"]; ok {
		return "gateway " + labels["gateway.envoyproxy.io/owning-gateway-namespace"] + "/" + n, true
	}
	if n, ok := labels["gateway.networking.k8s.io/gateway-name"]; ok && len(labels) == 1 {
		return "gateway " + n, true
	}
	return "", false
}

func peerText(p map[string]any) string {
	if ip, ok := p["ipBlock"].(map[string]any); ok {
		t := fmt.Sprint(ip["cidr"])
		if ex, _, _ := unstructured.NestedStringSlice(ip, "except"); len(ex) > 0 {
			t += " except " + strings.Join(ex, ",")
		}
		return t
	}
	ns, hasNS := p["namespaceSelector"].(map[string]any)
	pods, hasPods := p["podSelector"].(map[string]any)
	if !hasNS && !hasPods {
		return "anywhere"
	}
	nsText := "(same namespace)"
	if hasNS {
		if name, ok, _ := unstructured.NestedString(ns, "matchLabels", "kubernetes.io/metadata.name"); ok && len(nested(ns, "matchLabels")) == 1 {
			nsText = name
		} else {
			nsText = "namespaces{" + selectorText(ns) + "}"
		}
	}
	podText := "*"
	if hasPods {
		if gw, ok := dataPlaneText(pods); ok {
			return gw
		}
		podText = selectorText(pods)
	}
	return nsText + "/" + podText
}

// portList is a rule's ports as "443/tcp", "8000-8100/udp", "all/tcp";
// nil when the rule admits every port.
func portList(rule map[string]any) []string {
	ports, _, _ := sliceAt(rule, "ports")
	var parts []string
	for _, p := range ports {
		pm, _ := p.(map[string]any)
		proto := fmt.Sprint(pm["protocol"])
		if proto == "<nil>" {
			proto = "TCP"
		}
		port, ok := pm["port"]
		switch {
		case !ok:
			parts = append(parts, "all/"+strings.ToLower(proto))
		case pm["endPort"] != nil:
			parts = append(parts, fmt.Sprintf("%v-%v/%s", port, pm["endPort"], strings.ToLower(proto)))
		default:
			parts = append(parts, fmt.Sprintf("%v/%s", port, strings.ToLower(proto)))
		}
	}
	return parts
}

func portsText(ports []string) string {
	if len(ports) == 0 {
		return "(all ports)"
	}
	return strings.Join(ports, ",")
}
