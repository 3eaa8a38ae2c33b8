package plan

import (
	"reflect"
	"slices"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// withManagers returns an object with spec and the managedFields given
// as manager -> fieldsV1 JSON.
func withManagers(spec map[string]any, fields map[string]string) *unstructured.Unstructured {
	u := &unstructured.Unstructured{Object: obj(spec)}
	var entries []metav1.ManagedFieldsEntry
	for _, m := range sortedKeys(fields) {
		entries = append(entries, metav1.ManagedFieldsEntry{Manager: m, Operation: metav1.ManagedFieldsOperationApply,
			FieldsType: "FieldsV1", FieldsV1: &metav1.FieldsV1{Raw: []byte(fields[m])}})
	}
	u.SetManagedFields(entries)
	return u
}

// Associative lists (k:), sets (v:) and granular maps: what the intent
// lacks is extra, with a pointer that names the live element; what it has
// is shared; perimeter's own fields and metadata are never considered.
func TestForeignFields(t *testing.T) {
	live := withManagers(map[string]any{
		"ports":  []any{map[string]any{"name": "http", "port": int64(80)}, map[string]any{"name": "admin", "port": int64(9000)}},
		"tags":   []any{"a", "b/c"},
		"labels": map[string]any{"app": "users", "x/y": "1"},
	}, map[string]string{
		"perimeter": `{"f:spec":{"f:labels":{"f:app":{}}}}`,
		"someone":   `{"f:metadata":{"f:labels":{"f:team":{}}},"f:spec":{"f:ports":{"k:{\"name\":\"admin\"}":{".":{},"f:name":{},"f:port":{}},"k:{\"name\":\"http\"}":{"f:port":{}}},"f:tags":{"v:\"b/c\"":{}},"f:labels":{"f:x/y":{}}}}`,
		"other":     `{"f:spec":{"f:labels":{"f:x/y":{}}}}`,
	})
	desired := &unstructured.Unstructured{Object: obj(map[string]any{
		"ports":  []any{map[string]any{"name": "http", "port": int64(8080)}},
		"tags":   []any{"a"},
		"labels": map[string]any{"app": "users"},
	})}
	f, err := foreignFields(live, desired)
	if err != nil {
		t.Fatal(err)
	}
	var got [][3]any
	for _, e := range f.extra {
		got = append(got, [3]any{e.display, e.pointer, e.managers})
	}
	want := [][3]any{
		{`spec.labels["x/y"]`, "/spec/labels/x~1y", []string{"other", "someone"}},
		{"spec.ports[1]", "/spec/ports/1", []string{"someone"}},
		{"spec.tags[1]", "/spec/tags/1", []string{"someone"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("extra fields:\n got %v\nwant %v", got, want)
	}
	if !f.differs || len(f.shared) != 1 || f.shared[0].display != "spec.ports[0].port" {
		t.Errorf("shared: %+v differs %v, want spec.ports[0].port differing", f.shared, f.differs)
	}
	if m := f.managerOf("spec.ports[0].port"); m != "someone" {
		t.Errorf("managerOf = %q", m)
	}
	after := without(normalize(live.Object), f.extra)
	wantSpec := map[string]any{"ports": []any{map[string]any{"name": "http", "port": int64(80)}}, "tags": []any{"a"}, "labels": map[string]any{"app": "users"}}
	if !reflect.DeepEqual(after["spec"], wantSpec) {
		t.Errorf("without extras: %v", after["spec"])
	}
}

// Removing several elements of one list goes from the last to the first,
// so each pointer still names the element it was read as.
func TestComparePointers(t *testing.T) {
	ps := []string{"/spec/a/2", "/spec/a/10", "/spec/b", "/spec/a/9"}
	slices.SortFunc(ps, comparePointers)
	if want := []string{"/spec/a/10", "/spec/a/9", "/spec/a/2", "/spec/b"}; !reflect.DeepEqual(ps, want) {
		t.Errorf("order %v, want %v", ps, want)
	}
}

// A saved plan may only remove fields under spec, on an update of an
// object read when planning.
func TestCheckRemovals(t *testing.T) {
	live := &LiveRef{UID: "u", ResourceVersion: "7"}
	for _, tc := range []struct {
		c    Change
		want int
	}{
		{Change{Action: Update, Live: live, Removals: []string{"/spec/ingress"}}, 0},
		{Change{Action: Update, Live: live, Removals: []string{"/metadata/labels/perimeter.dev~1stack"}}, 1},
		{Change{Action: Update, Live: live, Removals: []string{"/spec"}}, 1},
		{Change{Action: Create, Removals: []string{"/spec/ingress"}}, 1},
	} {
		if got := checkRemovals(tc.c); len(got) != tc.want {
			t.Errorf("%+v: %v, want %d reasons", tc.c, got, tc.want)
		}
	}
}

// A value perimeter and another manager both own is perimeter's: an
// intent that changes it is no drift by the other manager (the dry-run
// then reports their conflict).
func TestSharedWithPerimeterIsNotTheirs(t *testing.T) {
	live := withManagers(map[string]any{"hosts": []any{"a"}}, map[string]string{
		"perimeter": `{"f:spec":{"f:hosts":{}}}`,
		"someone":   `{"f:spec":{"f:hosts":{}}}`,
	})
	desired := &unstructured.Unstructured{Object: obj(map[string]any{"hosts": []any{"b"}})}
	f, err := foreignFields(live, desired)
	if err != nil {
		t.Fatal(err)
	}
	if !f.differs || len(f.shared) != 0 || len(f.extra) != 0 || f.managerOf("spec.hosts[0]") != "" {
		t.Errorf("got %+v", f)
	}
}

// An edited plan cannot turn force on beyond the drift a plan shows: only
// an update of an object read when planning, with drift by a named manager
// inside the spec, is applied with force.
func TestCheckRepair(t *testing.T) {
	live := &LiveRef{UID: "u", ResourceVersion: "7"}
	drift := []FieldChange{{Path: "spec.podSelector.matchLabels.tier", Before: "x", Drift: true, Manager: "editor"}}
	for _, tc := range []struct {
		name    string
		c       Change
		reasons int
		repairs bool
	}{
		{"the selector drift a plan shows", Change{Action: Update, Live: live, Conflict: "c", Fields: drift}, 0, true},
		{"a conflict without drift: not forced", Change{Action: Update, Live: live, Conflict: "c",
			Fields: []FieldChange{{Path: "metadata.annotations.x", After: "y", Drift: true}}}, 0, false},
		{"drift without a conflict: not forced", Change{Action: Update, Live: live, Fields: drift}, 0, false},
		{"drift claimed on ownership labels", Change{Action: Update, Live: live, Conflict: "c",
			Fields: []FieldChange{{Path: `metadata.labels["perimeter.dev/stack"]`, Before: "other", Drift: true, Manager: "x"}}}, 1, false},
		{"drift claimed on a create", Change{Action: Create, Conflict: "c", Fields: drift}, 1, false},
		{"drift claimed without the version read", Change{Action: Update, Live: &LiveRef{UID: "u"}, Conflict: "c", Fields: drift}, 1, false},
		{"spec drift and a label", Change{Action: Update, Live: live, Conflict: "c",
			Fields: append(slices.Clone(drift), FieldChange{Path: "metadata.labels.x", Drift: true, Manager: "x"})}, 1, false},
	} {
		if got := checkRepair(tc.c); len(got) != tc.reasons || tc.c.RepairsDrift() != tc.repairs {
			t.Errorf("%s: reasons %v, repairs %v; want %d reasons, repairs %v", tc.name, got, tc.c.RepairsDrift(), tc.reasons, tc.repairs)
		}
	}
}
