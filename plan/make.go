package plan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sync/errgroup"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/ownership"
)

// hashAnnotation records a digest of the object perimeter last applied, so
// planning can tell "the intent changed" from "someone changed the object"
// without a request per object.
const hashAnnotation = "perimeter.dev/desired-hash"

// planConcurrency bounds the dry-run requests in flight.
const planConcurrency = 16

// Reader is what planning needs to read: a live cluster, or a directory of
// rendered manifests standing in for one.
type Reader interface {
	// List returns the objects of a kind in namespace ("" = all) matching
	// the label selector ("" = all).
	List(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error)
}

// DryRunner previews a server-side apply. A Reader that is also a DryRunner
// (a live cluster) gets exact field diffs, with server defaults and
// admission checks; others get diffs of the fields the intent sets.
type DryRunner interface {
	// DryRunApply previews the apply; force takes over fields other
	// managers own, as apply --force-conflicts would.
	DryRunApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error)
}

// Rendered is implemented by readers that hold rendered intent rather than
// server state (a GitOps tree of the base branch): their objects carry no
// server defaults, so they are compared whole, and live-cluster checks are
// skipped.
type Rendered interface{ Rendered() bool }

func isRendered(r Reader) bool {
	rr, ok := r.(Rendered)
	return ok && rr.Rendered()
}

// Request says what to plan.
type Request struct {
	Stack          string
	StateNamespace string
	Environment    string
	Target         string
	// Desired are the objects the intent compiles to (nil to destroy all).
	Desired []*unstructured.Unstructured
	// Namespaces are the namespace blocks (nil to destroy all, or when
	// planning against rendered manifests, which hold no namespaces).
	Namespaces []Namespace
	// Kinds are every kind the stack may own, to find objects to delete.
	Kinds []schema.GroupVersionKind
	// OwnerSelector is the label selector of the objects the stack owns.
	OwnerSelector string
	// Owned reports whether a live object belongs to this stack; objects
	// matching OwnerSelector that it rejects are never touched.
	Owned func(*unstructured.Unstructured) bool
	// Blocks maps each block address of the current intent (`route "api"`)
	// to its file:line, for objects that carry only the address: live ones.
	Blocks map[string]string
	// Cluster identifies the cluster planned against (nil for rendered
	// manifests); IntentDigest is the digest of the intent's files.
	Cluster      *ClusterIdentity
	IntentDigest string
	// SwitchEnvironment allows planning an environment other than the one
	// the stack was last applied with (see EnvironmentMismatch).
	SwitchEnvironment bool
	// ValidateByWrite lets a first apply that is carried out at once skip
	// the dry-run of each create (see writeValidated); the plan then says
	// CreatesUnvalidated.
	ValidateByWrite bool
}

// Problem is a reason a plan cannot be made, tied to an object and the HCL
// behind it.
type Problem struct {
	Object string // Kind namespace/name
	Source string // file:line
	Block  string
	Detail string
}

// Error lists the problems that stopped planning.
type Error struct{ Problems []Problem }

func (e *Error) Error() string {
	var b strings.Builder
	for i, p := range e.Problems {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "%s", p.Object)
		if p.Source != "" {
			fmt.Fprintf(&b, " (%s, %s)", p.Block, p.Source)
		}
		fmt.Fprintf(&b, ": %s", p.Detail)
	}
	return b.String()
}

// Make computes the plan.
func Make(ctx context.Context, r Reader, req Request) (*Plan, error) {
	p := &Plan{FormatVersion: FormatVersion, Stack: req.Stack, StateNamespace: req.StateNamespace,
		Environment: req.Environment, Target: req.Target, Changes: []Change{},
		Scope: scopeOf(req), Cluster: req.Cluster, IntentDigest: req.IntentDigest, SwitchEnvironment: req.SwitchEnvironment}
	m, err := listOwned(ctx, r, req, p.Scope.ObjectNamespaces)
	if err != nil {
		return nil, err
	}
	owned := m.owned
	var problems []Problem
	if pr, err := checkEnvironment(ctx, r, req); err != nil {
		return nil, err
	} else if pr != nil {
		problems = append(problems, *pr)
	}
	if ps, err := checkUnowned(ctx, r, req, owned); err != nil {
		return nil, err
	} else {
		problems = append(problems, ps...)
	}
	nsp, err := planNamespaces(ctx, r, req, owned)
	if err != nil {
		return nil, err
	}
	problems = append(problems, nsp.problems...)
	p.Namespaces = nsp.notes
	desired := append(slices.Clone(nsp.desired), req.Desired...)
	p.Offline = isRendered(r)
	dry, _ := r.(DryRunner)
	if writeValidated(req, owned, nsp) {
		dry, p.CreatesUnvalidated = nil, dry != nil
	}
	// The boundary summary needs only the live and the desired objects:
	// it is made while planAll waits for its dry-runs and compares the
	// others (both only read the objects), before dropManagedFields
	// changes the live ones.
	summary := make(chan []BoundaryChange, 1)
	rel := &releaser{liveRead: make(chan struct{})}
	go func() {
		if beforeSummary != nil {
			beforeSummary()
		}
		var live []*unstructured.Unstructured
		for _, k := range sortedKeys(owned) {
			live = append(live, owned[k])
		}
		now := readBoundary(live, req.Blocks)
		close(rel.liveRead)
		summary <- now.changes(req.Desired)
	}()
	changes, probs := planAll(ctx, dry, isRendered(r), desired, owned, nsp, rel)
	boundary := <-summary
	rel.flush()
	dropManagedFields(owned) // read for drift by planAll; the rest of the plan needs none
	for i := range changes {
		if probs[i] != nil {
			problems = append(problems, *probs[i])
			continue
		}
		p.Changes = append(p.Changes, changes[i])
	}
	wanted := map[string]bool{}
	for _, obj := range desired {
		wanted[key(obj)] = true
	}
	dels, left := leaveNonEmpty(ctx, r, req, deletions(owned, wanted, req.Blocks), m.alike)
	p.Changes = append(p.Changes, dels...)
	p.Namespaces = append(p.Namespaces, left...)
	if len(problems) > 0 {
		return nil, &Error{Problems: problems}
	}
	p.Boundary = boundary
	if !p.Offline {
		if p.Warnings, err = gatewayWarnings(ctx, r, req.Desired); apierrors.IsForbidden(err) {
			p.Warnings = []Warning{{Severity: WarningSeverity, Summary: "Gateway checks skipped", Detail: "this identity may not read what they need (" + err.Error() +
				"), so whether each route's Gateway and listener exist and admit it, and whether another route claims its hostnames, is not known"}}
		} else if err != nil {
			return nil, err
		}
	}
	p.Warnings = append(p.Warnings, m.warnings...)
	return p, nil
}

// beforeSummary, when set (by tests), runs before the boundary summary
// reads the live objects.
var beforeSummary func()

// planAll plans each desired object against its live counterpart (owned,
// or a namespace being adopted), with dry-runs through dry unless it is
// nil. Objects are planned concurrently (dry-runs are one request each);
// results keep the order of desired.
func planAll(ctx context.Context, dry DryRunner, whole bool, desired []*unstructured.Unstructured, owned map[string]*unstructured.Unstructured, nsp *namespacePlan, rel *releaser) ([]Change, []*Problem) {
	changes := make([]Change, len(desired))
	probs := make([]*Problem, len(desired))
	sem := make(chan struct{}, planConcurrency)
	var wg sync.WaitGroup
	for i, obj := range desired {
		live, adopted := owned[key(obj)], nsp.adopted[key(obj)]
		if live == nil {
			live = adopted
		}
		objDry := dry
		if nsp.created[obj.GetNamespace()] {
			objDry = nil // its namespace does not exist yet: the server cannot dry-run it
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			changes[i], probs[i] = planObject(ctx, objDry, whole, stamp(obj), live)
			changes[i].Adopt = adopted != nil
			if adopted == nil && live != nil {
				rel.release(live)
			}
			// the object sent carries no line numbers; the plan shows them
			changes[i].Source = annotation(obj, ownership.AnnotationSource)
			if probs[i] != nil {
				probs[i].Source = changes[i].Source
			}
		}()
	}
	wg.Wait()
	return changes, probs
}

func key(obj *unstructured.Unstructured) string {
	return obj.GetKind() + "/" + obj.GetNamespace() + "/" + obj.GetName()
}

// members are the stack's live objects, and the look-alikes that carry
// some of its ownership labels but are not members.
type members struct {
	owned    map[string]*unstructured.Unstructured
	warnings []Warning // look-alikes, and what could not be read
	// alike are the look-alikes: a namespace holding one is not the
	// stack's alone, so it is never deleted
	alike []*unstructured.Unstructured
}

// listOwned reads the stack's objects: the ApplySet parent, then two LISTs
// per kind, by the ApplySet label and by the stack label, so that an object
// with only one of them is seen and reported. Only objects inside what the
// parent records (see record) are members; intentNamespaces are the
// namespaces the intent writes to.
func listOwned(ctx context.Context, r Reader, req Request, intentNamespaces []string) (*members, error) {
	rec, err := readRecord(ctx, r, req, intentNamespaces)
	if err != nil {
		return nil, err
	}
	m := &members{owned: map[string]*unstructured.Unstructured{}}
	seen, unread := map[string]bool{}, map[string]bool{}
	lists := listAll(ctx, r, rec, req, namespaceNames(req, rec))
	for i, gvk := range req.Kinds {
		for _, l := range lists[i] {
			objs, lost, err := l.objs, l.unread, l.err
			if meta.IsNoMatchError(err) && !desires(req.Desired, gvk) {
				break // not served: the stack cannot own any, and wants none
			}
			if err != nil {
				return nil, err
			}
			if lost != "" {
				unread[lost] = true
			}
			for _, o := range objs {
				if k := key(o); !seen[k] {
					seen[k] = true
					m.add(req, rec, o)
				}
			}
		}
	}
	slices.SortFunc(m.warnings, func(a, b Warning) int { return strings.Compare(a.Object, b.Object) })
	if len(unread) > 0 {
		m.warnings = append(m.warnings, partialWarning(sortedKeys(unread), rec))
	}
	return m, nil
}

// namespaceNames are the Namespaces the stack may own: the namespace
// blocks and the namespaces its ApplySet records.
func namespaceNames(req Request, rec *record) []string {
	set := maps.Clone(rec.namespaces)
	for _, ns := range req.Namespaces {
		set[ns.Object.GetName()] = true
	}
	return sortedKeys(set)
}

// add sorts one listed object into members or look-alikes.
func (m *members) add(req Request, rec *record, o *unstructured.Unstructured) {
	if why := rec.why(req, o); why != "" {
		m.warnings = append(m.warnings, lookalike(req, o, why))
		m.alike = append(m.alike, o)
		return
	}
	m.owned[key(o)] = o
}

// selectors select the objects that look like the stack's: those with its
// stack label, then those with its ApplySet label but not that stack
// label. Together they are every object with either label, and each is
// listed (and decoded) once: a member, which carries both, comes only in
// the first LIST, and the second is usually empty.
func selectors(req Request) []string {
	if req.Stack == "" {
		return []string{req.OwnerSelector}
	}
	return []string{ownership.LabelStack + "=" + req.Stack, req.OwnerSelector + "," + ownership.LabelStack + "!=" + req.Stack}
}

// desires reports whether an object of kind gvk is among the desired ones.
func desires(desired []*unstructured.Unstructured, gvk schema.GroupVersionKind) bool {
	for _, o := range desired {
		if o.GroupVersionKind().GroupKind() == gvk.GroupKind() {
			return true
		}
	}
	return false
}

// checkUnowned refuses to plan over objects that exist but belong to
// someone else: one LIST per kind and namespace the stack would create in.
func checkUnowned(ctx context.Context, r Reader, req Request, owned map[string]*unstructured.Unstructured) ([]Problem, error) {
	type scope struct {
		gvk schema.GroupVersionKind
		ns  string
	}
	var scopes []scope
	seen := map[scope]bool{}
	for _, obj := range req.Desired {
		s := scope{obj.GroupVersionKind(), obj.GetNamespace()}
		if owned[key(obj)] == nil && !seen[s] {
			seen[s] = true
			scopes = append(scopes, s)
		}
	}
	// the LISTs go up to listConcurrency at a time: a first apply into
	// 100 namespaces 20 ms from the API server waited 2 s for them one
	// after the other
	listed := make([][]*unstructured.Unstructured, len(scopes))
	errs := make([]error, len(scopes))
	var g errgroup.Group
	g.SetLimit(listConcurrency)
	for i, s := range scopes {
		g.Go(func() error {
			listed[i], errs[i] = r.List(ctx, s.gvk, s.ns, "")
			return nil // each LIST's error is kept, to return the first in order
		})
	}
	g.Wait()
	existing := map[string]*unstructured.Unstructured{}
	for i := range scopes {
		if errs[i] != nil {
			return nil, errs[i] // the first in order, as one LIST after the other would stop
		}
		for _, o := range listed[i] {
			existing[key(o)] = o
		}
	}
	var problems []Problem
	for _, obj := range req.Desired {
		live := existing[key(obj)]
		if owned[key(obj)] != nil || live == nil {
			continue
		}
		holder := "is not managed by perimeter"
		if st := live.GetLabels()["perimeter.dev/stack"]; st != "" {
			holder = fmt.Sprintf("belongs to stack %q", st)
		}
		problems = append(problems, Problem{Object: id(obj), Source: annotation(obj, "perimeter.dev/source"),
			Block:  annotation(obj, "perimeter.dev/block"),
			Detail: fmt.Sprintf("already exists and %s; perimeter never takes over objects it does not own. Rename the object in the intent, or remove the existing one.", holder)})
	}
	return problems, nil
}

// stamp returns a copy of obj as perimeter sends it: without the source
// annotation (line numbers stay out of the cluster) and with the digest of
// its content.
//
// Only the maps on the way to the annotations are copied: the rest (the
// spec) is shared with obj, which neither planning nor apply modifies,
// and a plan holds one stamped copy of every desired object.
func stamp(obj *unstructured.Unstructured) *unstructured.Unstructured {
	// copies sized to what they hold (maps.Clone keeps the original's
	// capacity, and the converter behind generate sizes each map for
	// every field of its struct); the plan keeps one per desired object
	out := &unstructured.Unstructured{Object: maps.Collect(maps.All(obj.Object))}
	md, _ := obj.Object["metadata"].(map[string]any)
	md = maps.Collect(maps.All(md))
	ann, _ := md["annotations"].(map[string]any)
	ann = maps.Collect(maps.All(ann))
	delete(ann, ownership.AnnotationSource)
	md["annotations"], out.Object["metadata"] = ann, md
	ann[hashAnnotation] = digest(out) // the digest leaves itself out
	return out
}

func digest(obj *unstructured.Unstructured) string {
	return hashOf(normalizedView(obj.Object)) // hashing only reads
}

// hashOf is the digest of json.Marshal's bytes of normalized. The bytes
// are written into a reused buffer (json.Encoder writes the same bytes,
// and a newline) instead of a new slice per object: the slices were a
// sixth of what comparing 5,000 objects allocated.
func hashOf(normalized map[string]any) string {
	buf := hashBuffers.Get().(*bytes.Buffer)
	defer hashBuffers.Put(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(normalized); err != nil {
		buf.Reset() // json.Marshal's nil bytes
	}
	sum := sha256.Sum256(bytes.TrimSuffix(buf.Bytes(), []byte("\n")))
	return hex.EncodeToString(sum[:16])
}

var hashBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// sameIntent reports whether live was applied from the intent desired
// (stamped) holds. Objects applied before the source annotation left the
// cluster were hashed with it: for them the digest is recomputed with the
// line number they carry, so moving a block never shows as a change and
// upgrading perimeter causes no flood of updates.
func sameIntent(desired, live *unstructured.Unstructured) bool {
	liveHash := annotation(live, hashAnnotation)
	if liveHash == annotation(desired, hashAnnotation) {
		return true
	}
	src, ok := live.GetAnnotations()[ownership.AnnotationSource]
	if !ok {
		return false
	}
	legacy := normalize(desired.Object)
	md, _ := legacy["metadata"].(map[string]any)
	if md == nil {
		return false
	}
	ann, _ := md["annotations"].(map[string]any)
	if ann == nil {
		ann = map[string]any{}
		md["annotations"] = ann
	}
	ann[ownership.AnnotationSource] = src
	return liveHash == hashOf(legacy)
}

func annotation(obj *unstructured.Unstructured, name string) string {
	// read in place: GetAnnotations copies the map, and a plan reads
	// several annotations of every object
	s, _, _ := unstructured.NestedString(obj.Object, "metadata", "annotations", name)
	return s
}

func id(obj *unstructured.Unstructured) string {
	if obj.GetNamespace() == "" {
		return obj.GetKind() + " " + obj.GetName()
	}
	return obj.GetKind() + " " + obj.GetNamespace() + "/" + obj.GetName()
}

func newChange(action Action, obj *unstructured.Unstructured) Change {
	return Change{Action: action, APIVersion: obj.GetAPIVersion(), Kind: obj.GetKind(), Namespace: obj.GetNamespace(),
		Name: obj.GetName(), Source: annotation(obj, "perimeter.dev/source"), Block: annotation(obj, "perimeter.dev/block")}
}

// planObject decides what happens to one desired object.
func planObject(ctx context.Context, dry DryRunner, whole bool, desired, live *unstructured.Unstructured) (Change, *Problem) {
	if live == nil {
		c := newChange(Create, desired)
		c.Desired = desired.Object
		c.After = normalize(desired.Object)
		if dry != nil {
			if _, err := dry.DryRunApply(ctx, desired, false); err != nil {
				return c, rejection(desired, err)
			}
		}
		return c, nil
	}
	c := newChange(NoOp, desired)
	c.Live = &LiveRef{UID: string(live.GetUID()), ResourceVersion: live.GetResourceVersion()}
	c.Desired = desired.Object
	unchangedIntent := sameIntent(desired, live)
	// diffed as views (the common case finds no difference), and only
	// the differences found copied: the plan keeps them, and must not
	// share the objects' maps
	var projected []FieldChange
	if whole {
		projected = diffAll(normalizedView(live.Object), normalizedView(desired.Object))
	} else {
		projected = diffProjected(normalizedView(live.Object), normalizedView(desired.Object))
	}
	for i := range projected {
		projected[i].Before, projected[i].After = deepCopy(projected[i].Before), deepCopy(projected[i].After)
	}
	own, err := foreignFields(live, desired)
	if err != nil {
		return c, &Problem{Object: id(desired), Source: annotation(desired, "perimeter.dev/source"),
			Block: annotation(desired, "perimeter.dev/block"), Detail: err.Error()}
	}
	if unchangedIntent && len(projected) == 0 && len(own.extra) == 0 && !own.differs {
		return c, nil // the common case at scale: no request at all
	}
	fields := projected
	c.Before, c.After = normalize(live.Object), mergeProjected(normalize(live.Object), normalize(desired.Object))
	if dry != nil {
		after, err := dry.DryRunApply(ctx, desired, false)
		if apierrors.IsConflict(err) {
			// Someone else took over fields perimeter set: show what
			// taking them back would change, and say apply needs force.
			c.Conflict = err.Error()
			after, err = dry.DryRunApply(ctx, desired, true)
		}
		if err != nil {
			return c, rejection(desired, err)
		}
		c.After = normalize(after.Object)
		fields = diffAll(c.Before, c.After)
	}
	for i := range fields {
		fields[i].Drift = unchangedIntent || c.Conflict != ""
		if m := own.managerOf(fields[i].Path); m != "" {
			fields[i].Drift, fields[i].Manager = true, m
		}
	}
	fields = withExtras(&c, fields, own.extra)
	if len(fields) > 0 {
		c.Action, c.Fields = Update, fields
	} else {
		c.Before, c.After = nil, nil
	}
	return c, nil
}

// withExtras adds the fields other managers added that the intent does
// not contain: each is a removal, with the managers that added it, and
// apply removes it (Removals) since server-side apply would not.
func withExtras(c *Change, fields []FieldChange, extras []extraField) []FieldChange {
	if len(extras) == 0 {
		return fields
	}
	c.After = without(c.After, extras)
	for _, e := range extras {
		fields = append(fields, FieldChange{Path: e.display, Before: e.value, Drift: true, Manager: strings.Join(e.managers, ", ")})
		c.Removals = append(c.Removals, e.pointer)
	}
	slices.SortStableFunc(fields, func(a, b FieldChange) int { return comparePaths(a.Path, b.Path) })
	slices.SortFunc(c.Removals, comparePointers)
	return fields
}

// rejection says why a dry-run failed: the API server refused the object
// (invalid, forbidden), or it could not be asked at all (connection
// refused, timeout), which says nothing about the object.
func rejection(obj *unstructured.Unstructured, err error) *Problem {
	detail := "the API server rejects it: " + err.Error()
	var status apierrors.APIStatus
	switch {
	case apierrors.IsForbidden(err) && obj.GroupVersionKind().GroupKind() == clusterNetworkPolicy:
		detail = "this identity may not write cluster-scoped policies (guardrails and baselines need a ClusterRole; apply with the platform team's identity, or move these blocks to the platform's stack): " + err.Error()
	case apierrors.IsForbidden(err):
		detail = "this identity may not write it: " + err.Error()
	case !errors.As(err, &status):
		detail = "the API server could not be asked about it (" + err.Error() + "); the object itself was not judged"
	}
	return &Problem{Object: id(obj), Source: annotation(obj, ownership.AnnotationSource), Block: annotation(obj, ownership.AnnotationBlock),
		Detail: detail}
}

// deletions are owned objects the intent no longer produces.
func deletions(owned map[string]*unstructured.Unstructured, wanted map[string]bool, blocks map[string]string) []Change {
	var out []Change
	for _, k := range sortedKeys(owned) {
		if wanted[k] {
			continue
		}
		live := owned[k]
		c := newChange(Delete, live)
		// a line stored by an older perimeter may be stale: the block's
		// line in the current intent (destroy) or none (Block names it)
		c.Source = blocks[lastBlock(c.Block)]
		c.Live = &LiveRef{UID: string(live.GetUID()), ResourceVersion: live.GetResourceVersion()}
		c.Before = normalize(live.Object)
		out = append(out, c)
	}
	return out
}

// lastBlock is the object's own block: the last of the blocks it names.
func lastBlock(blocks string) string {
	if i := strings.LastIndex(blocks, ", "); i >= 0 {
		return blocks[i+2:]
	}
	return blocks
}

// sortedKeys returns a map's keys in order, for deterministic output.
func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
