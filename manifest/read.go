package manifest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/perimeter-dev/perimeter/internal/readlimit"
)

// DefaultMaxFileSize bounds each manifest file ReadDir and ReadFile read
// unless told otherwise: a cluster's objects dumped to one YAML stream are
// much larger than an intent file.
const DefaultMaxFileSize int64 = 64 << 20

// ReadDir reads every Kubernetes object in the *.yaml, *.yml and *.json
// files below dir (multi-document streams included), each of at most
// DefaultMaxFileSize bytes. Kustomization files and perimeter's own
// bookkeeping files are not objects and are skipped.
func ReadDir(dir string) ([]*unstructured.Unstructured, error) { return ReadDirMax(dir, 0) }

// ReadDirMax is ReadDir with a per-file size limit (<= 0: the default).
// A manifest below dir that is a symbolic link is refused, not followed:
// the folder may come from a pull request, and a link would read whatever
// it points at (a kubeconfig, a file of secrets) as the tree's objects.
func ReadDirMax(dir string, maxFileSize int64) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		base := filepath.Base(path)
		ext := strings.ToLower(filepath.Ext(base))
		if (ext != ".yaml" && ext != ".yml" && ext != ".json") || strings.HasPrefix(base, "kustomization.") {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return fmt.Errorf("%s is a symbolic link; manifests are read only from regular files under %s", path, dir)
		}
		objs, err := ReadFile(path, maxFileSize)
		if err != nil {
			return err
		}
		out = append(out, objs...)
		return nil
	})
	return out, err
}

// ReadFile reads the objects of one YAML or JSON file of at most
// maxFileSize bytes (<= 0: DefaultMaxFileSize). Errors name the file.
func ReadFile(path string, maxFileSize int64) ([]*unstructured.Unstructured, error) {
	if maxFileSize <= 0 {
		maxFileSize = DefaultMaxFileSize
	}
	b, err := readlimit.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, err
	}
	objs, err := Decode(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return objs, nil
}

// Decode reads the objects of a YAML or JSON stream.
func Decode(b []byte) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bytes.NewReader(b), 4096)
	var out []*unstructured.Unstructured
	for {
		var raw json.RawMessage
		if err := dec.Decode(&raw); errors.Is(err, io.EOF) {
			return out, nil
		} else if err != nil {
			return nil, err
		}
		if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
			continue
		}
		// UnmarshalJSON gives the API machinery's types (int64, not float64).
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, err
		}
		if u.GetAPIVersion() == "" || u.GetKind() == "" {
			return nil, fmt.Errorf("a document without apiVersion and kind")
		}
		out = append(out, u)
	}
}

// Objects is a fixed set of objects that answers the plan package's LIST
// requests, standing in for a cluster: the rendered manifests of a base
// branch, say.
type Objects []*unstructured.Unstructured

// List returns the objects of a kind in namespace ("" = all) matching the
// label selector.
func (o Objects) List(_ context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	sel, err := labels.Parse(selector)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	for _, obj := range o {
		if obj.GroupVersionKind() == gvk && (namespace == "" || obj.GetNamespace() == namespace) && sel.Matches(labels.Set(obj.GetLabels())) {
			out = append(out, obj.DeepCopy())
		}
	}
	return out, nil
}

// Rendered tells the plan package that these objects are rendered intent,
// not server state: compare them whole, and skip live-cluster checks.
func (o Objects) Rendered() bool { return true }
