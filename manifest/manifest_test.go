package manifest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/runtime/schema"
)

const stream = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: a
  namespace: shop
  labels: {team: x}
spec:
  podSelector: {}
  egress:
  - ports: [{port: 443}]
---
# a comment-only document is skipped
---
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "b", "namespace": "other"}}
`

func TestDecodeStreamAndRoundTrip(t *testing.T) {
	objs, err := Decode([]byte(stream))
	if err != nil || len(objs) != 2 {
		t.Fatalf("Decode: %d objects, %v", len(objs), err)
	}
	// numbers are int64 like the API machinery's, so DeepCopy works
	port := objs[0].Object["spec"].(map[string]any)["egress"].([]any)[0].(map[string]any)["ports"].([]any)[0].(map[string]any)["port"]
	if _, ok := port.(int64); !ok {
		t.Errorf("port decoded as %T", port)
	}
	_ = objs[0].DeepCopy()
	var buf bytes.Buffer
	if err := WriteStream(&buf, objs); err != nil {
		t.Fatal(err)
	}
	again, err := Decode(buf.Bytes())
	if err != nil || len(again) != 2 || again[1].GetName() != "b" {
		t.Fatalf("round trip: %v %v", again, err)
	}
	if _, err := Decode([]byte("kind: X\n")); err == nil {
		t.Error("a document without apiVersion was accepted")
	}
}

func TestObjectsList(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "sub"), 0o755)
	os.WriteFile(filepath.Join(dir, "sub", "objs.yaml"), []byte(stream), 0o644)
	os.WriteFile(filepath.Join(dir, "kustomization.yaml"), []byte("resources: [sub/objs.yaml]\n"), 0o644)
	objs, err := ReadDir(dir)
	if err != nil || len(objs) != 2 {
		t.Fatalf("ReadDir: %d, %v", len(objs), err)
	}
	gvk := schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	for _, tc := range []struct {
		ns, sel string
		want    int
	}{{"", "", 2}, {"shop", "", 1}, {"", "team=x", 1}, {"other", "team=x", 0}} {
		got, err := Objects(objs).List(context.Background(), gvk, tc.ns, tc.sel)
		if err != nil || len(got) != tc.want {
			t.Errorf("List(%q, %q) = %d, %v; want %d", tc.ns, tc.sel, len(got), err, tc.want)
		}
	}
}

// A manifest that is a symbolic link is refused, not followed; the target
// read directly is fine.
func TestReadDirRefusesLinks(t *testing.T) {
	outside := t.TempDir()
	secret := filepath.Join(outside, "secret.yaml")
	if err := os.WriteFile(secret, []byte("apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Symlink(secret, filepath.Join(dir, "a.yaml")); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(dir); err == nil || !strings.Contains(err.Error(), "a.yaml is a symbolic link") {
		t.Fatalf("err = %v, want the link refused", err)
	}
	if objs, err := ReadDir(outside); err != nil || len(objs) != 1 {
		t.Fatalf("the file itself: %v, %d objects", err, len(objs))
	}
}
