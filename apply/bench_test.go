package apply_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
	"github.com/perimeter-dev/perimeter/plan"
)

// BenchmarkApply1000 applies 1,000 new NetworkPolicies with perimeter (plan
// with server-side dry-run, then apply) and, in the same run, the same
// objects with `kubectl apply --server-side` into a second namespace, and
// reports both times and their ratio:
//
//	go test ./apply -run '^$' -bench Apply1000 -benchtime 1x
func BenchmarkApply1000(b *testing.B) {
	const n = 1000
	c := testcluster.Get(b)
	client, err := cluster.New(c.Config)
	if err != nil {
		b.Fatal(err)
	}
	var perimeterTime, kubectlTime time.Duration
	for i := 0; i < b.N; i++ {
		ns, kns := c.Namespace(b), c.Namespace(b)
		stack := fmt.Sprintf("bench%d", i)
		objs := policies(ns, stack, n)
		start := time.Now()
		p, err := plan.Make(context.Background(), client, plan.Request{Stack: stack, StateNamespace: ns, Target: "bench",
			Desired: objs, Kinds: generate.Kinds, OwnerSelector: ownership.MemberSelector(stack, ns)})
		if err != nil {
			b.Fatal(err)
		}
		r, err := apply.Run(context.Background(), client, p, apply.Options{KindOrder: generate.Kinds})
		if err != nil || r.Failed != 0 || r.Added != n {
			b.Fatalf("apply: %v %+v", err, r)
		}
		perimeterTime += time.Since(start)

		file := filepath.Join(b.TempDir(), "objects.yaml")
		var buf bytes.Buffer
		if err := manifest.WriteStream(&buf, policies(kns, stack, n)); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(file, buf.Bytes(), 0o644); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		cmd := exec.Command(filepath.Join(c.BinaryDir, "kubectl"), "--kubeconfig", c.Kubeconfig, "apply", "--server-side",
			"--field-manager", "kubectl-bench", "-f", file)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("kubectl: %v\n%s", err, out)
		}
		kubectlTime += time.Since(start)
	}
	b.ReportMetric(perimeterTime.Seconds()/float64(b.N), "perimeter-s/op")
	b.ReportMetric(kubectlTime.Seconds()/float64(b.N), "kubectl-s/op")
	b.ReportMetric(float64(perimeterTime)/float64(kubectlTime), "perimeter/kubectl")
}

func policies(ns, stack string, n int) []*unstructured.Unstructured {
	var out []*unstructured.Unstructured
	for i := 0; i < n; i++ {
		labels := map[string]any{}
		for k, v := range ownership.MemberLabels(stack, ns) {
			labels[k] = v
		}
		out = append(out, &unstructured.Unstructured{Object: map[string]any{
			"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": fmt.Sprintf("p%04d", i), "namespace": ns, "labels": labels},
			"spec": map[string]any{
				"podSelector": map[string]any{"matchLabels": map[string]any{"app": fmt.Sprintf("w%d", i)}},
				"policyTypes": []any{"Egress"},
				"egress": []any{map[string]any{
					"to":    []any{map[string]any{"ipBlock": map[string]any{"cidr": fmt.Sprintf("10.%d.%d.0/24", i/256, i%256)}}},
					"ports": []any{map[string]any{"port": int64(443), "protocol": "TCP"}},
				}},
			},
		}})
	}
	return out
}
