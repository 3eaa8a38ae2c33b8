package apply

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
)

// A request that never reached the API server, or lost it on the way, is
// named as such, with what it means for the object. (e2e/outage sees the
// refused connections against a real, stopped kube-apiserver.)
func TestExplainUnreachableServer(t *testing.T) {
	const target = "https://127.0.0.1:6443/apis/networking.k8s.io/v1/namespaces/app/networkpolicies/users?fieldManager=perimeter&force=false"
	patch := func(err error) error { return &url.Error{Op: "Patch", URL: target, Err: err} }
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}
	for _, tc := range []struct {
		name string
		err  error
		want []string // substrings, in order
		not  string
	}{
		{"refused", patch(refused),
			[]string{"cannot reach the API server at https://127.0.0.1:6443: connection refused", "not written", "apply again"}, "networkpolicies"},
		{"refused, as text", patch(fmt.Errorf("dial tcp 127.0.0.1:6443: connect: connection refused")),
			[]string{"cannot reach the API server at https://127.0.0.1:6443: connection refused"}, "networkpolicies"},
		{"no such host", patch(&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "api.example", IsNotFound: true}}),
			[]string{"cannot reach the API server at https://127.0.0.1:6443 (lookup api.example: no such host)", "not written"}, ""},
		{"EOF mid-request", patch(io.EOF),
			[]string{"lost the connection to the API server at https://127.0.0.1:6443 (EOF)", "may or may not", "run plan"}, ""},
		{"reset", patch(&net.OpError{Op: "read", Net: "tcp", Err: &os.SyscallError{Syscall: "read", Err: syscall.ECONNRESET}}),
			[]string{"lost the connection to the API server", "may or may not"}, ""},
		{"GOAWAY", patch(errors.New("http2: server sent GOAWAY and closed the connection; LastStreamID=7, ErrCode=NO_ERROR")),
			[]string{"lost the connection to the API server", "GOAWAY"}, ""},
		{"shutting down", apierrors.NewServiceUnavailable("apiserver is shutting down"),
			[]string{"the API server is unavailable (apiserver is shutting down)", "not written"}, ""},
		{"too many requests", apierrors.NewTooManyRequests("too many requests, please try again later", 1),
			[]string{"the API server is unavailable", "apply again"}, ""},
		{"timeout", apierrors.NewTimeoutError("request did not complete within 60s", 0),
			[]string{"the API server timed out", "may or may not", "run plan"}, ""},
		{"other error, as is", errors.New("something else"), []string{"something else"}, "API server"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := explain(tc.err)
			rest := got
			for _, w := range tc.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("explain: %q\nwant, in order: %q", got, tc.want)
				}
				rest = rest[i+len(w):]
			}
			if tc.not != "" && strings.Contains(got, tc.not) {
				t.Errorf("explain: %q; should not mention %q", got, tc.not)
			}
		})
	}
}
