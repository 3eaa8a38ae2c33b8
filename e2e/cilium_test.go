package e2e

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/restmapper"

	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/manifest"
)

// ciliumModule is the Cilium release whose CiliumNetworkPolicy CRD the
// test installs. Only the CRD's YAML is read from the module cache; the
// module is not a dependency of perimeter (it would pull in most of
// Cilium for one struct).
const ciliumModule = "github.com/cilium/cilium@v1.20.2"

// ciliumIntent reaches the payment provider by name through Cilium.
const ciliumIntent = `
perimeter {
  stack       = "names"
  fqdn_egress = "cilium"
}

namespace "e2e-cilium" {
  default_deny = ["egress"]
}

service "users" {
  namespace = "e2e-cilium"
  selector  = { app = "users" }
  port      = 80
}

allow "users pays" {
  from  = service.users
  to    = [fqdn("api.stripe.com"), fqdn("hooks.stripe.com")]
  ports = ["443/tcp", "8000-8100/tcp"]
}
`

// TestCiliumFQDNAccepted installs Cilium's CiliumNetworkPolicy CRD (from
// the Cilium module) and applies what an allow by name compiles to with
// fqdn_egress = "cilium": the API server accepts every object and keeps
// every field as perimeter sent it.
func TestCiliumFQDNAccepted(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	installCiliumCRD(t, a)
	n := 0
	for _, o := range compileIntent(t, ciliumIntent) {
		a.ensureNamespace(t, o.GetNamespace())
		if o.GetKind() == "CiliumNetworkPolicy" {
			n++
			waitServed(t, a, o)
		}
		live, err := a.apply(o, false)
		if err != nil {
			t.Errorf("apply rejected %s: %v", describe(o), err)
			continue
		}
		if diff := subsetDiff("", o.Object, live.Object); diff != "" {
			t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
		}
	}
	if n != 1 {
		t.Errorf("%d CiliumNetworkPolicies, want 1", n)
	}
}

func installCiliumCRD(t *testing.T, a *applier) {
	t.Helper()
	out, err := exec.Command("go", "mod", "download", "-json", ciliumModule).Output()
	var mod struct{ Dir string }
	if err == nil {
		err = json.Unmarshal(out, &mod)
	}
	if err != nil || mod.Dir == "" {
		t.Fatalf("downloading %s: %v", ciliumModule, err)
	}
	b, err := os.ReadFile(filepath.Join(mod.Dir, "pkg", "k8s", "apis", "cilium.io", "client", "crds", "v2", "ciliumnetworkpolicies.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := manifest.Decode(b)
	if err != nil || len(objs) != 1 {
		t.Fatalf("the CiliumNetworkPolicy CRD: %d objects, %v", len(objs), err)
	}
	if _, err := a.apply(objs[0], false); err != nil {
		t.Fatalf("installing the CiliumNetworkPolicy CRD: %v", err)
	}
}

// waitServed waits until the API server serves o's kind (a CRD just
// installed), forgetting the cached discovery meanwhile.
func waitServed(t *testing.T, a *applier, o *unstructured.Unstructured) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, err := a.apply(o, true)
		if err == nil {
			return
		}
		if !meta.IsNoMatchError(err) && !strings.Contains(err.Error(), "the server could not find the requested resource") {
			t.Fatalf("dry-run of %s: %v", describe(o), err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is still not served: %v", describe(o), err)
		}
		if r, ok := a.mapper.(*restmapper.DeferredDiscoveryRESTMapper); ok {
			r.Reset()
		}
		time.Sleep(200 * time.Millisecond)
	}
}
