// Package manifest serialises generated objects as YAML: one multi-document
// stream, or one file per object. Output is byte-identical for the same
// objects (keys sorted, objects in the order given).
package manifest

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// Marshal renders one object as YAML.
func Marshal(obj *unstructured.Unstructured) ([]byte, error) {
	return yaml.Marshal(obj.Object)
}

// WriteStream writes the objects as one YAML stream separated by "---".
func WriteStream(w io.Writer, objs []*unstructured.Unstructured) error {
	var buf bytes.Buffer
	for i, o := range objs {
		if i > 0 {
			buf.WriteString("---\n")
		}
		b, err := Marshal(o)
		if err != nil {
			return fmt.Errorf("%s %s/%s: %w", o.GetKind(), o.GetNamespace(), o.GetName(), err)
		}
		buf.Write(b)
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// FileName is where WriteDir puts an object: <namespace>/<kind>-<name>.yaml,
// or _cluster/<kind>-<name>.yaml for cluster-scoped objects.
func FileName(obj *unstructured.Unstructured) string {
	ns := obj.GetNamespace()
	if ns == "" {
		ns = "_cluster"
	}
	return filepath.Join(ns, strings.ToLower(obj.GetKind())+"-"+obj.GetName()+".yaml")
}

// WriteDir writes one file per object under dir and returns the paths
// written, relative to dir.
func WriteDir(dir string, objs []*unstructured.Unstructured) ([]string, error) {
	var written []string
	for _, o := range objs {
		b, err := Marshal(o)
		if err != nil {
			return written, err
		}
		rel := FileName(o)
		path := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			return written, err
		}
		written = append(written, rel)
	}
	return written, nil
}
