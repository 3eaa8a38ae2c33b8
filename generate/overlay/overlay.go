// Package overlay renders a stack for GitOps: a kustomize base holding the
// objects every environment shares, and one overlay per environment holding
// only what differs there (JSON 6902 patches and extra resources). Building
// overlays/<env> with kustomize yields exactly the objects that
// `perimeter render --env <env>` prints. The kustomization files are built
// with the types of sigs.k8s.io/kustomize/api.
package overlay

import (
	"bytes"
	"fmt"
	"path"
	"reflect"
	"runtime"
	"sort"
	"strings"
	"sync"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/resid"
	"sigs.k8s.io/yaml"

	"github.com/perimeter-dev/perimeter/manifest"
)

// Environment is one environment's compiled objects.
type Environment struct {
	Name    string
	Objects []*unstructured.Unstructured
}

// Build lays out the base and the overlays. An object goes to the base when
// every environment has it; the base holds the first environment's version
// (in the order given) and the other environments patch what differs. An
// object only some environments have is a resource of their overlays.
func Build(envs []Environment) (manifest.Tree, error) {
	if len(envs) == 0 {
		return nil, fmt.Errorf("no environments to render")
	}
	first := index(envs[0].Objects)
	rs := make([]reduced, len(envs))
	for i, e := range envs {
		rs[i] = reduce(e, first)
	}
	return build(rs)
}

// reduced is one environment measured against the first: each of its
// objects is the first environment's object when their content is equal
// (so its own copy can be collected), else its own, with the patch that
// turns the first environment's object into it.
type reduced struct {
	name    string
	entries []entry
}

type entry struct {
	key string
	obj *unstructured.Unstructured
	ops []op // empty when equal to the first environment's object or absent there
}

func reduce(e Environment, first map[string]*unstructured.Unstructured) reduced {
	r := reduced{name: e.Name, entries: make([]entry, 0, len(e.Objects))}
	for _, obj := range e.Objects {
		k := key(obj)
		en := entry{key: k, obj: obj}
		if base := first[k]; base != nil {
			if base == obj || equalJSON(base.Object, obj.Object) {
				en.obj = base // most objects: cheaper than diffing into no operations
			} else {
				en.ops = jsonPatch(base.Object, obj.Object)
			}
		}
		r.entries = append(r.entries, en)
	}
	return r
}

// build lays out the reduced environments and marshals the objects.
func build(rs []reduced) (manifest.Tree, error) {
	t, objects, err := layOut(rs)
	if err != nil {
		return nil, err
	}
	return t, marshalAll(t, objects)
}

// layOut fills the tree with the kustomization files and patches, and
// returns the objects to marshal by file path.
func layOut(rs []reduced) (manifest.Tree, map[string]*unstructured.Unstructured, error) {
	counts := map[string]int{} // key -> environments that have it
	for _, r := range rs {
		for _, en := range r.entries {
			counts[en.key]++
		}
	}
	inAll := func(k string) bool { return counts[k] == len(rs) }
	t := manifest.Tree{}
	objects := map[string]*unstructured.Unstructured{} // file -> object, marshalled at the end
	var baseFiles []string
	for _, en := range rs[0].entries {
		if inAll(en.key) {
			name := fileName(en.obj)
			objects["base/"+name] = en.obj
			baseFiles = append(baseFiles, name)
		}
	}
	if err := addKustomization(t, "base", &types.Kustomization{Resources: baseFiles}); err != nil {
		return nil, nil, err
	}
	for _, r := range rs {
		if err := addOverlay(t, r, inAll, objects); err != nil {
			return nil, nil, err
		}
	}
	return t, objects, nil
}

// marshalAll renders the objects' YAML on every core, letting go of each
// object once its file is rendered.
func marshalAll(t manifest.Tree, objects map[string]*unstructured.Unstructured) error {
	paths := make([]string, 0, len(objects))
	objs := make([]*unstructured.Unstructured, 0, len(objects))
	for p, o := range objects {
		paths, objs = append(paths, p), append(objs, o)
	}
	clear(objects)
	out := make([][]byte, len(paths))
	errs := make([]error, len(paths))
	var wg sync.WaitGroup
	workers := runtime.GOMAXPROCS(0)
	for w := 0; w < workers; w++ {
		wg.Go(func() {
			for i := w; i < len(paths); i += workers {
				b, err := manifest.Marshal(objs[i])
				// The encoder's buffer is several times the document; keep
				// only the document (ten thousand files add up).
				out[i], errs[i], objs[i] = bytes.Clone(b), err, nil
			}
		})
	}
	wg.Wait()
	for i, p := range paths {
		if errs[i] != nil {
			return fmt.Errorf("%s: %w", p, errs[i])
		}
		t[p] = out[i]
	}
	return nil
}

func addOverlay(t manifest.Tree, r reduced, inAll func(string) bool, objects map[string]*unstructured.Unstructured) error {
	dir := "overlays/" + r.name
	k := &types.Kustomization{Resources: []string{"../../base"}}
	for _, en := range r.entries {
		name := fileName(en.obj)
		if !inAll(en.key) {
			objects[dir+"/"+name] = en.obj
			k.Resources = append(k.Resources, name)
			continue
		}
		if len(en.ops) == 0 {
			continue
		}
		b, err := yaml.Marshal(en.ops)
		if err != nil {
			return err
		}
		t[dir+"/patches/"+name] = b
		gvk := en.obj.GroupVersionKind()
		k.Patches = append(k.Patches, types.Patch{Path: "patches/" + name, Target: &types.Selector{ResId: resid.ResId{
			Gvk: resid.Gvk{Group: gvk.Group, Version: gvk.Version, Kind: gvk.Kind}, Name: en.obj.GetName(), Namespace: en.obj.GetNamespace()}}})
	}
	return addKustomization(t, dir, k)
}

func addKustomization(t manifest.Tree, dir string, k *types.Kustomization) error {
	k.APIVersion, k.Kind = types.KustomizationVersion, types.KustomizationKind
	b, err := yaml.Marshal(k)
	if err != nil {
		return err
	}
	t[path.Join(dir, "kustomization.yaml")] = append([]byte("# Generated by perimeter render --kustomize; do not edit.\n"), b...)
	return nil
}

func key(o *unstructured.Unstructured) string {
	return o.GetAPIVersion() + "/" + o.GetKind() + "/" + o.GetNamespace() + "/" + o.GetName()
}

func index(objs []*unstructured.Unstructured) map[string]*unstructured.Unstructured {
	m := make(map[string]*unstructured.Unstructured, len(objs))
	for _, o := range objs {
		m[key(o)] = o
	}
	return m
}

// fileName is <kind>-<namespace>-<name>.yaml: flat and unique per object.
func fileName(o *unstructured.Unstructured) string {
	parts := []string{strings.ToLower(o.GetKind())}
	if o.GetNamespace() != "" {
		parts = append(parts, o.GetNamespace())
	}
	return strings.Join(append(parts, o.GetName()), "-") + ".yaml"
}

// op is one JSON 6902 operation.
type op struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value,omitempty"`
}

// jsonPatch lists the operations that turn from into to: maps key by key,
// lists element by element when their lengths agree and whole otherwise.
func jsonPatch(from, to map[string]any) []op {
	var ops []op
	diffValue("", from, to, &ops)
	return ops
}

func diffValue(p string, from, to any, ops *[]op) {
	fm, fok := from.(map[string]any)
	tm, tok := to.(map[string]any)
	if fok && tok {
		for _, k := range sortedKeys(fm, tm) {
			child := p + "/" + escape(k)
			fv, inFrom := fm[k]
			tv, inTo := tm[k]
			switch {
			case !inTo:
				*ops = append(*ops, op{Op: "remove", Path: child})
			case !inFrom:
				*ops = append(*ops, op{Op: "add", Path: child, Value: tv})
			default:
				diffValue(child, fv, tv, ops)
			}
		}
		return
	}
	fl, fok := from.([]any)
	tl, tok := to.([]any)
	if fok && tok && len(fl) == len(tl) {
		for i := range fl {
			diffValue(fmt.Sprintf("%s/%d", p, i), fl[i], tl[i], ops)
		}
		return
	}
	if !reflect.DeepEqual(from, to) {
		*ops = append(*ops, op{Op: "replace", Path: p, Value: to})
	}
}

func sortedKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// equalJSON compares unstructured values (JSON types) without allocating,
// unlike reflect.DeepEqual, which tracks visited maps.
func equalJSON(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, av := range a {
			if bv, ok := b[k]; !ok || !equalJSON(av, bv) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equalJSON(a[i], b[i]) {
				return false
			}
		}
		return true
	case string, int64, float64, bool, nil:
		return a == b
	default:
		return reflect.DeepEqual(a, b)
	}
}

// escape encodes a key as a JSON pointer token (RFC 6901).
func escape(k string) string { return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1") }
