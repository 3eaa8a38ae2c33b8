// Package ownership defines how perimeter marks what a stack owns: its
// labels and annotations, and the ApplySet (KEP-3659) that lets kubectl
// and perimeter agree on membership. A stack's ApplySet parent is a
// ConfigMap named perimeter-<stack> in the stack's state namespace.
package ownership

import (
	"crypto/sha256"
	"encoding/base64"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// Labels and annotations.
const (
	LabelManagedBy = "app.kubernetes.io/managed-by"
	ManagedByValue = "perimeter"
	LabelStack     = "perimeter.dev/stack"
	// AnnotationSource is the file:line of the HCL block(s). It lives only
	// in memory and in perimeter's own views: it is never sent to a cluster
	// or written to rendered files, so moving a block to another line
	// changes nothing there (objects applied by older versions may still
	// carry it; it is ignored).
	AnnotationSource = "perimeter.dev/source"
	// AnnotationBlock is the HCL block(s), e.g. `route "api"`: a stable
	// address, kept on every object.
	AnnotationBlock = "perimeter.dev/block"

	// AnnotationEnvironment, on the ApplySet parent, is the environment
	// the stack was last applied with ("" for an intent without any).
	AnnotationEnvironment = "perimeter.dev/environment"

	LabelApplySetPartOf          = "applyset.kubernetes.io/part-of"
	LabelApplySetID              = "applyset.kubernetes.io/id"
	AnnotationApplySetTooling    = "applyset.kubernetes.io/tooling"
	AnnotationApplySetGroupKinds = "applyset.kubernetes.io/contains-group-kinds"
	AnnotationApplySetNamespaces = "applyset.kubernetes.io/additional-namespaces"

	// FieldManager is the server-side apply field manager perimeter
	// writes as; fields other managers own in an object's spec are drift.
	FieldManager = "perimeter"

	// Tooling identifies perimeter in the ApplySet parent.
	Tooling = "perimeter/v1"
	// DefaultStateNamespace holds ApplySet parents unless the intent says otherwise.
	DefaultStateNamespace = "default"
)

// ParentGVK is the kind of the ApplySet parent.
var ParentGVK = schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}

// ParentName is the name of a stack's ApplySet parent.
func ParentName(stack string) string { return "perimeter-" + stack }

// LockName is the name of a stack's lock, a coordination.k8s.io Lease in
// its state namespace (package lock).
func LockName(stack string) string { return "perimeter-lock-" + stack }

// ApplySetID is the KEP-3659 identifier of a stack's ApplySet:
// applyset-<base64url(sha256(name.namespace.kind.group))>-v1.
func ApplySetID(stack, stateNamespace string) string {
	sum := sha256.Sum256([]byte(ParentName(stack) + "." + stateNamespace + "." + ParentGVK.Kind + "." + ParentGVK.Group))
	return "applyset-" + base64.RawURLEncoding.EncodeToString(sum[:]) + "-v1"
}

// MemberSelector selects the members of a stack's ApplySet.
func MemberSelector(stack, stateNamespace string) string {
	return LabelApplySetPartOf + "=" + ApplySetID(stack, stateNamespace)
}

// IsMember reports whether obj carries all of this stack's ownership marks.
// Pruning requires it: a label alone that looks right is not enough.
func IsMember(obj *unstructured.Unstructured, stack, stateNamespace string) bool {
	l := obj.GetLabels()
	return l[LabelApplySetPartOf] == ApplySetID(stack, stateNamespace) &&
		l[LabelStack] == stack && l[LabelManagedBy] == ManagedByValue
}

// MemberLabels are the labels every object of the stack carries.
func MemberLabels(stack, stateNamespace string) map[string]string {
	return map[string]string{
		LabelManagedBy:      ManagedByValue,
		LabelStack:          stack,
		LabelApplySetPartOf: ApplySetID(stack, stateNamespace),
	}
}

// Parent builds the ApplySet parent for a set of members.
func Parent(stack, stateNamespace string, members []*unstructured.Unstructured) *unstructured.Unstructured {
	kinds, namespaces := map[string]bool{}, map[string]bool{}
	for _, m := range members {
		// GroupKind.String, as kubectl writes it: "NetworkPolicy.networking.k8s.io",
		// and "Namespace" for the core group (kubectl parses both forms).
		kinds[m.GroupVersionKind().GroupKind().String()] = true
		// Cluster-scoped members (Namespaces) add no namespace.
		if ns := m.GetNamespace(); ns != "" && ns != stateNamespace {
			namespaces[ns] = true
		}
	}
	p := &unstructured.Unstructured{}
	p.SetGroupVersionKind(ParentGVK)
	p.SetName(ParentName(stack))
	p.SetNamespace(stateNamespace)
	p.SetLabels(map[string]string{LabelApplySetID: ApplySetID(stack, stateNamespace), LabelManagedBy: ManagedByValue, LabelStack: stack})
	p.SetAnnotations(map[string]string{
		AnnotationApplySetTooling:    Tooling,
		AnnotationApplySetGroupKinds: joinSorted(kinds),
		AnnotationApplySetNamespaces: joinSorted(namespaces),
	})
	return p
}

func joinSorted(set map[string]bool) string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// WithoutSource returns obj, or a copy of it without the source
// annotation when it has one: the form perimeter sends and writes.
func WithoutSource(obj *unstructured.Unstructured) *unstructured.Unstructured {
	ann := obj.GetAnnotations()
	if _, ok := ann[AnnotationSource]; !ok {
		return obj
	}
	out := obj.DeepCopy()
	DropSource(out)
	return out
}

// DropSource removes the source annotation from obj in place.
func DropSource(obj *unstructured.Unstructured) {
	unstructured.RemoveNestedField(obj.Object, "metadata", "annotations", AnnotationSource)
}
