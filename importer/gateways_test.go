package importer

import (
	"strings"
	"testing"

	"github.com/perimeter-dev/perimeter/manifest"
)

// TestGatewayListeners checks the listeners named on the command line
// against the Gateway object: an unknown one is an error that lists the
// Gateway's listeners.
func TestGatewayListeners(t *testing.T) {
	objs, err := manifest.Decode([]byte(`apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: infra}
spec:
  gatewayClassName: envoy
  listeners:
  - {name: web, protocol: HTTP, port: 80}
  - {name: websecure, protocol: HTTPS, port: 443}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		opts Options
		err  string
	}{
		{Options{Gateway: "infra/public:https"}, `--gateway: gateway infra/public has no listener "https"; its listeners: web (HTTP 80), websecure (HTTPS 443)`},
		{Options{Gateway: "infra/public:websecure", HTTPListener: "http"}, `--http-listener: gateway infra/public has no listener "http"`},
		{Options{Gateway: "infra/public:websecure"}, ""},
		{Options{Gateway: "infra/other:anything"}, ""}, // another gateway: nothing to check against
	} {
		_, err := Import(objs, c.opts)
		switch {
		case c.err == "" && err != nil:
			t.Errorf("%+v: %v", c.opts, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%+v: got %v, want %q", c.opts, err, c.err)
		}
	}
}
