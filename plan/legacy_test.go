package plan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// countingDryRunner fails the test if planning asks the server anything.
type countingDryRunner struct{ calls int }

func (d *countingDryRunner) DryRunApply(_ context.Context, obj *unstructured.Unstructured, _ bool) (*unstructured.Unstructured, error) {
	d.calls++
	return obj, nil
}

// Objects applied before line numbers left the cluster carry a source
// annotation and a digest computed with it. They must plan as unchanged,
// with no request, when only their block's line moved: an upgrade of
// perimeter is not a flood of updates.
func TestLegacySourceAnnotationIsNoChange(t *testing.T) {
	spec := map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}
	// exactly what an older perimeter hashed: the normalized object, with
	// its block, its source line and no digest, as JSON
	hashed := map[string]any{
		"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "default-deny", "namespace": "shop",
			"annotations": map[string]any{"perimeter.dev/block": `namespace "shop"`, "perimeter.dev/source": "main.hcl:5"}},
		"spec": spec,
	}
	b, _ := json.Marshal(hashed)
	sum := sha256.Sum256(b)
	live := &unstructured.Unstructured{Object: deepCopy(hashed).(map[string]any)}
	live.SetAnnotations(map[string]string{"perimeter.dev/block": `namespace "shop"`, "perimeter.dev/source": "main.hcl:5",
		hashAnnotation: hex.EncodeToString(sum[:16])})
	live.SetResourceVersion("7")

	for _, c := range []struct {
		name, line string
		spec       map[string]any
		want       Action
	}{
		{"the block moved to another line", "main.hcl:9", spec, NoOp},
		{"the block did not move", "main.hcl:5", spec, NoOp},
		{"the intent changed", "main.hcl:9", map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress", "Egress"}}, Update},
	} {
		t.Run(c.name, func(t *testing.T) {
			desired := &unstructured.Unstructured{Object: deepCopy(hashed).(map[string]any)}
			desired.Object["spec"] = deepCopy(c.spec)
			desired.SetAnnotations(map[string]string{"perimeter.dev/block": `namespace "shop"`, "perimeter.dev/source": c.line})
			dry := &countingDryRunner{}
			got, problem := planObject(context.Background(), dry, false, stamp(desired), live)
			if problem != nil {
				t.Fatal(problem.Detail)
			}
			if got.Action != c.want {
				t.Fatalf("action %s, want %s (fields %+v)", got.Action, c.want, got.Fields)
			}
			if c.want == NoOp && dry.calls != 0 {
				t.Errorf("%d dry-run requests for an unchanged object", dry.calls)
			}
			if _, sent := stamp(desired).GetAnnotations()["perimeter.dev/source"]; sent {
				t.Error("the object sent to the cluster carries a line number")
			}
		})
	}
}

// failingDryRunner answers every dry-run with err.
type failingDryRunner struct{ err error }

func (d failingDryRunner) DryRunApply(context.Context, *unstructured.Unstructured, bool) (*unstructured.Unstructured, error) {
	return nil, d.err
}

// A server that cannot be reached does not "reject" the object: the plan
// says which of the two happened.
func TestRejectionSaysWhatHappened(t *testing.T) {
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
		"metadata": map[string]any{"name": "p", "namespace": "shop"}}}
	refused := &url.Error{Op: "Patch", URL: "https://127.0.0.1:6443/apis", Err: &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}}
	invalid := apierrors.NewInvalid(schema.GroupKind{Group: "networking.k8s.io", Kind: "NetworkPolicy"}, "p", nil)
	forbidden := apierrors.NewForbidden(schema.GroupResource{Group: "networking.k8s.io", Resource: "networkpolicies"}, "p", nil)
	for _, c := range []struct {
		err  error
		want string
	}{
		{refused, "could not be asked about it"},
		{invalid, "the API server rejects it"},
		{forbidden, "this identity may not write it"},
	} {
		_, p := planObject(context.Background(), failingDryRunner{c.err}, false, stamp(obj), nil)
		if p == nil || !strings.Contains(p.Detail, c.want) {
			t.Errorf("%v: got %+v, want %q", c.err, p, c.want)
		}
	}
}
