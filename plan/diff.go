package plan

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/perimeter-dev/perimeter/ownership"
)

// volatileMetadata are fields the server owns; they never count as changes.
var volatileMetadata = []string{
	"managedFields", "resourceVersion", "uid", "generation", "creationTimestamp",
	"selfLink", "deletionTimestamp", "deletionGracePeriodSeconds", "finalizers", "ownerReferences",
}

// normalize returns a copy of obj without status and server-owned metadata,
// so two reads of the same object compare equal.
func normalize(obj map[string]any) map[string]any { return normalizeWith(obj, deepCopy) }

// normalizedView is normalize without the copy: the same tree, except
// that the maps normalize rebuilds (the object, its metadata, labels and
// annotations) are new and everything below them is obj's own. For
// reading only (diffing, hashing): a plan normalizes each object several
// times, and the copies of their specs were a twelfth of what planning
// 5,000 objects allocated.
func normalizedView(obj map[string]any) map[string]any {
	return normalizeWith(obj, func(v any) any { return v })
}

// normalizeWith is normalize, copying each kept value with cp.
func normalizeWith(obj map[string]any, cp func(any) any) map[string]any {
	// Copy only what is kept: a live object's managedFields are often
	// larger than the rest of it, and a plan normalizes every object.
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "status":
		case "metadata":
			if md, ok := v.(map[string]any); ok {
				out[k] = normalizeMetadata(md, cp)
			} else {
				out[k] = cp(v)
			}
		default:
			out[k] = cp(v)
		}
	}
	return out
}

// normalizeMetadata copies metadata without the fields the server owns,
// the digest and the source line.
func normalizeMetadata(md map[string]any, cp func(any) any) map[string]any {
	out := make(map[string]any, len(md))
	for k, v := range md {
		if slices.Contains(volatileMetadata, k) {
			continue
		}
		m, isMap := v.(map[string]any)
		if (k != "labels" && k != "annotations") || !isMap {
			out[k] = cp(v)
			continue
		}
		_, hashed := m[hashAnnotation]
		_, sourced := m[ownership.AnnotationSource]
		if len(m) > 0 && !hashed && !sourced {
			out[k] = cp(v) // nothing to leave out (labels, as a rule): a view shares the map
			continue
		}
		kept := make(map[string]any, len(m))
		for name, val := range m {
			if name != hashAnnotation && name != ownership.AnnotationSource { // a line number: not part of the object's meaning
				kept[name] = cp(val)
			}
		}
		if len(kept) > 0 {
			out[k] = kept
		}
	}
	return out
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// diffAll lists every difference between two normalised objects.
func diffAll(before, after map[string]any) []FieldChange {
	var out []FieldChange
	walkDiff("", before, after, false, &out)
	return out
}

// diffProjected lists the differences on the fields desired sets: live
// values of fields desired does not mention (server defaults, other
// managers' fields) are ignored.
func diffProjected(live, desired map[string]any) []FieldChange {
	var out []FieldChange
	walkDiff("", live, desired, true, &out)
	return out
}

// walkDiff compares before with after below path. Maps are compared key by
// key and lists element by element, so a reviewer sees which element of a
// list changed. With projected, keys absent from after are not compared.
func walkDiff(path string, before, after any, projected bool, out *[]FieldChange) {
	switch a := after.(type) {
	case map[string]any:
		b, ok := before.(map[string]any)
		if !ok {
			*out = append(*out, FieldChange{Path: path, Before: before, After: after})
			return
		}
		for _, k := range unionKeys(b, a, projected) {
			walkDiff(joinPath(path, k), b[k], a[k], projected, out)
		}
	case []any:
		b, ok := before.([]any)
		if !ok {
			*out = append(*out, FieldChange{Path: path, Before: before, After: after})
			return
		}
		for i := 0; i < max(len(a), len(b)); i++ {
			p := fmt.Sprintf("%s[%d]", path, i)
			switch {
			case i >= len(a):
				*out = append(*out, FieldChange{Path: p, Before: b[i]})
			case i >= len(b):
				*out = append(*out, FieldChange{Path: p, After: a[i]})
			default:
				walkDiff(p, b[i], a[i], projected, out)
			}
		}
	default:
		if after == nil && projected {
			return
		}
		if !scalarEqual(before, after) {
			*out = append(*out, FieldChange{Path: path, Before: before, After: after})
		}
	}
}

func unionKeys(b, a map[string]any, projected bool) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	if !projected {
		for k := range b {
			seen[k] = true
		}
	}
	keys := make([]string, 0, len(seen))
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// joinPath appends a key: dotted when it is a plain identifier, bracketed
// and quoted otherwise (labels such as app.kubernetes.io/name).
func joinPath(path, key string) string {
	plain := key != "" && strings.IndexFunc(key, func(r rune) bool {
		return !(r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
	switch {
	case !plain:
		return fmt.Sprintf("%s[%q]", path, key)
	case path == "":
		return key
	}
	return path + "." + key
}

// scalarEqual compares leaf values, treating all number types alike.
func scalarEqual(a, b any) bool {
	if fa, ok := number(a); ok {
		fb, ok := number(b)
		return ok && fa == fb
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case int:
		return float64(n), true
	case int32:
		return float64(n), true
	case int64:
		return float64(n), true
	case float64:
		return n, true
	}
	return 0, false
}

// mergeProjected overlays desired's values on live: the object as apply
// will leave it, when no server can be asked.
func mergeProjected(live, desired map[string]any) map[string]any {
	out := deepCopy(live).(map[string]any)
	for k, v := range desired {
		lm, lok := out[k].(map[string]any)
		dm, dok := v.(map[string]any)
		if lok && dok {
			out[k] = mergeProjected(lm, dm)
			continue
		}
		out[k] = deepCopy(v)
	}
	return out
}
