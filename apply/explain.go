package apply

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilnet "k8s.io/apimachinery/pkg/util/net"
)

// explain turns an API error into a sentence a user can act on: conflicts
// name the field and the other manager, precondition failures say the
// object changed, invalid objects list the causes, and an API server that
// cannot be reached or went away mid-request is named as such, with what
// that means for the object.
func explain(err error) string {
	var status apierrors.APIStatus
	if !errors.As(err, &status) {
		if msg := explainTransport(err); msg != "" {
			return msg
		}
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
	case apierrors.IsServiceUnavailable(err) || apierrors.IsTooManyRequests(err):
		return "the API server is unavailable (" + st.Message + "); this object was not written; apply again once the server is back"
	case apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err):
		return "the API server timed out (" + st.Message + "); the change may or may not have been made: run plan to see where the cluster stands"
	}
	return st.Message
}

// explainTransport words a request that got no answer from the API server
// (client-go returns these as *url.Error), or returns "". A refused
// connection means the request was never sent; a connection lost
// mid-request leaves its outcome unknown.
func explainTransport(err error) string {
	var uerr *url.Error
	if !errors.As(err, &uerr) {
		return ""
	}
	server := uerr.URL
	if u, perr := url.Parse(uerr.URL); perr == nil && u.Host != "" {
		server = u.Scheme + "://" + u.Host
	}
	var op *net.OpError
	switch {
	case utilnet.IsConnectionRefused(err) || strings.Contains(uerr.Err.Error(), "connection refused"):
		return "cannot reach the API server at " + server + ": connection refused; this object was not written; apply again once the server is back"
	case errors.As(err, &op) && op.Op == "dial":
		return fmt.Sprintf("cannot reach the API server at %s (%v); this object was not written; apply again once the server is back", server, op.Err)
	case utilnet.IsTimeout(err):
		return fmt.Sprintf("the API server at %s did not answer in time (%v); the change may or may not have been made: run plan to see where the cluster stands", server, uerr.Err)
	case utilnet.IsProbableEOF(err) || utilnet.IsConnectionReset(err) || utilnet.IsHTTP2ConnectionLost(err):
		return fmt.Sprintf("lost the connection to the API server at %s (%v); the change may or may not have been made: run plan to see where the cluster stands", server, uerr.Err)
	}
	return ""
}

func isFieldConflict(causes []metav1.StatusCause) bool {
	for _, c := range causes {
		if c.Type == metav1.CauseTypeFieldManagerConflict {
			return true
		}
	}
	return false
}
