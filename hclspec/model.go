package hclspec

import "github.com/hashicorp/hcl/v2"

// Intent is the boundary intent of one stack in one environment: every block
// of the HCL files, decoded, type-checked and resolved. It carries source
// ranges so later stages can report problems against the HCL that caused
// them. It knows nothing about Kubernetes object shapes.
type Intent struct {
	Stack string
	// StateNamespace holds the stack's ApplySet parent.
	StateNamespace string
	Environment    string   // "" when rendered without an environment
	Environments   []string // every environment the intent declares, sorted
	ClusterDNS     PodSet   // where cluster DNS runs, for DNS egress rules
	// FQDNEgress is what enforces egress to domain names in this cluster
	// (perimeter { fqdn_egress = ... }); "" when nothing does.
	FQDNEgress string

	Namespaces []*Namespace
	Gateways   []*Gateway
	Services   []*Service
	HTTPRoutes []*HTTPRoute
	GRPCRoutes []*GRPCRoute
	L4Routes   []*L4Route // tls_route, tcp_route and udp_route blocks
	// ListenerSets add listeners to Gateways the stack does not own.
	ListenerSets []*ListenerSet
	Allows       []*Allow
	Checks       []*Check
	// Passthrough are NetworkPolicies kept verbatim (policy blocks).
	Passthrough []*Passthrough
	// ClusterPolicies are the guardrail (Admin tier) and baseline
	// (Baseline tier) blocks, guardrails first, each in file order.
	ClusterPolicies []*ClusterPolicy

	// budget is what is left of the evaluation budget of the run that
	// decoded the intent, for expressions evaluated later (EvalEndpoint).
	budget *Budget
}

// Origin names the HCL block an intent element came from.
type Origin struct {
	Block string    // e.g. `route "api"`
	Range hcl.Range // the block's definition range (type and labels)
}

// Namespace is a namespace the stack manages: perimeter may emit policies in
// it, including the baseline.
type Namespace struct {
	Label       string // the block label, used in references (namespace.shop)
	Name        string // the Kubernetes namespace name
	DenyIngress bool
	DenyEgress  bool
	DNS         bool // emit the DNS egress policy
	DNSSet      bool // DNS was set explicitly
	// Labels are the namespace's declared labels (besides
	// kubernetes.io/metadata.name, which the API server sets): what
	// namespaces({...}) selectors are evaluated against.
	Labels map[string]string
	// Create is false when the namespace must already exist (a
	// platform-owned namespace): the plan fails instead of creating it.
	Create bool
	// Adopt makes an existing namespace the stack did not create a member
	// of its ApplySet, so its declared labels are applied (and destroy may
	// delete it). Without it an existing namespace is used as it is.
	Adopt bool
	Origin
}

// namespaceNameLabel is the label the API server puts on every namespace.
const namespaceNameLabel = "kubernetes.io/metadata.name"

// Implementation names a Gateway API implementation whose data-plane pods
// perimeter knows how to select.
type Implementation string

// Known implementations.
const (
	EnvoyGateway Implementation = "envoy-gateway"
	Istio        Implementation = "istio"
	Custom       Implementation = "custom"
)

// PodSet is a set of pods: those matching Selector in Namespace.
type PodSet struct {
	Namespace string
	Selector  map[string]string
}

// Gateway is a Gateway routes attach to, and the data plane that forwards
// their traffic.
type Gateway struct {
	Label          string
	Name           string
	Namespace      string
	Listener       string // default sectionName for routes; "" = all listeners
	Implementation Implementation
	DataPlane      PodSet
	Manage         *GatewaySpec // non-nil when perimeter owns the Gateway object
	// Clients may connect to the data plane where its namespace restricts
	// ingress; nil means from anywhere.
	Clients []Endpoint
	// ListenerPorts are the ports clients connect to on a gateway the stack
	// does not manage; nil when not declared.
	ListenerPorts []int32
	// ListenerSets are the stack's listener_set blocks adding listeners
	// to this gateway.
	ListenerSets []*ListenerSet
	Origin
}

// GatewaySpec is the Gateway object perimeter renders when it owns it.
type GatewaySpec struct {
	Class     string
	Listeners []*Listener
}

// Listener is one listener of a Gateway perimeter owns.
type Listener struct {
	Name         string
	Protocol     string
	Port         int32
	Hostname     string
	Certificates []string // Secret names in the Gateway's namespace
	TLSMode      string   // TLS listeners: TLSPassthrough or TLSTerminate
	Range        hcl.Range
}

// Service is a workload addressed through a Kubernetes Service: its pods (by
// selector) and its ports. NetworkPolicies use TargetPort, routes use Port.
type Service struct {
	Label      string
	Name       string
	Namespace  string
	Selector   map[string]string
	Port       int32
	TargetPort PortRef
	// Ports are the named container ports of the pods (ports = { name =
	// number }), with the service's protocol; nil when not declared, so
	// that which names the pods have is unknown.
	Ports       map[string]int32
	Protocol    string
	DenyIngress bool
	DenyEgress  bool
	DNS         bool // keep DNS open when its egress is restricted (default true)
	DNSSet      bool // DNS was set explicitly
	BackendTLS  *BackendTLS
	Origin
}

// BackendTLS says the service's pods speak TLS: gateways connect to them
// with TLS and validate their certificate (a BackendTLSPolicy).
type BackendTLS struct {
	Hostname       string   // SNI and the name the certificate must carry
	CACertificates []string // ConfigMaps (key ca.crt) in the service's namespace
	WellKnownCA    string   // "System", or implementation-specific; excludes CACertificates
	PortName       string   // the Service port's name (sectionName); "" = every port
	Range          hcl.Range
}

// PortRef is a pod port, by number or by container port name.
type PortRef struct {
	Number int32
	Name   string
}

// String renders the port as NetworkPolicy users write it.
func (p PortRef) String() string {
	if p.Name != "" {
		return p.Name
	}
	return itoa(int(p.Number))
}

// EndpointKind says what an Endpoint selects.
type EndpointKind string

// Endpoint kinds.
const (
	EndpointService    EndpointKind = "service"
	EndpointNamespace  EndpointKind = "namespace"  // all pods of one namespace
	EndpointNamespaces EndpointKind = "namespaces" // all pods of namespaces chosen by labels
	EndpointPods       EndpointKind = "pods"       // pods by selector in one namespace
	EndpointCIDR       EndpointKind = "cidr"
	EndpointFQDN       EndpointKind = "fqdn" // a domain name, or *.suffix
)

// Endpoint is one side of a connection.
type Endpoint struct {
	Kind              EndpointKind
	Service           *Service          // EndpointService
	Namespace         string            // EndpointNamespace, EndpointPods, EndpointService
	NamespaceSelector map[string]string // EndpointNamespaces
	PodSelector       map[string]string // EndpointPods
	CIDR              string            // EndpointCIDR
	Except            []string          // EndpointCIDR
	FQDN              string            // EndpointFQDN
	Range             hcl.Range
}

// PortSpec is a port or port range with its protocol, as NetworkPolicy
// understands it (pod ports).
type PortSpec struct {
	Protocol string // TCP, UDP or SCTP
	Port     int32  // 0 with Name == "" means every port of the protocol
	EndPort  int32  // 0 unless a range
	Name     string // a named container port
}

// Allow is a permitted connection. Every From endpoint may reach every To
// endpoint on Ports (or, when Ports is empty, on the destination service's
// target port, or on all ports for other destinations).
type Allow struct {
	Label string
	From  []Endpoint
	To    []Endpoint
	Ports []PortSpec
	Origin
}

// HTTPRoute exposes backends through gateways over HTTP.
type HTTPRoute struct {
	Label     string
	Name      string
	Namespace string
	Parents   []ParentRef
	Hostnames []string
	Rules     []*HTTPRule
	Origin
}

// ParentRef attaches a route to a gateway (and optionally one listener).
type ParentRef struct {
	Gateway  *Gateway
	Listener string
	// ListenerSet is set when the route attaches to a listener_set (whose
	// Gateway is Gateway); Listener is then one of the set's listeners.
	ListenerSet *ListenerSet
}

// HTTPRule is one rule of an HTTP route.
type HTTPRule struct {
	Matches  []HTTPMatch
	Backends []Backend
	Redirect *Redirect
	Rewrite  *Rewrite
	CORS     *CORS
	Timeout  string
	Range    hcl.Range
}

// HTTPMatch is one way a request can match a rule.
type HTTPMatch struct {
	Path     string
	PathType string // "PathPrefix", "Exact" or "RegularExpression"; "" when Path is empty
	Headers  map[string]string
	Query    map[string]string
	Method   string
}

// Backend is a weighted service backend of a route rule.
type Backend struct {
	Service *Service
	Weight  *int32
	Range   hcl.Range
}

// Redirect is a RequestRedirect filter.
type Redirect struct {
	Scheme     string
	Hostname   string
	Port       int32
	FullPath   string
	PrefixPath string
	StatusCode int
}

// Rewrite is a URLRewrite filter.
type Rewrite struct {
	Hostname   string
	FullPath   string
	PrefixPath string
}

// CORS is an HTTPRoute CORS filter: the gateway answers preflight requests
// and adds the Access-Control-* headers for the origins it allows.
type CORS struct {
	AllowOrigins     []string
	AllowMethods     []string
	AllowHeaders     []string
	ExposeHeaders    []string
	AllowCredentials bool
	MaxAge           int32 // seconds; 0 = not set (the gateway's default, 5)
}

// GRPCRoute exposes gRPC backends through gateways.
type GRPCRoute struct {
	Label     string
	Name      string
	Namespace string
	Parents   []ParentRef
	Hostnames []string
	Rules     []*GRPCRule
	Origin
}

// GRPCRule is one rule of a gRPC route.
type GRPCRule struct {
	Matches  []GRPCMatch
	Backends []Backend
	Range    hcl.Range
}

// GRPCMatch matches a gRPC service and/or method and headers.
type GRPCMatch struct {
	Service string
	Method  string
	Headers map[string]string
}

// Check is an expectation about connectivity, evaluated by `perimeter check`.
type Check struct {
	Label string
	// FromGateway is set when the check's source is gateway.NAME: the
	// gateway's data-plane pods. From then holds only the source range.
	FromGateway *Gateway
	From        Endpoint
	To          Endpoint
	Port        PortSpec
	Expect      string // "allow" or "deny"
	Origin
}
