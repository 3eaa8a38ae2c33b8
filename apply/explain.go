package apply

import (
	"errors"
	"fmt"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// explain turns an API error into a sentence a user can act on: conflicts
// name the field and the other manager, precondition failures say the
// object changed, invalid objects list the causes.
func explain(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		return err.Error()
	}
	st := status.Status()
	switch {
	case apierrors.IsConflict(err) && st.Details != nil && len(st.Details.Causes) > 0 && isFieldConflict(st.Details.Causes):
		var parts []string
		for _, c := range st.Details.Causes {
			parts = append(parts, fmt.Sprintf("%s (%s)", c.Field, strings.TrimPrefix(c.Message, "conflict with ")))
		}
		return "conflict with another field manager on " + strings.Join(parts, "; ") +
			"; run with --force-conflicts to take ownership deliberately"
	case apierrors.IsConflict(err):
		return "the object changed since it was read (" + st.Message + "); run plan again"
	case apierrors.IsInvalid(err):
		return "rejected by the API server: " + st.Message
	case apierrors.IsForbidden(err):
		return "forbidden: " + st.Message
	}
	return st.Message
}

func isFieldConflict(causes []metav1.StatusCause) bool {
	for _, c := range causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}
