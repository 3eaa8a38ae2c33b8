// Package doctor inspects a live cluster for what perimeter's output relies
// on: a CNI that enforces NetworkPolicy, the Gateway API CRDs and accepted
// GatewayClasses, no retired ingress-nginx, and (given an intent) a
// default-deny egress policy in every namespace the stack manages and
// support for the route kinds the intent attaches to each gateway (its
// GatewayClass's supportedFeatures, its listeners' supportedKinds). It
// reads the cluster with one LIST per kind.
package doctor

import (
	"context"
	"fmt"
	"sort"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// Severity says how much a finding matters.
type Severity string

// Severities, from fine to fatal.
const (
	OK      Severity = "ok"
	Warning Severity = "warning"
	Error   Severity = "error"
)

// Finding is one observation about the cluster.
type Finding struct {
	Severity Severity
	Topic    string // cni, ingress-nginx, gateway-api, gatewayclass, listenerset, cluster-tiers, namespace
	Message  string
}

// String is one line: "error    cni            message".
func (f Finding) String() string {
	return fmt.Sprintf("%-8s %-13s %s", f.Severity, f.Topic, f.Message)
}

// onceReader answers each distinct LIST once, so steps that need the same
// kind (GatewayClasses, for the classes and for the route kinds) cost one
// request.
type onceReader struct {
	r     Reader
	lists map[string]listResult
}

type listResult struct {
	objs []*unstructured.Unstructured
	err  error
}

func (o *onceReader) List(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	key := gvk.String() + "|" + namespace + "|" + selector
	if res, ok := o.lists[key]; ok {
		return res.objs, res.err
	}
	objs, err := o.r.List(ctx, gvk, namespace, selector)
	o.lists[key] = listResult{objs, err}
	return objs, err
}

// Reader lists objects, as cluster.Client does.
type Reader interface {
	List(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error)
}

// Kinds doctor reads.
var (
	daemonSetGVK     = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "DaemonSet"}
	deploymentGVK    = schema.GroupVersionKind{Group: "apps", Version: "v1", Kind: "Deployment"}
	ingressClassGVK  = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "IngressClass"}
	crdGVK           = schema.GroupVersionKind{Group: "apiextensions.k8s.io", Version: "v1", Kind: "CustomResourceDefinition"}
	gatewayClassGVK  = schema.GroupVersionKind{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GatewayClass"}
	networkPolicyGVK = schema.GroupVersionKind{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}
	namespaceGVK     = schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}
)

// Run inspects the cluster; in, when not nil, adds the checks of the
// stack's managed namespaces. Findings come sorted by topic, then severity
// (worst first), then message.
func Run(ctx context.Context, r Reader, in *hclspec.Intent) ([]Finding, error) {
	var out []Finding
	steps := []func(context.Context, Reader) ([]Finding, error){cni, ingressNginx, gatewayAPI,
		func(ctx context.Context, r Reader) ([]Finding, error) { return clusterTiers(ctx, r, in) }}
	if in != nil {
		steps = append(steps, func(ctx context.Context, r Reader) ([]Finding, error) { return namespaces(ctx, r, in) },
			func(ctx context.Context, r Reader) ([]Finding, error) { return routeKinds(ctx, r, in) },
			func(ctx context.Context, r Reader) ([]Finding, error) { return listenerSets(ctx, r, in) })
	}
	r = &onceReader{r: r, lists: map[string]listResult{}}
	for _, step := range steps {
		fs, err := step(ctx, r)
		if err != nil {
			return nil, err
		}
		out = append(out, fs...)
	}
	sortFindings(out)
	return out, nil
}

var topicOrder = map[string]int{"cni": 0, "ingress-nginx": 1, "gateway-api": 2, "gatewayclass": 3, "listenerset": 4, "cluster-tiers": 5, "namespace": 6}
var severityOrder = map[Severity]int{Error: 0, Warning: 1, OK: 2}

func sortFindings(fs []Finding) {
	sort.SliceStable(fs, func(i, j int) bool {
		a, b := fs[i], fs[j]
		if a.Topic != b.Topic {
			return topicOrder[a.Topic] < topicOrder[b.Topic]
		}
		if a.Severity != b.Severity {
			return severityOrder[a.Severity] < severityOrder[b.Severity]
		}
		return a.Message < b.Message
	})
}

// HasErrors reports whether any finding is an error.
func HasErrors(fs []Finding) bool {
	for _, f := range fs {
		if f.Severity == Error {
			return true
		}
	}
	return false
}

// Count returns the number of findings of a severity.
func Count(fs []Finding, s Severity) int {
	n := 0
	for _, f := range fs {
		if f.Severity == s {
			n++
		}
	}
	return n
}

func id(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetName()
	}
	return o.GetNamespace() + "/" + o.GetName()
}
