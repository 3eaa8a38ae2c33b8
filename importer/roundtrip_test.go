package importer

import (
	"bytes"
	"math/rand"
	"path/filepath"
	"regexp"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// TestRoundTrip imports the input, renders the intent, and imports the
// rendered routes and policies (with the input's Services, Gateways and
// GatewayClasses) again: the HCL
// must be the same but for comments, which name the objects they came from.
func TestRoundTrip(t *testing.T) {
	inputs, _ := filepath.Glob("testdata/*/input.yaml")
	for _, input := range inputs {
		t.Run(filepath.Base(filepath.Dir(input)), func(t *testing.T) { roundTrip(t, readInput(t, input)) })
	}
	for seed := range 100 {
		objs := randomObjects(rand.New(rand.NewSource(int64(seed))))
		t.Run("random", func(t *testing.T) { roundTrip(t, objs) })
	}
}

var commentLine = regexp.MustCompile(`(?m)^\s*(#.*)?\n`) // comments and blank lines

func roundTrip(t *testing.T, objs []*unstructured.Unstructured) {
	t.Helper()
	first, err := Import(objs, optionsFor(objs))
	if err != nil {
		t.Fatal(err)
	}
	var again []*unstructured.Unstructured
	for _, u := range objs {
		// what the platform owns is read again as it is
		if k := u.GetKind(); k == "Service" || k == "Gateway" || k == "GatewayClass" {
			again = append(again, u)
		}
	}
	for _, u := range compile(t, first.HCL) {
		switch u.GetKind() {
		case "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "NetworkPolicy", "BackendTLSPolicy":
			again = append(again, u)
		}
	}
	second, err := Import(again, optionsFor(objs))
	if err != nil {
		t.Fatal(err)
	}
	a, b := commentLine.ReplaceAll(first.HCL, nil), commentLine.ReplaceAll(second.HCL, nil)
	if !bytes.Equal(a, b) {
		t.Errorf("a second import differs:\n--- first\n%s\n--- second\n%s\n--- report\n%s", a, b, ReportText(second.Report))
	}
}
