package plan

import "k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

// writeValidated reports whether this plan's creates may go without a
// dry-run, validated by the writes that make them: only when the caller
// allows it (apply DIR, which carries the plan out at once; never a plan
// that is saved or shown for review) and the plan is a first apply, every
// object a create, so that apply can undo all of it if the server rejects
// one (see apply's rollback). Planning then costs no request per object:
// a first apply sends each object once instead of twice.
func writeValidated(req Request, owned map[string]*unstructured.Unstructured, nsp *namespacePlan) bool {
	return req.ValidateByWrite && len(owned) == 0 && len(nsp.adopted) == 0
}
