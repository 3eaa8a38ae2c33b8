package doctor

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// add records that a route of kind attaches through p: to a listener of the
// Gateway, or to a listener of one of its listener sets, kept apart because
// a set's listener may bear the name of one of the Gateway's.
func (u *gatewayUse) add(p hclspec.ParentRef, kind string) {
	byListener := u.kinds
	if ls := p.ListenerSet; ls != nil {
		if u.sets[ls] == nil {
			u.sets[ls] = map[string]map[string]bool{}
		}
		byListener = u.sets[ls]
	}
	if byListener[p.Listener] == nil {
		byListener[p.Listener] = map[string]bool{}
	}
	byListener[p.Listener][kind] = true
}

// listLiveSets reads the live ListenerSets, by namespace/name, when a
// route of the intent attaches to a listener set (one LIST); none on a
// cluster without the ListenerSet CRD.
func listLiveSets(ctx context.Context, r Reader, uses []*gatewayUse) (map[string]*unstructured.Unstructured, error) {
	if !slices.ContainsFunc(uses, func(u *gatewayUse) bool { return len(u.sets) > 0 }) {
		return nil, nil
	}
	sets, err := r.List(ctx, listenerSetGVK, "", "")
	if meta.IsNoMatchError(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := map[string]*unstructured.Unstructured{}
	for _, s := range sets {
		out[s.GetNamespace()+"/"+s.GetName()] = s
	}
	return out, nil
}

// setListenerSupport checks, on each live ListenerSet of the gateway that
// its controller has reported on, that each listener a route names lists
// the route's kind in status.listeners[].supportedKinds. A set not applied
// yet, or a listener without status, says nothing.
func setListenerSupport(u *gatewayUse, live map[string]*unstructured.Unstructured) []Finding {
	sets := make([]*hclspec.ListenerSet, 0, len(u.sets))
	for ls := range u.sets {
		sets = append(sets, ls)
	}
	sort.Slice(sets, func(i, j int) bool { return sets[i].Label < sets[j].Label })
	var out []Finding
	for _, ls := range sets {
		obj := live[ls.Namespace+"/"+ls.Name]
		if obj == nil {
			continue
		}
		kindsOf := supportedKinds(obj)
		for _, listener := range sortedKeys(u.sets[ls]) {
			have, reported := kindsOf[listener]
			if !reported {
				continue
			}
			for _, kind := range sortedKeys(u.sets[ls][listener]) {
				if !slices.Contains(have, kind) {
					out = append(out, Finding{Error, "listenerset", fmt.Sprintf("listener_set %q: listener %q of ListenerSet %s/%s does not support %s (status.listeners supportedKinds: %s); its routes there will not be served",
						ls.Label, listener, ls.Namespace, ls.Name, kind, kindList(have))})
				}
			}
		}
	}
	return out
}

// supportedKinds reads status.listeners[].supportedKinds of a Gateway or
// ListenerSet by listener name. A listener the controller reported on with
// no kinds is present with none: it serves no route.
func supportedKinds(obj *unstructured.Unstructured) map[string][]string {
	statuses, _, _ := unstructured.NestedSlice(obj.Object, "status", "listeners")
	out := map[string][]string{}
	for _, x := range statuses {
		m, _ := x.(map[string]any)
		name, _ := m["name"].(string)
		if name == "" {
			continue
		}
		have := []string{}
		kinds, _ := m["supportedKinds"].([]any)
		for _, k := range kinds {
			if km, ok := k.(map[string]any); ok {
				s, _ := km["kind"].(string)
				have = append(have, s)
			}
		}
		out[name] = have
	}
	return out
}

func kindList(kinds []string) string {
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ", ")
}
