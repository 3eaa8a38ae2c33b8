// Package importer turns existing Kubernetes objects — Ingresses,
// IngressClasses, Services, NetworkPolicies, Gateways, HTTPRoutes,
// GRPCRoutes and BackendTLSPolicies, read from YAML or a cluster — into
// perimeter intent written as formatted HCL,
// with a report of every annotation, field or policy that could not be
// carried over exactly.
//
// The promise is meaning, not shape: the imported intent compiles to routes
// with the same host, path and backend tuples as the Ingresses, and to
// policies with the same allow/deny verdict for every pod pair and port as
// the input policies. What the language cannot express exactly is either
// kept verbatim (NetworkPolicies, as policy blocks) or reported.
package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
)

// Options configure an import.
type Options struct {
	// Gateway is "namespace/name" or "namespace/name:listener": the Gateway
	// the imported routes attach to.
	Gateway string
	// Implementation of that gateway: envoy-gateway, istio or custom. When
	// empty it comes from the Gateway's GatewayClass if the input has both,
	// else envoy-gateway.
	Implementation string
	// Stack is the stack name (default "imported").
	Stack string
	// HTTPListener names the gateway's plain-HTTP listener, where the
	// HTTP-to-HTTPS redirects of ssl-redirect go. A Gateway object in the
	// input supplies it when this is empty.
	HTTPListener string
	// IngressController is "namespace/key=value,key=value": the pods of the
	// running ingress-nginx controller, which the migration allows admit to
	// every imported Ingress backend. When empty they come from the
	// controller's Deployments or DaemonSets in the input, else from
	// ingress-nginx's standard labels in namespace ingress-nginx.
	IngressController string
	// TLSListener names the gateway's TLS listener in Passthrough mode,
	// where the tls_routes of ssl-passthrough Ingresses attach (default
	// DefaultTLSListener).
	TLSListener string
	// TCPListener and UDPListener name the listener for each entry of the
	// tcp-services and udp-services ConfigMaps; "{port}" stands for the
	// entry's port (default DefaultTCPListener, DefaultUDPListener).
	TCPListener, UDPListener string
	// TCPServices and UDPServices are "namespace/name" of ingress-nginx's
	// tcp-services and udp-services ConfigMaps (its --tcp-services-configmap
	// and --udp-services-configmap); when empty, ConfigMaps named
	// tcp-services and udp-services are.
	TCPServices, UDPServices string
}

// Severity says how a report entry affects the result.
type Severity string

// Severities of report entries.
const (
	Translated Severity = "translated" // carried over; the note says how
	Warning    Severity = "warning"    // carried over, but behaviour may differ
	Dropped    Severity = "not translated"
	Kept       Severity = "kept verbatim"
)

// Entry is one line of the import report: what happened to one annotation,
// field or object.
type Entry struct {
	Object   string // Kind namespace/name
	Item     string // the annotation or field; "" for the object itself
	Severity Severity
	Why      string
}

// Result is the imported intent and its report.
type Result struct {
	HCL []byte
	// Migration is the content of MigrationFile: the allows that keep the
	// running ingress-nginx controller admitted to the backends it serves
	// until the user deletes the file. Nil when no Ingress backend is
	// imported.
	Migration []byte
	Report    []Entry
}

// Import converts objects into intent. Kinds other than Ingress,
// IngressClass, Service, NetworkPolicy, Gateway, HTTPRoute, GRPCRoute,
// BackendTLSPolicy, Namespace and the cluster tiers (ClusterNetworkPolicy,
// and v1alpha1 AdminNetworkPolicy and BaselineAdminNetworkPolicy, which
// become guardrail and baseline blocks) are listed in the report as not
// imported.
// The Gateway named by Options.Gateway, when it is among objs (with its
// GatewayClass, which names the implementation), checks the
// listeners Options name (an unknown one is an error that lists the
// Gateway's listeners) and supplies the plain-HTTP listener; it stays a
// reference, never a managed gateway. Objects perimeter rendered import
// back into the blocks they came from (the round trip). The backends of
// the Ingresses also get migration allows (Result.Migration) that keep the
// running ingress-nginx controller admitted until the user deletes them.
// The output is
// deterministic: it does not depend on the order of objs.
func Import(objs []*unstructured.Unstructured, opts Options) (*Result, error) {
	m, err := newModel(opts)
	if err != nil {
		return nil, err
	}
	if err := m.load(objs); err != nil {
		return nil, err
	}
	if err := m.gateways(); err != nil {
		return nil, err
	}
	m.ingresses()
	m.servicesConfigMaps()
	m.gatewayRoutes()
	m.checkL4Listeners()
	m.backendTLSPolicies()
	m.policies()
	m.quietIsolation()
	m.legacyController()
	m.sortReport()
	out := m.write()
	migration := m.writeMigration()
	if err := compiles(out, migration); err != nil {
		return nil, err
	}
	return &Result{HCL: out, Migration: migration, Report: m.report}, nil
}

// compiles runs the imported intent through the compiler, so an import
// never hands the user HCL that does not compile. Input an API server
// would have refused (an invalid label, say) can get this far; the error
// says what the compiler found.
func compiles(src, migration []byte) error {
	sources := map[string][]byte{"imported.hcl": src}
	if migration != nil {
		sources[MigrationFile] = migration
	}
	files, diags := hclspec.Parse(sources)
	if !diags.HasErrors() {
		var in *hclspec.Intent
		in, diags = hclspec.Decode(files, hclspec.Options{})
		if !diags.HasErrors() {
			_, diags = generate.Objects(in)
		}
	}
	if !diags.HasErrors() {
		return nil
	}
	var msgs []string
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			msgs = append(msgs, fmt.Sprintf("%s: %s; %s", blockAt(files, d.Subject), d.Summary, d.Detail))
		}
	}
	return fmt.Errorf("the input cannot be imported as it is; its translation does not compile (the input may hold objects an API server would refuse):\n  %s", strings.Join(msgs, "\n  "))
}

// blockAt names the imported block a diagnostic points into, such as
// `service "api"`: the user never sees the HCL's line numbers, but the
// block says which input object it came from.
func blockAt(files *hclspec.Sources, rng *hcl.Range) string {
	if files == nil || rng == nil {
		return "the imported intent"
	}
	if f := files.Files()[rng.Filename]; f != nil {
		if body, ok := f.Body.(*hclsyntax.Body); ok {
			for _, b := range body.Blocks {
				if r := b.Range(); r.ContainsOffset(rng.Start.Byte) {
					return strings.TrimSpace(b.Type + " " + quoteLabels(b.Labels))
				}
			}
		}
	}
	return "the imported intent"
}

func quoteLabels(labels []string) string {
	quoted := make([]string, len(labels))
	for i, l := range labels {
		quoted[i] = strconv.Quote(l)
	}
	return strings.Join(quoted, " ")
}

// ReportText renders the report, one entry per line, grouped by object.
func ReportText(entries []Entry) string {
	if len(entries) == 0 {
		return "Everything was imported exactly.\n"
	}
	var b strings.Builder
	last := ""
	for _, e := range entries {
		if e.Object != last {
			fmt.Fprintf(&b, "%s\n", e.Object)
			last = e.Object
		}
		item := e.Item
		if item == "" {
			item = "(object)"
		}
		fmt.Fprintf(&b, "  - %s: %s: %s\n", item, e.Severity, strings.ReplaceAll(e.Why, "\n", "\n      "))
	}
	return b.String()
}

// ReportMarkdown renders the report as a Markdown document.
func ReportMarkdown(entries []Entry) string {
	var b strings.Builder
	b.WriteString("# Import report\n\n")
	if len(entries) == 0 {
		b.WriteString("Everything was imported exactly.\n")
		return b.String()
	}
	b.WriteString("| object | item | result | why |\n|---|---|---|---|\n")
	for _, e := range entries {
		why := strings.ReplaceAll(strings.ReplaceAll(e.Why, "|", `\|`), "\n", "<br>")
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", e.Object, "`"+e.Item+"`", e.Severity, why)
	}
	return b.String()
}

func (m *model) note(obj, item string, sev Severity, format string, args ...any) {
	m.report = append(m.report, Entry{Object: obj, Item: item, Severity: sev, Why: fmt.Sprintf(format, args...)})
}

func (m *model) sortReport() {
	sort.SliceStable(m.report, func(i, j int) bool {
		a, b := m.report[i], m.report[j]
		if a.Object != b.Object {
			return a.Object < b.Object
		}
		return a.Item < b.Item
	})
}

func objectRef(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetKind() + " " + u.GetName()
	}
	return u.GetKind() + " " + u.GetNamespace() + "/" + u.GetName()
}

// quietIsolation drops the ingress-isolation warning for services whose
// namespace already denies ingress by default: nothing changes for them.
func (m *model) quietIsolation() {
	out := m.report[:0]
	for _, e := range m.report {
		if e.Item == "ingress isolation" {
			ns, _, _ := strings.Cut(strings.TrimPrefix(e.Object, "Service "), "/")
			if n := m.namespaces[ns]; n != nil && n.denyIn {
				continue
			}
		}
		out = append(out, e)
	}
	m.report = out
}
