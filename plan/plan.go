// Package plan compares the objects the intent compiles to with the live
// objects the stack owns and produces a Plan: plain, serialisable data that
// says what apply would do, field by field, with the HCL origin of every
// change. It reads the cluster only through the interfaces it declares and
// renders nothing itself (see package views).
package plan

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/hashicorp/hcl/v2"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// FormatVersion is the version of the saved plan format. Readers refuse
// other versions. Version 2 added the digest, the cluster identity and the
// scope: a version 1 reader would apply a version 2 plan without checking
// them, so the version changed rather than growing fields.
const FormatVersion = "2"

// Action is what apply will do to one object.
type Action string

// Actions.
const (
	Create Action = "create"
	Update Action = "update"
	Delete Action = "delete"
	NoOp   Action = "no-op"
)

// Plan is everything apply needs to carry out exactly what was shown, and
// everything a view needs to show it. See docs/plan-format.md.
type Plan struct {
	FormatVersion string `json:"format_version"`
	Stack         string `json:"stack"`
	// StateNamespace holds the stack's ApplySet parent.
	StateNamespace string `json:"state_namespace"`
	Environment    string `json:"environment,omitempty"`
	// SwitchEnvironment is set when the plan was made with
	// --switch-environment: apply may then replace a stack applied with
	// another environment.
	SwitchEnvironment bool `json:"switch_environment,omitempty"`
	// Target says what was planned against: a cluster's context and host,
	// or a directory of rendered manifests.
	Target string `json:"target"`
	// Offline is true for plans made against rendered manifests instead of a
	// cluster (plan --against): they are for review and cannot be applied.
	Offline  bool             `json:"offline,omitempty"`
	Changes  []Change         `json:"changes"`
	Boundary []BoundaryChange `json:"boundary,omitempty"`
	Warnings []Warning        `json:"warnings,omitempty"`
	// Namespaces are managed namespaces the plan uses or leaves without
	// changing them: ones that exist and are not owned, and owned ones
	// that destroy or prune leaves because they hold foreign objects.
	Namespaces []NamespaceNote `json:"namespaces,omitempty"`
	// Scope is what the plan may write; apply refuses a change outside it.
	Scope *Scope `json:"scope,omitempty"`
	// Cluster identifies the cluster the plan was made against (absent
	// for offline plans); apply refuses to run anywhere else.
	Cluster *ClusterIdentity `json:"cluster,omitempty"`
	// CreatesUnvalidated is set when the creates were not dry-run while
	// planning (Request.ValidateByWrite): apply must then undo the run's
	// creates if the server rejects one. Never saved: a plan file is
	// always validated object by object.
	CreatesUnvalidated bool `json:"-"`
	// IntentDigest is a digest of the HCL files the plan was compiled
	// from (see IntentDigest), for the reader: apply does not check it.
	IntentDigest string `json:"intent_digest,omitempty"`
	// Digest is the SHA-256 of everything else in the plan (see
	// ContentDigest), written last; Read refuses a plan that no longer
	// matches it.
	Digest string `json:"digest"`
}

// Change is the planned action on one object.
type Change struct {
	Action     Action `json:"action"`
	APIVersion string `json:"api_version"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
	// Source is the file:line of the HCL block(s) behind the object; Block
	// names them. For deletes they come from the live object's annotations.
	Source string `json:"source,omitempty"`
	Block  string `json:"block,omitempty"`
	// Desired is the object apply will send (absent for deletes).
	Desired map[string]any `json:"desired,omitempty"`
	// Live identifies the object as it was read (absent for creates).
	Live *LiveRef `json:"live,omitempty"`
	// Fields are the field-level differences, in path order.
	Fields []FieldChange `json:"fields,omitempty"`
	// Before and After are the object without server-owned metadata as it
	// is and as it will be (after server defaults, where a cluster was
	// asked), for whole-object diffs. Before is absent for creates, After
	// for deletes.
	Before map[string]any `json:"before,omitempty"`
	After  map[string]any `json:"after,omitempty"`
	// Conflict is set when other field managers now own fields perimeter
	// sets. On an update that shows them as drift (RepairsDrift), apply
	// takes them back by force, only from the object as it was read.
	Conflict string `json:"conflict,omitempty"`
	// Adopt is set when the live object is not yet a member of the stack
	// (a namespace block with adopt = true): apply makes it one.
	Adopt bool `json:"adopt,omitempty"`
	// Removals are JSON pointers (RFC 6901, into the live object as read,
	// all under /spec) to fields other field managers added that the
	// intent does not contain. Server-side apply never removes another
	// manager's fields, so apply removes these first with a JSON patch
	// whose resourceVersion is Live's, then applies Desired.
	Removals []string `json:"removals,omitempty"`
}

// LiveRef identifies a live object at the moment it was read. Apply refuses
// a saved plan when either has changed.
type LiveRef struct {
	UID             string `json:"uid"`
	ResourceVersion string `json:"resource_version"`
}

// FieldChange is one changed field. Before or After is nil when the field
// is added or removed.
type FieldChange struct {
	Path   string `json:"path"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
	// Drift is true when the live value was changed outside perimeter.
	Drift bool `json:"drift,omitempty"`
	// Manager names the field manager(s) that own the live value, comma
	// separated, when other than perimeter (from managedFields).
	Manager string `json:"manager,omitempty"`
}

// BoundaryChange is a change in what can reach what, in the user's terms.
type BoundaryChange struct {
	Action string `json:"action"`           // add or remove
	Added  bool   `json:"added"`            // Action == "add"
	Kind   string `json:"kind"`             // expose, guardrail, allow, isolate, baseline
	Text   string `json:"text"`             // e.g. "api.example.com/orders -> shop/orders:80"
	Source string `json:"source,omitempty"` // file:line, or "" for live-only
	// Block is the HCL block behind the entry (for a withdrawn one, as the
	// live or base object records it).
	Block string `json:"block,omitempty"`
	// From and To are the two ends: for expose the gateway(s) and the
	// backend (namespace/service:port), for allow the peers as the text
	// names them (ns/selector, an IP block, gateway ns/name).
	From string `json:"from,omitempty"`
	To   string `json:"to,omitempty"`
	// Ports are an allow's ports ("443/tcp", "8000-8100/udp"); absent:
	// every port.
	Ports []string `json:"ports,omitempty"`
	// Hosts and Match are an exposure's hostname and request match.
	Hosts []string `json:"hosts,omitempty"`
	Match string   `json:"match,omitempty"`
	// Direction and Pods are what an isolate entry closes: "ingress" or
	// "egress" of a pod set (namespace/selector, or a gateway's proxies).
	Direction string `json:"direction,omitempty"`
	Pods      string `json:"pods,omitempty"`
}

// Warning is a finding that does not stop the plan.
type Warning struct {
	// Severity is "warning" (--strict makes every one an error).
	Severity string `json:"severity"`
	Summary  string `json:"summary"`
	Detail   string `json:"detail,omitempty"`
	Object   string `json:"object,omitempty"` // Kind namespace/name
	Source   string `json:"source,omitempty"` // file:line
	Block    string `json:"block,omitempty"`  // the HCL block, e.g. `allow "x"`
	// Range is where in the HCL the finding points, when known.
	Range *SourceRange `json:"range,omitempty"`
}

// SourceRange is a span of an HCL file, as editors and CI annotations
// read it (lines and columns from 1).
type SourceRange struct {
	Filename string   `json:"filename"`
	Start    Position `json:"start"`
	End      Position `json:"end"`
}

// Position is a line and column in a file, both from 1.
type Position struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

// RangeOf converts an HCL range; nil stays nil.
func RangeOf(r *hcl.Range) *SourceRange {
	if r == nil {
		return nil
	}
	return &SourceRange{Filename: r.Filename, Start: Position{r.Start.Line, r.Start.Column}, End: Position{r.End.Line, r.End.Column}}
}

// WarningsOf turns compiler warnings (HCL diagnostics) into plan warnings,
// so they reach every plan output and not only the terminal.
func WarningsOf(diags hcl.Diagnostics) []Warning {
	var out []Warning
	for _, d := range diags {
		if d.Severity != hcl.DiagWarning {
			continue
		}
		w := Warning{Severity: WarningSeverity, Summary: d.Summary, Detail: d.Detail, Range: RangeOf(d.Subject)}
		if d.Subject != nil {
			w.Source = fmt.Sprintf("%s:%d", d.Subject.Filename, d.Subject.Start.Line)
		}
		out = append(out, w)
	}
	return out
}

// WarningSeverity is the severity of every plan warning.
const WarningSeverity = "warning"

// Counts returns how many objects will be added, changed and destroyed.
func (p *Plan) Counts() (add, change, destroy int) {
	for _, c := range p.Changes {
		switch c.Action {
		case Create:
			add++
		case Update:
			change++
		case Delete:
			destroy++
		}
	}
	return add, change, destroy
}

// HasChanges reports whether apply would do anything.
func (p *Plan) HasChanges() bool {
	a, c, d := p.Counts()
	return a+c+d > 0
}

// ID is "Kind namespace/name", the way messages name an object.
func (c *Change) ID() string {
	if c.Namespace == "" {
		return c.Kind + " " + c.Name
	}
	return c.Kind + " " + c.Namespace + "/" + c.Name
}

// GVK is the change's group, version and kind.
func (c *Change) GVK() schema.GroupVersionKind {
	return schema.FromAPIVersionAndKind(c.APIVersion, c.Kind)
}

// DesiredObject returns Desired as an object.
func (c *Change) DesiredObject() *unstructured.Unstructured {
	if c.Desired == nil {
		return nil
	}
	return &unstructured.Unstructured{Object: c.Desired}
}

// Write saves the plan as indented JSON, with its digest.
func (p *Plan) Write(w io.Writer) error {
	p.Digest = p.ContentDigest()
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// MaxFileSize bounds the saved plans Read accepts, so that a file that is
// not a plan (or a hostile one) ends in an error, not in exhausted memory.
// A plan of 20,000 new objects is about 28 MB.
const MaxFileSize = 128 << 20

// Read loads a saved plan, refusing other format versions, documents
// larger than MaxFileSize and a plan whose contents no longer match its
// digest.
func Read(r io.Reader) (*Plan, error) {
	var p Plan
	lr := &io.LimitedReader{R: r, N: MaxFileSize + 1}
	dec := json.NewDecoder(lr)
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		if lr.N <= 0 {
			return nil, fmt.Errorf("reading plan: it is larger than %d MiB, which no plan perimeter writes is", MaxFileSize>>20)
		}
		var syntax *json.SyntaxError
		if errors.As(err, &syntax) {
			return nil, fmt.Errorf("reading plan: not a saved plan (the JSON document perimeter plan --out writes): %w", err)
		}
		return nil, fmt.Errorf("it is not a complete plan (%v): the plan file was modified or truncated after it was made; run plan --out again", err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan format version %q is not supported (this perimeter reads version %s); a plan is short-lived: run plan --out again with this perimeter", p.FormatVersion, FormatVersion)
	}
	// Before normalizeNumbers: the digest covers the numbers as written.
	if err := p.checkDigest(); err != nil {
		return nil, err
	}
	for i := range p.Changes {
		if p.Changes[i].Desired != nil {
			p.Changes[i].Desired = normalizeNumbers(p.Changes[i].Desired).(map[string]any)
		}
	}
	return &p, nil
}

// normalizeNumbers turns json.Number into int64 or float64, as the API
// machinery's JSON decoding does, so a read plan applies the same bytes.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
		return t
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		f, _ := t.Float64()
		return f
	}
	return v
}
