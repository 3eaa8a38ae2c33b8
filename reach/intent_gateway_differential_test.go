package reach

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/testgen"
)

// gatewayQueries are the ports testgen's gateway intents use: the
// services' target ports (8000-8002, "http"; UDP 5353-5354), the managed
// listeners' ports (80, 8080, 443, 5432/tcp, 53/udp) and the listener
// sets' (15432/tcp, 1053/udp).
var gatewayQueries = []Port{
	{Number: 8000, Protocol: corev1.ProtocolTCP}, {Number: 8001, Protocol: corev1.ProtocolTCP},
	{Number: 8002, Protocol: corev1.ProtocolTCP}, {Name: "http", Protocol: corev1.ProtocolTCP},
	{Number: 5353, Protocol: corev1.ProtocolUDP}, {Number: 5354, Protocol: corev1.ProtocolUDP},
	{Number: 80, Protocol: corev1.ProtocolTCP}, {Number: 8080, Protocol: corev1.ProtocolTCP},
	{Number: 443, Protocol: corev1.ProtocolTCP}, {Number: 5432, Protocol: corev1.ProtocolTCP},
	{Number: 53, Protocol: corev1.ProtocolUDP}, {Number: 15432, Protocol: corev1.ProtocolTCP},
	{Number: 1053, Protocol: corev1.ProtocolUDP},
}

// gatewayIntent is testgen's gateway intent (managed and unmanaged
// envoy-gateway, istio and custom gateways; HTTP routes and tls, tcp and
// udp routes with same- and cross-namespace backends; listener sets) with
// a few allow blocks between its services and outside endpoints added, and
// the endpoint expressions to probe (the gateways' data planes are added by
// compareIntent).
func gatewayIntent(t *testing.T, r *rand.Rand) (string, []string) {
	src := testgen.GatewayIntent(r)
	files, diags := hclspec.Parse(map[string][]byte{"main.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatalf("generated HCL does not parse: %s\n%s", diags, src)
	}
	in, diags := hclspec.Decode(files, hclspec.Options{})
	if in == nil || diags.HasErrors() {
		t.Fatalf("generated intent does not decode: %s\n%s", diags, src)
	}
	ends := []string{`namespace.app0`, `pods("ext", { app = "x" })`, `cidr("203.0.113.0/24")`, `cidr("192.0.2.0/24")`}
	for _, s := range in.Services {
		ends = append(ends, "service."+s.Label)
	}
	var b strings.Builder
	b.WriteString(src)
	for i := r.Intn(4); i > 0; i-- {
		fmt.Fprintf(&b, "allow \"g%d\" {\n  from = %s\n  to = %s\n", i, pick(r, ends...), pick(r, ends...))
		if r.Intn(2) == 0 {
			fmt.Fprintf(&b, "  ports = [%s]\n", pick(r, `"8000"`, `"http"`, `"8000-8002"`, `"udp"`, `"5353/udp"`))
		}
		b.WriteString("}\n")
	}
	return b.String(), ends
}

// TestIntentDifferentialGateways: with gateways and routes in the intent,
// every definite verdict (between services, outside clients and the
// gateways' data planes, on backend target ports and listener ports) holds
// in a random concrete world consistent with the declarations.
func TestIntentDifferentialGateways(t *testing.T) {
	r := rand.New(rand.NewSource(17))
	compiled, decided, unknown := 0, 0, 0
	for n := 0; n < 120; n++ {
		src, ends := gatewayIntent(t, r)
		in, objs, ok := loadIntent(t, src)
		if !ok {
			continue
		}
		compiled++
		d, u := compareIntent(t, r, n, src, in, objs, ends, gatewayQueries)
		decided, unknown = decided+d, unknown+u
		if t.Failed() {
			return
		}
	}
	t.Logf("%d intents compiled, %d verdicts decided and confirmed, %d unknown", compiled, decided, unknown)
	if compiled < 80 || decided == 0 || unknown == 0 {
		t.Fatalf("too few cases: %d intents, %d decided, %d unknown", compiled, decided, unknown)
	}
}
