package plan

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/structured-merge-diff/v6/fieldpath"
	"sigs.k8s.io/structured-merge-diff/v6/value"

	"github.com/perimeter-dev/perimeter/ownership"
)

// foreignOwned is what other field managers own in the spec of a live object,
// read from its managedFields (the LIST returns them: no extra request).
//
// The API server records in managedFields exactly the fields each manager
// applied or changed. Server defaults belong to no manager (verified on a
// real control plane: a NetworkPolicy perimeter applies shows only
// perimeter's fields, a namespace created by kubectl leaves
// spec.finalizers unowned), so they never appear here.
type foreignOwned struct {
	// extra are fields another manager set that the intent does not
	// contain at all: server-side apply never removes them, apply removes
	// them with a JSON patch (see Change.Removals).
	extra []extraField
	// shared are fields the intent sets that another manager also owns
	// (a selector or rule list it took over: both are atomic in
	// NetworkPolicy). Server-side apply takes them back only with force,
	// which the dry-run reports as a conflict.
	shared []ownedField
	// differs is set when a shared field's live value is not the desired
	// one: only the server can say what applying changes, so the object
	// needs a dry-run even though its intent did not change.
	differs bool
}

// extraField is one field another manager added.
type extraField struct {
	ownedField
	pointer string // RFC 6901 pointer into the live object, for the patch
	value   any
	path    fieldpath.Path
}

// ownedField is a field (by display path) and the managers owning it.
type ownedField struct {
	display  string
	managers []string
}

// foreignFields reads live's managedFields against desired. An entry that
// cannot be decoded is an error: skipping it could hide drift.
func foreignFields(live, desired *unstructured.Unstructured) (*foreignOwned, error) {
	mine, others, err := managedSpecs(live)
	if err != nil {
		return nil, err
	}
	f := &foreignOwned{}
	extras := map[string]*extraField{}
	shared := map[string]*ownedField{}
	for _, o := range others {
		w := walker{f: f, manager: o.manager, mine: mine, extras: extras, shared: shared}
		w.walk(o.spec, fieldpath.Path{specElement}, loc{"spec", "/spec"}, live.Object["spec"], desired.Object["spec"])
	}
	for _, k := range sortedKeys(extras) {
		f.extra = append(f.extra, *extras[k])
	}
	for _, k := range sortedKeys(shared) {
		f.shared = append(f.shared, *shared[k])
	}
	return f, nil
}

var specElement = fieldpath.PathElement{FieldName: ptr("spec")}

// managed is the part of the spec one other manager owns.
type managed struct {
	manager string
	spec    *fieldpath.Set
}

// managedSpecs decodes the managedFields entries: the fields perimeter
// owns (whole paths), and what each other manager owns under spec.
// Entries for subresources (status) are never drift; managers that own
// only metadata (labels, annotations) stay theirs.
func managedSpecs(live *unstructured.Unstructured) (*fieldpath.Set, []managed, error) {
	mine := &fieldpath.Set{}
	var others []managed
	for _, e := range live.GetManagedFields() {
		if e.Subresource != "" || e.FieldsV1 == nil {
			continue
		}
		set := &fieldpath.Set{}
		if err := set.FromJSON(bytes.NewReader(e.FieldsV1.Raw)); err != nil {
			return nil, nil, fmt.Errorf("reading the fields manager %q owns: %v", e.Manager, err)
		}
		if e.Manager == ownership.FieldManager {
			mine = mine.Union(set)
			continue
		}
		if spec, ok := set.Children.Get(specElement); ok {
			others = append(others, managed{e.Manager, spec})
		}
	}
	return mine, others, nil
}

func ptr(s string) *string { return &s }

// loc is where a field is: as plans show it and as a JSON pointer.
type loc struct{ display, pointer string }

// walker walks one manager's field set alongside the live and desired
// objects.
type walker struct {
	f       *foreignOwned
	manager string
	mine    *fieldpath.Set // what perimeter owns too
	extras  map[string]*extraField
	shared  map[string]*ownedField
}

// walk visits the fields set owns below path. A field the desired object
// lacks is extra (reported whole, not descended into); one it has is
// shared when owned, and descended into when set owns fields below it.
func (w walker) walk(set *fieldpath.Set, path fieldpath.Path, at loc, live, desired any) {
	var elems []fieldpath.PathElement
	set.Members.Iterate(func(pe fieldpath.PathElement) { elems = append(elems, pe) })
	set.Children.Iterate(func(pe fieldpath.PathElement) {
		if !set.Members.Has(pe) {
			elems = append(elems, pe)
		}
	})
	for _, pe := range elems {
		lv, lat, ok := resolve(live, pe, at)
		if !ok {
			continue // owned but absent (set to null): nothing to show or remove
		}
		dv, _, inDesired := resolve(desired, pe, at)
		p := append(slices.Clone(path), pe)
		if !inDesired {
			w.addExtra(p, lat, lv)
			continue
		}
		if set.Members.Has(pe) {
			w.addShared(p, lat, lv, dv)
		}
		if child, ok := set.Children.Get(pe); ok {
			w.walk(child, p, lat, lv, dv)
		}
	}
}

func (w walker) addExtra(p fieldpath.Path, at loc, v any) {
	e := w.extras[at.pointer]
	if e == nil {
		e = &extraField{ownedField: ownedField{display: at.display}, pointer: at.pointer, value: v, path: p}
		w.extras[at.pointer] = e
	}
	e.managers = appendManager(e.managers, w.manager)
}

// addShared records a field the intent sets that the manager owns too. It
// is the manager's doing only when perimeter no longer owns it (taken
// over): a value both still own is perimeter's, even when the intent now
// changes it.
func (w walker) addShared(p fieldpath.Path, at loc, lv, dv any) {
	var diffs []FieldChange
	walkDiff("", lv, dv, false, &diffs)
	if len(diffs) > 0 {
		w.f.differs = true
	}
	if w.mine.Has(p) {
		return
	}
	o := w.shared[at.display]
	if o == nil {
		o = &ownedField{display: at.display}
		w.shared[at.display] = o
	}
	o.managers = appendManager(o.managers, w.manager)
}

func appendManager(ms []string, m string) []string {
	if !slices.Contains(ms, m) {
		ms = append(ms, m)
		slices.Sort(ms)
	}
	return ms
}

// resolve finds the child of node that pe names, and where it is.
func resolve(node any, pe fieldpath.PathElement, at loc) (any, loc, bool) {
	switch {
	case pe.FieldName != nil:
		m, ok := node.(map[string]any)
		if !ok {
			return nil, at, false
		}
		v, ok := m[*pe.FieldName]
		return v, loc{joinPath(at.display, *pe.FieldName), at.pointer + "/" + escapePointer(*pe.FieldName)}, ok && v != nil
	case pe.Index != nil:
		l, ok := node.([]any)
		if !ok || *pe.Index < 0 || *pe.Index >= len(l) {
			return nil, at, false
		}
		return l[*pe.Index], index(at, *pe.Index), true
	}
	l, _ := node.([]any)
	for i, item := range l {
		if matches(item, pe) {
			return item, index(at, i), true
		}
	}
	return nil, at, false
}

func index(at loc, i int) loc {
	return loc{fmt.Sprintf("%s[%d]", at.display, i), at.pointer + "/" + strconv.Itoa(i)}
}

// matches reports whether a list item is the one an associative key
// (k:{...}) or a set value (v:...) names.
func matches(item any, pe fieldpath.PathElement) bool {
	if pe.Value != nil {
		return value.Equals(value.NewValueInterface(item), *pe.Value)
	}
	m, ok := item.(map[string]any)
	if !ok || pe.Key == nil {
		return false
	}
	for _, f := range *pe.Key {
		v, ok := m[f.Name]
		if !ok || !value.Equals(value.NewValueInterface(v), f.Value) {
			return false
		}
	}
	return true
}

// escapePointer escapes a key for a JSON pointer (RFC 6901).
func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}

// without returns a copy of obj without the extra fields, found again by
// their field paths (a dry-run may have reordered lists).
func without(obj map[string]any, extras []extraField) map[string]any {
	out := deepCopy(obj).(map[string]any)
	for _, e := range extras {
		removePath(out, e.path)
	}
	return out
}

func removePath(node any, p fieldpath.Path) any {
	if len(p) == 0 {
		return node
	}
	pe := p[0]
	if m, ok := node.(map[string]any); ok && pe.FieldName != nil {
		if len(p) == 1 {
			delete(m, *pe.FieldName)
		} else if child, ok := m[*pe.FieldName]; ok {
			m[*pe.FieldName] = removePath(child, p[1:])
		}
		return m
	}
	l, ok := node.([]any)
	if !ok {
		return node
	}
	for i, item := range l {
		if (pe.Index != nil && *pe.Index == i) || (pe.Index == nil && matches(item, pe)) {
			if len(p) == 1 {
				return slices.Delete(slices.Clone(l), i, i+1)
			}
			l[i] = removePath(item, p[1:])
			return l
		}
	}
	return l
}

// managerOf names the managers behind a field change: those owning the
// field or the nearest enclosing field (an atomic selector or list).
func (f *foreignOwned) managerOf(path string) string {
	best := ""
	var managers []string
	for _, o := range f.shared {
		if within(path, o.display) && len(o.display) > len(best) {
			best, managers = o.display, o.managers
		}
	}
	return strings.Join(managers, ", ")
}

// within reports whether path is field or lies below it.
func within(path, field string) bool {
	if !strings.HasPrefix(path, field) {
		return false
	}
	rest := path[len(field):]
	return rest == "" || rest[0] == '.' || rest[0] == '['
}

// comparePointers orders JSON pointers so that, within one list, higher
// indices come first: removing them in this order keeps the indices of
// the rest valid.
func comparePointers(a, b string) int {
	return compareTokens(strings.Split(a, "/"), strings.Split(b, "/"), -1)
}

// comparePaths orders display paths field by field, list indices by
// number, so drift joins the dry-run's fields in document order.
func comparePaths(a, b string) int {
	return compareTokens(pathTokens(a), pathTokens(b), 1)
}

// compareTokens compares two token lists: numbers as numbers (ascending
// when indexOrder is 1, descending when -1), other tokens as strings, a
// prefix first.
func compareTokens(as, bs []string, indexOrder int) int {
	for i := 0; i < min(len(as), len(bs)); i++ {
		if as[i] == bs[i] {
			continue
		}
		ai, aerr := strconv.Atoi(as[i])
		bi, berr := strconv.Atoi(bs[i])
		if aerr == nil && berr == nil {
			return indexOrder * (ai - bi)
		}
		return strings.Compare(as[i], bs[i])
	}
	return len(as) - len(bs)
}

func pathTokens(p string) []string {
	return strings.FieldsFunc(p, func(r rune) bool { return r == '.' || r == '[' || r == ']' })
}
