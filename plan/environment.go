package plan

import (
	"context"
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/ownership"
)

// EnvironmentMismatch says a stack was last applied with another
// environment than the one now planned or applied, or "" when that is
// not so. The environment is recorded on the ApplySet parent (annotation
// perimeter.dev/environment, "" for an intent without environments); a
// parent without the annotation (written before it existed) records none
// and is never a mismatch. allowed (--switch-environment) silences it.
func EnvironmentMismatch(parent *unstructured.Unstructured, stack, env string, allowed bool) string {
	if parent == nil || allowed {
		return ""
	}
	recorded, ok := parent.GetAnnotations()[ownership.AnnotationEnvironment]
	if !ok || recorded == env {
		return ""
	}
	return fmt.Sprintf("stack %q was last applied to this cluster with %s (annotation %s on ConfigMap %s/%s); this is %s. "+
		"Applying another environment's intent to the same stack replaces the first one's objects, which is almost always a mistake "+
		"(another context, or another stack name, is what you want). If it is deliberate, pass --switch-environment.",
		stack, describeEnv(recorded), ownership.AnnotationEnvironment, parent.GetNamespace(), parent.GetName(), describeEnv(env))
}

func describeEnv(env string) string {
	if env == "" {
		return "no environment"
	}
	return fmt.Sprintf("environment %q", env)
}

// checkEnvironment reads the stack's ApplySet parent (one LIST of the
// state namespace's ConfigMaps by the parent's label) and says when it
// records another environment.
func checkEnvironment(ctx context.Context, r Reader, req Request) (*Problem, error) {
	if isRendered(r) {
		return nil, nil // a rendered tree holds no parent
	}
	objs, err := r.List(ctx, ownership.ParentGVK, req.StateNamespace, ownership.LabelApplySetID+"="+ownership.ApplySetID(req.Stack, req.StateNamespace))
	if err != nil {
		return nil, fmt.Errorf("reading the ApplySet parent of stack %q: %w", req.Stack, err)
	}
	for _, o := range objs {
		if o.GetName() != ownership.ParentName(req.Stack) {
			continue
		}
		if msg := EnvironmentMismatch(o, req.Stack, req.Environment, req.SwitchEnvironment); msg != "" {
			return &Problem{Object: id(o), Detail: msg}, nil
		}
	}
	return nil, nil
}
