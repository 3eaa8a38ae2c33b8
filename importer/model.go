package importer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/internal/apivalidation"
)

// model is the intent being assembled from the input objects.
type model struct {
	opts       Options
	gwNS       string
	gwName     string
	gwListener string
	// httpListener is the gateway's plain-HTTP listener, for redirects.
	httpListener string
	tlsNotes     []string
	tlsHosts     map[string]bool // hosts with TLS in any Ingress

	services     map[string]*corev1.Service // ns/name
	inIngresses  []*netv1.Ingress
	inPolicies   []*netv1.NetworkPolicy
	inHTTPRoutes []*gwv1.HTTPRoute
	inGRPCRoutes []*gwv1.GRPCRoute
	inBackendTLS []*gwv1.BackendTLSPolicy
	inGateways   []*gwv1.Gateway
	inClasses    []*gwv1.GatewayClass
	inConfigMaps []*corev1.ConfigMap
	inL4Routes   []*unstructured.Unstructured // TLSRoutes, TCPRoutes, UDPRoutes

	// the running ingress-nginx controller, for the migration allows
	controllerFlag *controller                  // Options.IngressController
	inControllers  []*unstructured.Unstructured // its Deployments and DaemonSets in the input
	controllers    []controller                 // the pods admitted
	legacy         map[string]*service          // backends it serves, by service key

	blocks     map[string]*service // ns/name/port -> service block
	labels     map[string]string   // block type + label -> key that owns it
	namespaces map[string]*namespace
	routes     []*route
	l4routes   []*l4Route
	// gwListeners are the listeners of the named Gateway when the input
	// holds it (nil otherwise), for the L4 routes' listeners.
	gwListeners []gwv1.Listener
	allows      []*allow
	passthru    []*passthrough
	tiers       []*tierBlock // guardrails and baselines
	report      []Entry
}

// service is a service block: one port of a Kubernetes Service.
type service struct {
	label, name, ns string
	want, key       string // the label it would like; its key in model.blocks
	selector        map[string]string
	port            int32
	target          string // number or name; "" = same as port
	protocol        string
	placeholder     bool        // the Service is not in the input
	noSelector      bool        // the Service selects no pods; the selector is a placeholder
	portName        string      // the Service port's name, for backend_tls
	tls             *backendTLS // the pods speak TLS
	noDNS           bool
	denyIn, denyOut bool // a workload baseline
}

type namespace struct {
	name            string
	denyIn, denyOut bool
	noDNS           bool // egress allows in it must not get perimeter's DNS rule
}

// route is a route or grpc_route block.
type route struct {
	label, name, ns string
	grpc            bool
	listener        string // when not the gateway's
	hostnames       []string
	rules           []*rule
	comments        []string
	key             string // namespace/ingress/host, for canary merging
}

type rule struct {
	path, pathType string // pathType "exact", "regex" or "" (prefix)
	headers        map[string]string
	query          map[string]string
	method         string
	grpcService    string // grpc_route rules
	grpcMethod     string
	backends       []backend
	redirect       *redirect
	rewritePrefix  string // ReplacePrefixMatch
	rewriteFull    string // ReplaceFullPath
	rewriteHost    string // URLRewrite hostname
	timeout        string
	cors           *corsBlock
}

type backend struct {
	svc    *service
	weight int32 // 0: no weight written
}

type redirect struct {
	scheme, hostname, path string
	port                   int32
	status                 int
}

type allow struct {
	label    string
	from, to []endpoint
	ports    []string // nil: all ports (or the service's target port; see allows)
	comment  string
}

// endpoint is one side of an allow, as an HCL expression.
type endpoint struct {
	svc     *service          // service.X
	ns      string            // namespace.X when pods == nil and svc == nil and !nsSel
	pods    map[string]string // pods(ns, {...})
	nsSel   map[string]string // namespaces({...})
	cidr    string
	except  []string
	isNSSel bool
	isCIDR  bool
	wholeNS bool
}

type passthrough struct {
	label, yaml, comment string
}

func newModel(opts Options) (*model, error) {
	m := &model{opts: opts, services: map[string]*corev1.Service{},
		blocks: map[string]*service{}, labels: map[string]string{}, namespaces: map[string]*namespace{},
		legacy: map[string]*service{}}
	if m.opts.Stack == "" {
		m.opts.Stack = "imported"
	}
	g := opts.Gateway
	if i := strings.LastIndex(g, ":"); i >= 0 {
		m.gwListener, g = g[i+1:], g[:i]
	}
	ns, name, ok := strings.Cut(g, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("gateway %q: want namespace/name or namespace/name:listener", opts.Gateway)
	}
	m.gwNS, m.gwName = ns, name
	m.httpListener = opts.HTTPListener
	if opts.IngressController != "" {
		c, err := parseController(opts.IngressController)
		if err != nil {
			return nil, err
		}
		m.controllerFlag = &c
	}
	return m, nil
}

// load sorts the input by kind and converts the kinds the import reads.
func (m *model) load(objs []*unstructured.Unstructured) error {
	sorted := append([]*unstructured.Unstructured(nil), objs...)
	sort.SliceStable(sorted, func(i, j int) bool { return objectRef(sorted[i]) < objectRef(sorted[j]) })
	for _, u := range sorted {
		u, ok := m.placed(u)
		if !ok {
			continue
		}
		var err error
		switch u.GroupVersionKind().GroupKind().String() {
		case "Service":
			s := &corev1.Service{}
			err = runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, s)
			m.services[s.Namespace+"/"+s.Name] = m.validPorts(s)
		case "Ingress.networking.k8s.io":
			err = appendTyped(u, &m.inIngresses)
		case "NetworkPolicy.networking.k8s.io":
			err = m.appendPolicy(u)
		case "HTTPRoute.gateway.networking.k8s.io":
			err = appendTyped(u, &m.inHTTPRoutes)
		case "GRPCRoute.gateway.networking.k8s.io":
			err = appendTyped(u, &m.inGRPCRoutes)
		case "Gateway.gateway.networking.k8s.io":
			err = appendTyped(u, &m.inGateways)
		case "BackendTLSPolicy.gateway.networking.k8s.io":
			err = appendTyped(u, &m.inBackendTLS)
		case "GatewayClass.gateway.networking.k8s.io":
			err = appendTyped(u, &m.inClasses) // only the named Gateway's class matters
		case "IngressClass.networking.k8s.io":
			m.ingressClass(u)
		case "Deployment.apps", "DaemonSet.apps":
			if !IsIngressNginxController(u) {
				m.note(objectRef(u), "", Dropped, "%s objects are not imported (only the ingress-nginx controller's, for the migration allows).", u.GetKind())
				break
			}
			m.inControllers = append(m.inControllers, u)
		case "TLSRoute.gateway.networking.k8s.io", "TCPRoute.gateway.networking.k8s.io", "UDPRoute.gateway.networking.k8s.io":
			m.inL4Routes = append(m.inL4Routes, u)
		case "ConfigMap":
			err = appendTyped(u, &m.inConfigMaps)
		case "ClusterNetworkPolicy.policy.networking.k8s.io", "AdminNetworkPolicy.policy.networking.k8s.io", "BaselineAdminNetworkPolicy.policy.networking.k8s.io":
			err = m.loadTier(u)
		case "Namespace":
			// Namespaces matter only through the policies that select them.
		default:
			m.note(objectRef(u), "", Dropped, "%s objects are not imported.", u.GetKind())
		}
		if err != nil {
			return fmt.Errorf("%s: %w", objectRef(u), err)
		}
	}
	return nil
}

// namespacedKinds are the kinds the import reads that live in a namespace.
var namespacedKinds = map[string]bool{
	"Service": true, "Ingress.networking.k8s.io": true, "NetworkPolicy.networking.k8s.io": true,
	"HTTPRoute.gateway.networking.k8s.io": true, "GRPCRoute.gateway.networking.k8s.io": true,
	"Gateway.gateway.networking.k8s.io": true, "BackendTLSPolicy.gateway.networking.k8s.io": true,
	"Deployment.apps": true, "DaemonSet.apps": true, "ConfigMap": true,
	"TLSRoute.gateway.networking.k8s.io": true, "TCPRoute.gateway.networking.k8s.io": true, "UDPRoute.gateway.networking.k8s.io": true,
}

// placed settles where an object from a file lives. One without a valid
// name or namespace is skipped: files may hold objects no API server
// accepted. A namespaced one without a namespace is read in "default", as
// kubectl apply with a default context would create it. Both are reported.
func (m *model) placed(u *unstructured.Unstructured) (*unstructured.Unstructured, bool) {
	if errs := validation.IsDNS1123Subdomain(u.GetName()); len(errs) > 0 {
		m.note(objectRef(u), "metadata.name", Dropped, "%q is not an object name (%s), so the object is not imported.", u.GetName(), strings.Join(errs, "; "))
		return nil, false
	}
	if !namespacedKinds[u.GroupVersionKind().GroupKind().String()] {
		return u, true
	}
	if u.GetNamespace() == "" {
		u = u.DeepCopy()
		u.SetNamespace("default")
		m.note(objectRef(u), "metadata.namespace", Warning, "the object names no namespace; it is imported in namespace \"default\", where kubectl apply would create it with a default context.")
	}
	if errs := validation.IsDNS1123Label(u.GetNamespace()); len(errs) > 0 {
		m.note(objectRef(u), "metadata.namespace", Dropped, "%q is not a namespace name (%s), so the object is not imported.", u.GetNamespace(), strings.Join(errs, "; "))
		return nil, false
	}
	return u, true
}

// validPorts drops the ports of a Service that no API server would accept
// (a number outside 1-65535), and reports them.
func (m *model) validPorts(s *corev1.Service) *corev1.Service {
	ports := s.Spec.Ports[:0:0]
	for _, p := range s.Spec.Ports {
		if errs := validation.IsValidPortNum(int(p.Port)); len(errs) > 0 {
			m.note("Service "+s.Namespace+"/"+s.Name, "spec.ports", Dropped, "port %d is not a port number, so it is not imported.", p.Port)
			continue
		}
		ports = append(ports, p)
	}
	s.Spec.Ports = ports
	return s
}

// appendPolicy converts a NetworkPolicy and keeps it if an API server
// would accept it. One it would refuse (a CIDR 999.0.0.0/99, port 70000,
// protocol FOO) cannot be running in a cluster, so it has no verdicts to
// keep; writing it verbatim would hand the user intent that only apply
// rejects. It is reported instead, field by field.
func (m *model) appendPolicy(u *unstructured.Unstructured) error {
	var p []*netv1.NetworkPolicy
	if err := appendTyped(u, &p); err != nil {
		return err
	}
	if errs := apivalidation.NetworkPolicy(p[0]); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = strings.TrimSuffix(e.Error(), ".")
		}
		m.note(objectRef(u), "", Dropped, "an API server would refuse this NetworkPolicy (%s), so it cannot be in force in a cluster and is not imported; fix it where it comes from.",
			strings.Join(msgs, "; "))
		return nil
	}
	m.inPolicies = append(m.inPolicies, p[0])
	return nil
}

// appendTyped converts u to its typed struct and appends it to list.
func appendTyped[T any](u *unstructured.Unstructured, list *[]*T) error {
	v := new(T)
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

func (m *model) ingressClass(u *unstructured.Unstructured) {
	ctrl, _, _ := unstructured.NestedString(u.Object, "spec", "controller")
	if ctrl != ingressNginxClass {
		m.note(objectRef(u), "spec.controller", Warning,
			"the class is run by %s, not ingress-nginx (%s): its Ingresses are imported as if ingress-nginx served them, with routes on gateway %s/%s, and %s admits ingress-nginx's pods, not this controller's; name them with --ingress-controller if it serves the imported Ingresses.", ctrl, ingressNginxClass, m.gwNS, m.gwName, MigrationFile)
		return
	}
	m.note(objectRef(u), "spec.controller", Translated,
		"the class (controller %s) is replaced by gateway %s/%s: routes attach to it instead.", ctrl, m.gwNS, m.gwName)
}

// namespace marks ns as managed by the stack.
func (m *model) namespace(ns string) *namespace {
	n := m.namespaces[ns]
	if n == nil {
		n = &namespace{name: ns}
		m.namespaces[ns] = n
	}
	return n
}

// uniqueLabel returns a block label for key derived from want: want itself
// when it is free, else want with a numeric suffix.
func (m *model) uniqueLabel(kind, want, key string) string {
	base := identifier(want)
	for i := 1; ; i++ {
		label := base
		if i > 1 {
			label = fmt.Sprintf("%s-%d", base, i)
		}
		if owner, taken := m.labels[kind+"."+label]; !taken || owner == key {
			m.labels[kind+"."+label] = key
			return label
		}
	}
}

// identifier makes s a valid HCL identifier that is also a Kubernetes
// name: lower-case letters, digits and '-', starting with a letter.
func identifier(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			b.WriteRune(r)
		default:
			b.WriteRune('-')
		}
	}
	out := strings.Trim(b.String(), "-")
	if out == "" || out[0] < 'a' || out[0] > 'z' {
		out = "x-" + out
	}
	return out
}

// serviceBlock returns the service block for port of Service ns/name (by
// number or name), creating it; a Service missing from the input gets a
// placeholder block and a report entry.
func (m *model) serviceBlock(from, ns, name string, port netv1.ServiceBackendPort) *service {
	s := m.services[ns+"/"+name]
	if s == nil {
		return m.placeholder(from, ns, name, port)
	}
	for _, p := range s.Spec.Ports {
		if (port.Name != "" && p.Name == port.Name) || (port.Name == "" && p.Port == port.Number) {
			return m.serviceBlockFor(s, p)
		}
	}
	m.note(from, "backend "+name, Warning, "Service %s/%s has no port %s; a placeholder port is used.", ns, name, portString(port))
	return m.placeholder(from, ns, name, port)
}

func (m *model) serviceBlockFor(s *corev1.Service, p corev1.ServicePort) *service {
	key := fmt.Sprintf("%s/%s/%d", s.Namespace, s.Name, p.Port)
	if b := m.blocks[key]; b != nil {
		return b
	}
	want := s.Name
	if len(s.Spec.Ports) > 1 && p.Name != "" {
		want = s.Name + "-" + p.Name
	}
	b := &service{want: want, key: key, name: s.Name, ns: s.Namespace,
		selector: s.Spec.Selector, port: p.Port, protocol: string(p.Protocol), portName: p.Name}
	if len(s.Spec.Selector) == 0 {
		// A Service without a selector (hand-made Endpoints, ExternalName)
		// names no pods, and policies need pods to select.
		b.selector, b.noSelector = map[string]string{"app": s.Name}, true
		m.note("Service "+s.Namespace+"/"+s.Name, "spec.selector", Warning, "Service %s/%s selects no pods (its endpoints are managed by hand, or it is ExternalName); a placeholder selector app = %q was written: set the labels of the pods behind it.", s.Namespace, s.Name, s.Name)
	}
	if p.TargetPort.String() != "0" && p.TargetPort.String() != fmt.Sprint(p.Port) {
		b.target = p.TargetPort.String()
	}
	m.blocks[key] = b
	m.namespace(s.Namespace)
	return b
}

func (m *model) placeholder(from, ns, name string, port netv1.ServiceBackendPort) *service {
	key := ns + "/" + name + "/" + portString(port)
	if b := m.blocks[key]; b != nil {
		return b
	}
	number := port.Number
	if number == 0 {
		number = 80
	}
	m.note(from, "backend "+name, Warning, "Service %s/%s is not in the input: a placeholder service block with selector app = %q was written; fix its selector and ports.", ns, name, name)
	b := &service{want: name, key: key, name: name, ns: ns,
		selector: map[string]string{"app": name}, port: number, placeholder: true}
	m.blocks[key] = b
	m.namespace(ns)
	return b
}

func portString(p netv1.ServiceBackendPort) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprint(p.Number)
}

// labelServices names the service blocks in the order of their keys, so a
// label does not depend on the order the blocks were needed in.
func (m *model) labelServices() []*service {
	keys := slices.Sorted(maps.Keys(m.blocks))
	out := make([]*service, 0, len(keys))
	for _, k := range keys {
		s := m.blocks[k]
		s.label = m.uniqueLabel("service", s.want, k)
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].label < out[j].label })
	return out
}
