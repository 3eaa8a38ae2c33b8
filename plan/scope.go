package plan

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/validation"

	"github.com/perimeter-dev/perimeter/ownership"
)

// Scope is what a plan may write, recorded when it is made from the
// intent. Apply checks every change against it, and against the kinds
// perimeter generates (compiled into the binary, so no edit of the file
// widens them).
type Scope struct {
	// Namespaces are the intent's namespace blocks: the only Namespace
	// objects the plan may create, adopt or update.
	Namespaces []string `json:"namespaces"`
	// ObjectNamespaces are the namespaces the plan may create or update
	// objects in: the namespace blocks, the state namespace, and the
	// namespaces of the objects the intent compiles to (a Gateway the
	// stack manages may live in a namespace it does not).
	ObjectNamespaces []string `json:"object_namespaces"`
	// ClusterPolicies are the cluster-scoped ClusterNetworkPolicies
	// (guardrails and baselines) the plan may create or update: those the
	// intent compiles to.
	ClusterPolicies []string `json:"cluster_policies,omitempty"`
}

// scopeOf records what a plan made from req may write.
func scopeOf(req Request) *Scope {
	blocks, objects := map[string]bool{}, map[string]bool{req.StateNamespace: true}
	var cluster []string
	for _, ns := range req.Namespaces {
		blocks[ns.Object.GetName()] = true
		objects[ns.Object.GetName()] = true
	}
	for _, obj := range req.Desired {
		if obj.GetNamespace() != "" {
			objects[obj.GetNamespace()] = true
		}
		if obj.GroupVersionKind().GroupKind() == clusterNetworkPolicy {
			cluster = append(cluster, obj.GetName())
		}
	}
	slices.Sort(cluster)
	return &Scope{Namespaces: slices.Sorted(maps.Keys(blocks)), ObjectNamespaces: slices.Sorted(maps.Keys(objects)), ClusterPolicies: cluster}
}

// RefusedError lists every change of a saved plan that the stack may not
// make, and why.
type RefusedError struct {
	Stack   string
	Reasons []string
}

// Error lists every reason, one a line.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("the plan goes beyond what stack %q may do; nothing was changed:\n  %s", e.Stack, strings.Join(e.Reasons, "\n  "))
}

// CheckScope refuses a plan any of whose changes is of a kind perimeter
// does not generate, lies outside the plan's namespaces, or does not carry
// exactly the ownership labels of the plan's stack. Deletes send no object:
// CheckCurrent verifies against the cluster that each is a member of the
// stack, as read when planning. It reads nothing, so it runs before the
// first request.
func CheckScope(p *Plan, kinds []schema.GroupVersionKind) error {
	var reasons []string
	for _, msg := range validation.IsDNS1123Label(p.Stack) {
		reasons = append(reasons, fmt.Sprintf("stack name %q is not a DNS label: %s", p.Stack, msg))
	}
	for _, msg := range validation.IsDNS1123Label(p.StateNamespace) {
		reasons = append(reasons, fmt.Sprintf("state namespace %q is not a DNS label: %s", p.StateNamespace, msg))
	}
	if p.Scope == nil {
		reasons = append(reasons, "the plan records no scope (the namespaces it may write to)")
	}
	seen := map[string]bool{}
	for _, c := range p.Changes {
		k := c.Kind + "/" + c.Namespace + "/" + c.Name
		if seen[k] {
			reasons = append(reasons, c.ID()+": listed more than once")
		}
		seen[k] = true
		for _, r := range checkChange(p, c, kinds) {
			reasons = append(reasons, c.ID()+": "+r)
		}
	}
	if len(reasons) > 0 {
		return &RefusedError{Stack: p.Stack, Reasons: reasons}
	}
	return nil
}

// checkChange says what is wrong with one change.
func checkChange(p *Plan, c Change, kinds []schema.GroupVersionKind) []string {
	if !slices.Contains(kinds, c.GVK()) {
		return []string{fmt.Sprintf("kind %s (%s) is not one perimeter manages (%s)", c.Kind, c.APIVersion, kindList(kinds))}
	}
	isNamespace := c.Kind == NamespaceGVK.Kind
	clusterScoped := isNamespace || c.GVK().GroupKind() == clusterNetworkPolicy
	switch {
	case clusterScoped && c.Namespace != "":
		return []string{"a " + c.Kind + " is cluster-scoped: it has no namespace"}
	case !clusterScoped && c.Namespace == "":
		return []string{"a " + c.Kind + " needs a namespace"}
	}
	var reasons []string
	switch c.Action {
	case Create, Update, NoOp:
	case Delete:
	default:
		reasons = append(reasons, fmt.Sprintf("unknown action %q", c.Action))
	}
	if c.Action == Delete && (c.Live == nil || c.Live.UID == "") {
		reasons = append(reasons, "a delete without the live object it was planned against")
	}
	reasons = append(reasons, checkRemovals(c)...)
	reasons = append(reasons, checkRepair(c)...)
	if c.Adopt && (!isNamespace || c.Live == nil) {
		reasons = append(reasons, "only a Namespace read when planning can be adopted")
	}
	if c.Desired == nil {
		if c.Action == Create || c.Action == Update {
			reasons = append(reasons, "no object to apply")
		}
		if c.Action == NoOp && (c.Live == nil || c.Live.UID == "") {
			reasons = append(reasons, "no object to keep and no live object it was planned against")
		}
		return reasons
	}
	if p.Scope != nil {
		reasons = append(reasons, outsideScope(p.Scope, c)...)
	}
	return append(reasons, checkDesired(p, c)...)
}

// checkRemovals refuses removals apply must never make: outside the spec
// (labels, annotations and ownership are never drift), or on anything but
// an update of an object read when planning.
func checkRemovals(c Change) []string {
	var reasons []string
	if len(c.Removals) > 0 && (c.Action != Update || c.Live == nil || c.Live.ResourceVersion == "") {
		reasons = append(reasons, "only an update of an object read when planning removes fields")
	}
	for _, p := range c.Removals {
		if !strings.HasPrefix(p, "/spec/") {
			reasons = append(reasons, fmt.Sprintf("removal %q lies outside the spec; perimeter removes only fields other managers added to a spec", p))
		}
	}
	return reasons
}

// outsideScope says when a change writes outside the plan's namespaces.
func outsideScope(s *Scope, c Change) []string {
	if c.Kind == NamespaceGVK.Kind {
		if !slices.Contains(s.Namespaces, c.Name) {
			return []string{fmt.Sprintf("namespace %q is not one of the stack's namespace blocks (%s)", c.Name, orNone(s.Namespaces))}
		}
		return nil
	}
	if c.GVK().GroupKind() == clusterNetworkPolicy {
		if !slices.Contains(s.ClusterPolicies, c.Name) {
			return []string{fmt.Sprintf("ClusterNetworkPolicy %q is not one of the intent's guardrails and baselines (%s)", c.Name, orNone(s.ClusterPolicies))}
		}
		return nil
	}
	if !slices.Contains(s.ObjectNamespaces, c.Namespace) {
		return []string{fmt.Sprintf("namespace %q is not one the stack manages (%s)", c.Namespace, orNone(s.ObjectNamespaces))}
	}
	return nil
}

// checkDesired checks that the object apply would send is the change's
// object and carries exactly the plan's stack's ownership labels.
func checkDesired(p *Plan, c Change) []string {
	var reasons []string
	obj := c.DesiredObject()
	if obj.GetAPIVersion() != c.APIVersion || obj.GetKind() != c.Kind || obj.GetNamespace() != c.Namespace || obj.GetName() != c.Name {
		reasons = append(reasons, fmt.Sprintf("the object to apply is %s %s %s/%s, not the one the change names",
			obj.GetAPIVersion(), obj.GetKind(), obj.GetNamespace(), obj.GetName()))
	}
	want := ownership.MemberLabels(p.Stack, p.StateNamespace)
	labels := obj.GetLabels()
	for _, k := range slices.Sorted(maps.Keys(want)) {
		if labels[k] != want[k] {
			reasons = append(reasons, fmt.Sprintf("label %s is %q, not %q (stack %q)", k, labels[k], want[k], p.Stack))
		}
	}
	for _, k := range slices.Sorted(maps.Keys(labels)) {
		if _, member := want[k]; member {
			continue
		}
		// A Namespace also carries its block's declared labels; nothing
		// carries another ApplySet label (an id label makes a parent).
		if c.Kind != NamespaceGVK.Kind || strings.HasPrefix(k, "applyset.kubernetes.io/") {
			reasons = append(reasons, fmt.Sprintf("label %s is not one of the stack's ownership labels", k))
		}
	}
	return reasons
}

func kindList(kinds []schema.GroupVersionKind) string {
	var names []string
	for _, k := range kinds {
		names = append(names, k.Kind)
	}
	return "only " + strings.Join(names, ", ")
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "it has none"
	}
	return "it has " + strings.Join(names, ", ")
}
