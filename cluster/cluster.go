// Package cluster is perimeter's access to a live Kubernetes API server:
// kubeconfig loading as kubectl does it, discovery-backed REST mapping, and
// the LIST, dry-run and server-side apply requests that the plan and apply
// packages declare as interfaces.
package cluster

import (
	"context"
	"encoding/json"
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	coordinationv1 "k8s.io/client-go/kubernetes/typed/coordination/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/restmapper"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/perimeter-dev/perimeter/ownership"
)

// FieldManager is the server-side apply field manager perimeter writes as.
const FieldManager = ownership.FieldManager

// Options select the kubeconfig and context, as kubectl's flags do.
type Options struct {
	Kubeconfig string // "" follows KUBECONFIG and ~/.kube/config
	Context    string // "" uses the current context
}

// Client talks to one cluster.
type Client struct {
	dynamic dynamic.Interface
	// metadata writes: server-side apply and delete answered with the
	// object's metadata only (protobuf where the kind has it), which is
	// all apply reads back; see ServerSideApply.
	metadata  metadata.Interface
	mapper    meta.RESTMapper
	discovery discovery.DiscoveryInterface
	typed     kubernetes.Interface // access reviews, and the stack lock's Leases
	lists     rest.Interface       // LISTs, read as bytes (ListPaged)
	// Host is the API server URL, for messages.
	Host string
	// Context is the kubeconfig context in use ("" for a rest.Config).
	Context string
	// User is the kubeconfig user of that context ("" when unknown), for
	// naming who holds a lock.
	User string
}

// Connect loads the kubeconfig like kubectl (KUBECONFIG, --kubeconfig,
// --context) and prepares a client.
func Connect(opts Options) (*Client, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = opts.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: opts.Context}
	loader := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides)
	cfg, err := loader.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, fmt.Errorf("no kubeconfig found: set KUBECONFIG or pass --kubeconfig (and --context), as for kubectl")
	}
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	raw, err := loader.RawConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	c, err := New(cfg)
	if err != nil {
		return nil, err
	}
	c.Context = raw.CurrentContext
	if opts.Context != "" {
		c.Context = opts.Context
	}
	if ctx := raw.Contexts[c.Context]; ctx != nil {
		c.User = ctx.AuthInfo
	}
	return c, nil
}

// New builds a client from a rest.Config.
func New(cfg *rest.Config) (*Client, error) {
	cfg = rest.CopyConfig(cfg)
	// As kubectl does: no client-side throttling; the API server's priority
	// and fairness protects it, and plans of thousands of objects stay fast.
	cfg.QPS = -1
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	disc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, err
	}
	typed, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	meta, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, err
	}
	lists, err := listClient(cfg)
	if err != nil {
		return nil, err
	}
	cached := memory.NewMemCacheClient(disc)
	mapper := restmapper.NewDeferredDiscoveryRESTMapper(cached)
	return &Client{dynamic: dyn, metadata: meta, mapper: mapper, discovery: cached, typed: typed, lists: lists, Host: cfg.Host}, nil
}

// Leases is the typed Lease client of a namespace, for the stack lock.
func (c *Client) Leases(namespace string) coordinationv1.LeaseInterface {
	return c.typed.CoordinationV1().Leases(namespace)
}

// resource maps a kind to its REST resource, explaining a missing CRD.
func (c *Client) resource(gvk schema.GroupVersionKind) (dynamic.NamespaceableResourceInterface, error) {
	gvr, err := c.gvr(gvk)
	if err != nil {
		return nil, err
	}
	return c.dynamic.Resource(gvr), nil
}

// gvr maps a kind to its REST resource, explaining a missing CRD.
func (c *Client) gvr(gvk schema.GroupVersionKind) (schema.GroupVersionResource, error) {
	m, err := c.mapper.RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		if meta.IsNoMatchError(err) {
			return schema.GroupVersionResource{}, notServedError{fmt.Sprintf("the cluster at %s does not serve %s (%s); are the Gateway API CRDs installed?", c.Host, gvk.Kind, gvk.GroupVersion()), err}
		}
		return schema.GroupVersionResource{}, err
	}
	return m.Resource, nil
}

// notServedError says a kind is not served; it unwraps to the RESTMapper's
// error, so meta.IsNoMatchError recognises it.
type notServedError struct {
	msg string
	err error
}

func (e notServedError) Error() string { return e.msg }
func (e notServedError) Unwrap() error { return e.err }

// List returns the objects of a kind in namespace ("" = all namespaces)
// matching the label selector, following pagination.
func (c *Client) List(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string) ([]*unstructured.Unstructured, error) {
	return c.ListPaged(ctx, gvk, namespace, selector, nil)
}

// Get reads one object; it returns nil, nil when the object does not exist.
func (c *Client) Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error) {
	res, err := c.resource(gvk)
	if err != nil {
		return nil, err
	}
	obj, err := res.Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if isNotFound(err) {
		return nil, nil
	}
	return obj, err
}

// Delete removes an object, but only the exact one that was read: the UID
// and resourceVersion preconditions make the server refuse if it changed.
// The server's answer is read only for its status (the metadata client
// asks for protobuf, cheaper for the server to encode than JSON).
func (c *Client) Delete(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, uid, resourceVersion string) error {
	gvr, err := c.gvr(gvk)
	if err != nil {
		return err
	}
	pre := &metav1.Preconditions{}
	if uid != "" {
		u := types.UID(uid)
		pre.UID = &u
	}
	if resourceVersion != "" {
		pre.ResourceVersion = &resourceVersion
	}
	policy := metav1.DeletePropagationBackground
	err = c.metadata.Resource(gvr).Namespace(namespace).Delete(ctx, name, metav1.DeleteOptions{Preconditions: pre, PropagationPolicy: &policy})
	if isNotFound(err) {
		return nil
	}
	return err
}

// DryRunApply previews a server-side apply: the object as the server would
// store it, after defaulting and admission, without storing it.
// (Writes go through ServerSideApply, which reads back metadata only.)
func (c *Client) DryRunApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*unstructured.Unstructured, error) {
	res, err := c.resource(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: FieldManager, Force: &force, DryRun: []string{metav1.DryRunAll}}
	return res.Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
}

// ServerSideApply writes obj with server-side apply as field manager
// perimeter; force takes ownership of fields other managers own. It
// returns the written object's metadata only: apply reads back nothing
// else (the UID of what it created), and the whole object with its
// managedFields, encoded as JSON by the server and decoded by perimeter
// for each of thousands of writes, is CPU on both sides for nothing.
func (c *Client) ServerSideApply(ctx context.Context, obj *unstructured.Unstructured, force bool) (*metav1.PartialObjectMetadata, error) {
	gvr, err := c.gvr(obj.GroupVersionKind())
	if err != nil {
		return nil, err
	}
	body, err := obj.MarshalJSON()
	if err != nil {
		return nil, err
	}
	po := metav1.PatchOptions{FieldManager: FieldManager, Force: &force, FieldValidation: fieldValidation(gvr)}
	return c.metadata.Resource(gvr).Namespace(obj.GetNamespace()).Patch(ctx, obj.GetName(), types.ApplyPatchType, body, po)
}

// fieldValidation is the fieldValidation of a server-side apply of a
// resource. For a server-side apply the API server's default (Warn)
// decodes the body a second time, strictly, only to find duplicate keys
// (kube-apiserver v1.37, handlers/patch.go), about 5 % of its CPU per
// request in a first apply; perimeter's bodies are encoding/json of a
// Go map, which never repeats a key. Unknown fields are refused whatever
// the setting for the kinds kube-apiserver serves itself (the field
// manager's schema; TestApplyRefusesUnknownFields), so those are sent
// with Ignore. Custom resources keep the default: there the setting is
// also what reports fields the installed CRD prunes.
func fieldValidation(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" || gvr.Group == "networking.k8s.io" {
		return metav1.FieldValidationIgnore
	}
	return ""
}

// KubeSystemUID returns the UID of namespace kube-system, which identifies
// the cluster whatever URL it is reached by.
func (c *Client) KubeSystemUID(ctx context.Context) (string, error) {
	ns, err := c.Get(ctx, schema.GroupVersionKind{Version: "v1", Kind: "Namespace"}, "", "kube-system")
	if err != nil {
		return "", err
	}
	if ns == nil {
		return "", fmt.Errorf("namespace kube-system does not exist")
	}
	return string(ns.GetUID()), nil
}

// RemoveFields removes the fields at pointers (RFC 6901) from an object,
// only if it is still at resourceVersion: a JSON patch whose first
// operation sets metadata.resourceVersion, which the API server checks as
// an optimistic-concurrency precondition (409 Conflict when the object
// changed). It is how perimeter removes fields another manager added:
// server-side apply never removes a field another manager owns, while an
// update that removes a field takes it from every manager's managedFields,
// so perimeter's later applies stay conflict-free. The patch is sent as
// field manager perimeter; removing fields makes it own nothing new. It
// returns the object's new resourceVersion.
func (c *Client) RemoveFields(ctx context.Context, gvk schema.GroupVersionKind, namespace, name, resourceVersion string, pointers []string) (string, error) {
	res, err := c.resource(gvk)
	if err != nil {
		return "", err
	}
	ops := []map[string]any{{"op": "replace", "path": "/metadata/resourceVersion", "value": resourceVersion}}
	for _, p := range pointers {
		ops = append(ops, map[string]any{"op": "remove", "path": p})
	}
	body, err := json.Marshal(ops)
	if err != nil {
		return "", err
	}
	out, err := res.Namespace(namespace).Patch(ctx, name, types.JSONPatchType, body, metav1.PatchOptions{FieldManager: FieldManager})
	if err != nil {
		return "", err
	}
	return out.GetResourceVersion(), nil
}
