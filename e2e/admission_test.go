// Package e2e holds tests that need a real API server (internal/testcluster).
//
// admission_test.go proves the harness is real: what perimeter renders is
// accepted by kube-apiserver with the Gateway API CRDs (their OpenAPI
// schemas and CEL rules) and the built-in NetworkPolicy validation, through
// server-side apply with dry-run and then for real; and objects those rules
// forbid are rejected.
package e2e

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/discovery/cached/memory"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/restmapper"
	"k8s.io/utils/ptr"
	gatewayv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/hclspec"
	"github.com/perimeter-dev/perimeter/internal/examples"
	"github.com/perimeter-dev/perimeter/internal/testcluster"
)

func TestMain(m *testing.M) { testcluster.Main(m) }

// fieldManager is the manager perimeter applies with.
const fieldManager = "perimeter"

// TestExamplesAccepted renders every example in every environment and
// applies the objects: first all of them with server-side dry-run, then for
// real. The API server must accept each one and keep every field perimeter
// set as it was sent (no server-side rewriting that a plan would show as
// drift).
func TestExamplesAccepted(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	cases, err := examples.Cases("../examples", 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range cases {
		dir, env := ex.Dir, ex.Env
		t.Run(ex.Name(), func(t *testing.T) {
			in, _, diags := hclspec.Load(dir, hclspec.Options{Env: env})
			if diags.HasErrors() {
				t.Fatalf("load: %s", diags.Error())
			}
			objs, diags := generate.Objects(in)
			if diags.HasErrors() {
				t.Fatalf("generate: %s", diags.Error())
			}
			if len(objs) == 0 {
				t.Fatal("the example renders no objects")
			}
			// Domain names need the experimental channel of the
			// ClusterNetworkPolicy CRD (fqdn_egress says the cluster has it).
			if in.FQDNEgress != "" {
				useExperimentalChannel(t, a)
			}
			// The examples name their namespaces; the stack does not own
			// them, so they are created here like a platform team would.
			for _, o := range objs {
				a.ensureNamespace(t, o.GetNamespace())
			}
			for _, o := range objs {
				if _, err := a.apply(o, true); err != nil {
					t.Errorf("dry-run rejected %s: %v", describe(o), err)
				}
			}
			if t.Failed() {
				return
			}
			for _, o := range objs {
				live, err := a.apply(o, false)
				if err != nil {
					t.Errorf("apply rejected %s: %v", describe(o), err)
					continue
				}
				if diff := subsetDiff("", o.Object, live.Object); diff != "" {
					t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
				}
				a.mustExist(t, o)
			}
		})
	}
}

// TestValidObjectsAccepted applies one of each kind perimeter emits, built
// from the upstream Go types: dry-run first (which must not persist), then
// for real, owned by the perimeter field manager.
func TestValidObjectsAccepted(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	ns, backendNS := c.Namespace(t), c.Namespace(t)

	objs := []*unstructured.Unstructured{
		toUnstructured(t, httpRoute(ns, "api", "/users", nil)),
		toUnstructured(t, grpcRoute(ns, "greeter")),
		toUnstructured(t, referenceGrant(backendNS, ns)),
		toUnstructured(t, networkPolicy(ns, "users-ingress", 8080)),
		toUnstructured(t, httpRoute(ns, "cors", "/api", []gatewayv1.HTTPRouteFilter{corsFilter("https://app.example.com")})),
		toUnstructured(t, backendTLSPolicy(ns, "users-backend-tls", []string{"users-ca"}, "")),
	}
	for _, o := range objs {
		if _, err := a.apply(o, true); err != nil {
			t.Fatalf("dry-run rejected %s: %v", describe(o), err)
		}
		if err := a.get(o); !apierrors.IsNotFound(err) {
			t.Fatalf("after dry-run, get %s: %v; want NotFound", describe(o), err)
		}
	}
	for _, o := range objs {
		live, err := a.apply(o, false)
		if err != nil {
			t.Fatalf("apply rejected %s: %v", describe(o), err)
		}
		a.mustExist(t, o)
		var owned bool
		for _, mf := range live.GetManagedFields() {
			owned = owned || mf.Manager == fieldManager && mf.Operation == metav1.ManagedFieldsOperationApply
		}
		if !owned {
			t.Errorf("%s: no Apply managedFields entry for %q: %+v", describe(o), fieldManager, live.GetManagedFields())
		}
		if diff := subsetDiff("", o.Object, live.Object); diff != "" {
			t.Errorf("%s: the server changed fields perimeter set: %s", describe(o), diff)
		}
	}
}

// TestInvalidObjectsRejected sends objects that the Gateway API CRDs' CEL
// rules or the built-in NetworkPolicy validation forbid. Each must be
// rejected as Invalid, with dry-run and for real, and must not exist after.
func TestInvalidObjectsRejected(t *testing.T) {
	c := testcluster.Get(t)
	a := newApplier(t, c)
	ns := c.Namespace(t)

	redirect := []gatewayv1.HTTPRouteFilter{{
		Type: gatewayv1.HTTPRouteFilterRequestRedirect,
		RequestRedirect: &gatewayv1.HTTPRequestRedirectFilter{
			Scheme:     ptr.To("https"),
			StatusCode: ptr.To(301),
		},
	}}
	cases := []struct {
		name string
		obj  runtime.Object
		want string // part of the API server's message
	}{{
		name: "path not starting with /",
		obj:  httpRoute(ns, "relative-path", "users", nil),
		want: "value must be an absolute path and start with '/'",
	}, {
		name: "redirect combined with backendRefs",
		obj:  httpRoute(ns, "redirect-and-backend", "/old", redirect),
		want: "RequestRedirect filter must not be used together with backendRefs",
	}, {
		// hclspec: "Duplicate cors block"
		name: "CORS filter repeated",
		obj:  httpRoute(ns, "cors-twice", "/api", []gatewayv1.HTTPRouteFilter{corsFilter("https://a.example.com"), corsFilter("https://b.example.com")}),
		want: "CORS filter cannot be repeated",
	}, {
		// hclspec: "Wildcard with other values"
		name: "CORS wildcard origin with others",
		obj:  httpRoute(ns, "cors-wildcard", "/api", []gatewayv1.HTTPRouteFilter{corsFilter("*", "https://a.example.com")}),
		want: "AllowOrigins cannot contain '*' alongside other origins",
	}, {
		// hclspec: "Invalid CORS origin"
		name: "CORS origin without scheme",
		obj:  httpRoute(ns, "cors-origin", "/api", []gatewayv1.HTTPRouteFilter{corsFilter("app.example.com")}),
		want: "allowOrigins[0]",
	}, {
		// hclspec: "Conflicting CA certificates"
		name: "BackendTLSPolicy with both CA kinds",
		obj:  backendTLSPolicy(ns, "both-cas", []string{"users-ca"}, "System"),
		want: "must not contain both CACertificateRefs and WellKnownCACertificates",
	}, {
		// hclspec: "Missing CA certificates"
		name: "BackendTLSPolicy without CA",
		obj:  backendTLSPolicy(ns, "no-ca", nil, ""),
		want: "must specify either CACertificateRefs or WellKnownCACertificates",
	}, {
		name: "NetworkPolicy port 70000",
		obj:  networkPolicy(ns, "port-out-of-range", 70000),
		want: "must be between 1 and 65535",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := toUnstructured(t, tc.obj)
			for _, dryRun := range []bool{true, false} {
				_, err := a.apply(o, dryRun)
				if !apierrors.IsInvalid(err) {
					t.Fatalf("apply (dry-run %v) %s: got %v, want an Invalid error", dryRun, describe(o), err)
				}
				if !strings.Contains(err.Error(), tc.want) {
					t.Errorf("apply (dry-run %v): message %q does not contain %q", dryRun, err, tc.want)
				}
				if dryRun {
					t.Logf("rejected: %v", err)
				}
			}
			if err := a.get(o); !apierrors.IsNotFound(err) {
				t.Errorf("get after rejection: %v; want NotFound", err)
			}
		})
	}
}

// --- objects ------------------------------------------------------------------

func httpRoute(ns, name, path string, filters []gatewayv1.HTTPRouteFilter) *gatewayv1.HTTPRoute {
	return &gatewayv1.HTTPRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "HTTPRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "perimeter"}},
		Spec: gatewayv1.HTTPRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Namespace:   ptr.To(gatewayv1.Namespace("infra")),
				Name:        "public",
				SectionName: ptr.To(gatewayv1.SectionName("https")),
			}}},
			Hostnames: []gatewayv1.Hostname{"api.example.com"},
			Rules: []gatewayv1.HTTPRouteRule{{
				Matches: []gatewayv1.HTTPRouteMatch{{Path: &gatewayv1.HTTPPathMatch{
					Type:  ptr.To(gatewayv1.PathMatchPathPrefix),
					Value: ptr.To(path),
				}}},
				Filters: filters,
				BackendRefs: []gatewayv1.HTTPBackendRef{{BackendRef: gatewayv1.BackendRef{
					BackendObjectReference: gatewayv1.BackendObjectReference{
						Name: "users",
						Port: ptr.To(gatewayv1.PortNumber(80)),
					},
				}}},
			}},
		},
	}
}

func grpcRoute(ns, name string) *gatewayv1.GRPCRoute {
	return &gatewayv1.GRPCRoute{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "GRPCRoute"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: gatewayv1.GRPCRouteSpec{
			CommonRouteSpec: gatewayv1.CommonRouteSpec{ParentRefs: []gatewayv1.ParentReference{{
				Namespace: ptr.To(gatewayv1.Namespace("infra")),
				Name:      "public",
			}}},
			Hostnames: []gatewayv1.Hostname{"grpc.example.com"},
			Rules: []gatewayv1.GRPCRouteRule{{
				Matches: []gatewayv1.GRPCRouteMatch{{Method: &gatewayv1.GRPCMethodMatch{
					Type:    ptr.To(gatewayv1.GRPCMethodMatchExact),
					Service: ptr.To("helloworld.Greeter"),
					Method:  ptr.To("SayHello"),
				}}},
				BackendRefs: []gatewayv1.GRPCBackendRef{{BackendRef: gatewayv1.BackendRef{
					BackendObjectReference: gatewayv1.BackendObjectReference{
						Name: "greeter",
						Port: ptr.To(gatewayv1.PortNumber(50051)),
					},
				}}},
			}},
		},
	}
}

// referenceGrant lets HTTPRoutes in fromNS refer to Services in ns.
func referenceGrant(ns, fromNS string) *gatewayv1.ReferenceGrant {
	return &gatewayv1.ReferenceGrant{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "ReferenceGrant"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "from-" + fromNS},
		Spec: gatewayv1.ReferenceGrantSpec{
			From: []gatewayv1.ReferenceGrantFrom{{
				Group: gatewayv1.GroupName, Kind: "HTTPRoute", Namespace: gatewayv1.Namespace(fromNS),
			}},
			To: []gatewayv1.ReferenceGrantTo{{Group: "", Kind: "Service"}},
		},
	}
}

// networkPolicy admits the gateway's data plane to app=users on port.
func networkPolicy(ns, name string, port int32) *networkingv1.NetworkPolicy {
	return &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "users"}},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress: []networkingv1.NetworkPolicyIngressRule{{
				From: []networkingv1.NetworkPolicyPeer{{
					NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "infra"}},
					PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"gateway.envoyproxy.io/owning-gateway-name": "public"}},
				}},
				Ports: []networkingv1.NetworkPolicyPort{{
					Protocol: ptr.To(corev1.ProtocolTCP),
					Port:     ptr.To(intstr.FromInt32(port)),
				}},
			}},
		},
	}
}

// toUnstructured converts a typed object, dropping what a client does not
// send on apply (status, a null creationTimestamp).
func toUnstructured(t *testing.T, obj runtime.Object) *unstructured.Unstructured {
	t.Helper()
	m, err := runtime.DefaultUnstructuredConverter.ToUnstructured(obj)
	if err != nil {
		t.Fatal(err)
	}
	u := &unstructured.Unstructured{Object: m}
	unstructured.RemoveNestedField(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u
}

// --- applying -------------------------------------------------------------------

type applier struct {
	dyn    dynamic.Interface
	cs     kubernetes.Interface
	mapper meta.RESTMapper
}

func newApplier(t *testing.T, c *testcluster.Cluster) *applier {
	t.Helper()
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		t.Fatal(err)
	}
	return &applier{
		dyn:    dynamic.NewForConfigOrDie(c.Config),
		cs:     kubernetes.NewForConfigOrDie(c.Config),
		mapper: restmapper.NewDeferredDiscoveryRESTMapper(memory.NewMemCacheClient(dc)),
	}
}

func (a *applier) resource(o *unstructured.Unstructured) (dynamic.ResourceInterface, error) {
	gvk := o.GroupVersionKind()
	m, err := a.mapper.RESTMapping(schema.GroupKind{Group: gvk.Group, Kind: gvk.Kind}, gvk.Version)
	if err != nil {
		return nil, err
	}
	if m.Scope.Name() == meta.RESTScopeNameNamespace {
		return a.dyn.Resource(m.Resource).Namespace(o.GetNamespace()), nil
	}
	return a.dyn.Resource(m.Resource), nil
}

// apply server-side applies o as the perimeter field manager.
func (a *applier) apply(o *unstructured.Unstructured, dryRun bool) (*unstructured.Unstructured, error) {
	r, err := a.resource(o)
	if err != nil {
		return nil, err
	}
	opts := metav1.ApplyOptions{FieldManager: fieldManager, Force: true}
	if dryRun {
		opts.DryRun = []string{metav1.DryRunAll}
	}
	return r.Apply(context.Background(), o.GetName(), o, opts)
}

func (a *applier) get(o *unstructured.Unstructured) error {
	r, err := a.resource(o)
	if err != nil {
		return err
	}
	_, err = r.Get(context.Background(), o.GetName(), metav1.GetOptions{})
	return err
}

func (a *applier) mustExist(t *testing.T, o *unstructured.Unstructured) {
	t.Helper()
	if err := a.get(o); err != nil {
		t.Errorf("get %s after apply: %v", describe(o), err)
	}
}

func (a *applier) ensureNamespace(t *testing.T, name string) {
	t.Helper()
	if name == "" {
		return
	}
	_, err := a.cs.CoreV1().Namespaces().Create(context.Background(),
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
}

func describe(o *unstructured.Unstructured) string {
	if o.GetNamespace() == "" {
		return o.GetKind() + " " + o.GetName()
	}
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// subsetDiff reports the first place where sent is not contained in live:
// every map key sent must be live with an equal value (the server may add
// defaults, not change or drop what was sent), and lists must match element
// by element.
func subsetDiff(path string, sent, live any) string {
	switch s := sent.(type) {
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: sent an object, got %T", path, live)
		}
		for k, v := range s {
			lv, ok := l[k]
			if !ok {
				return fmt.Sprintf("%s.%s: sent %v, missing on the server", path, k, v)
			}
			if d := subsetDiff(path+"."+k, v, lv); d != "" {
				return d
			}
		}
		return ""
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(s) {
			return fmt.Sprintf("%s: sent %v, got %v", path, sent, live)
		}
		for i := range s {
			if d := subsetDiff(fmt.Sprintf("%s[%d]", path, i), s[i], l[i]); d != "" {
				return d
			}
		}
		return ""
	default:
		if !reflect.DeepEqual(normalizeNumber(sent), normalizeNumber(live)) {
			return fmt.Sprintf("%s: sent %v (%T), got %v (%T)", path, sent, sent, live, live)
		}
		return ""
	}
}

func normalizeNumber(v any) any {
	switch n := v.(type) {
	case int:
		return float64(n)
	case int32:
		return float64(n)
	case int64:
		return float64(n)
	case float32:
		return float64(n)
	}
	return v
}

func corsFilter(origins ...string) gatewayv1.HTTPRouteFilter {
	f := &gatewayv1.HTTPCORSFilter{MaxAge: 5}
	for _, o := range origins {
		f.AllowOrigins = append(f.AllowOrigins, gatewayv1.CORSOrigin(o))
	}
	return gatewayv1.HTTPRouteFilter{Type: gatewayv1.HTTPRouteFilterCORS, CORS: f}
}

func backendTLSPolicy(ns, name string, caConfigMaps []string, wellKnown string) *gatewayv1.BackendTLSPolicy {
	p := &gatewayv1.BackendTLSPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: gatewayv1.GroupVersion.String(), Kind: "BackendTLSPolicy"},
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app.kubernetes.io/managed-by": "perimeter"}},
	}
	p.Spec.TargetRefs = []gatewayv1.LocalPolicyTargetReferenceWithSectionName{{LocalPolicyTargetReference: gatewayv1.LocalPolicyTargetReference{Kind: "Service", Name: "users"}}}
	p.Spec.Validation.Hostname = "users.example.svc"
	for _, cm := range caConfigMaps {
		p.Spec.Validation.CACertificateRefs = append(p.Spec.Validation.CACertificateRefs, gatewayv1.LocalObjectReference{Kind: "ConfigMap", Name: gatewayv1.ObjectName(cm)})
	}
	if wellKnown != "" {
		ca := gatewayv1.WellKnownCACertificatesType(wellKnown)
		p.Spec.Validation.WellKnownCACertificates = &ca
	}
	return p
}
