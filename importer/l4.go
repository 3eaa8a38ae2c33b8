package importer

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	netv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/validation"
	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// l4Route is a tls_route, tcp_route or udp_route block: ssl-passthrough
// Ingresses and the entries of ingress-nginx's tcp-services and
// udp-services ConfigMaps.
type l4Route struct {
	kind            string // tls_route, tcp_route, udp_route
	label, name, ns string
	listener        string
	hostnames       []string
	backends        []backend
	comments        []string
	from            string // the input object, for the report
	port            string // tcp/udp-services: the entry's port
}

// Default listener names of the L4 imports; "{port}" is the ConfigMap key.
const (
	DefaultTLSListener = "tls"
	DefaultTCPListener = "tcp-{port}"
	DefaultUDPListener = "udp-{port}"
)

// passthroughIngress imports an Ingress with ssl-passthrough: ingress-nginx
// then forwards the TLS connection for each host, by SNI, to the backend of
// the host's path "/" (or its first path) without terminating it. Each host
// becomes a tls_route on the TLS listener; paths and HTTP annotations mean
// nothing to a connection the gateway does not decrypt.
func (m *model) passthroughIngress(in *netv1.Ingress) {
	obj := ref(in)
	m.namespace(in.Namespace)
	for _, k := range sortedKeys(in.Annotations) {
		name, isNginx := strings.CutPrefix(k, nginx)
		switch {
		case ignoredAnnotations[k]:
		case name == "ssl-passthrough":
			m.note(obj, k, Translated, "the Ingress becomes tls_routes on listener %q (a TLS listener in Passthrough mode): the gateway routes each connection by SNI and the backend terminates TLS.", m.tlsListener())
		case k == "kubernetes.io/ingress.class" || !isNginx:
			m.annotation(in, k, in.Annotations[k], &ingressSettings{})
		default:
			m.note(obj, k, Dropped, "with ssl-passthrough the gateway does not decrypt the connection, so HTTP settings have no effect (nor did they in ingress-nginx).")
		}
	}
	if len(in.Spec.TLS) > 0 {
		m.note(obj, "spec.tls", Dropped, "with ssl-passthrough the backend presents its own certificate; the Secret is not used.")
	}
	if in.Spec.DefaultBackend != nil {
		m.note(obj, "spec.defaultBackend", Dropped, "a passthrough connection is routed by its SNI hostname; one without a matching host has no TLSRoute equivalent.")
	}
	imported := 0
	for _, r := range in.Spec.Rules {
		if m.passthroughHost(in, r) {
			imported++
		}
	}
	if imported == 0 {
		m.note(obj, "spec.rules", Dropped, "the Ingress routes no host with a service backend, so no tls_route could be made.")
	}
}

func (m *model) passthroughHost(in *netv1.Ingress, r netv1.IngressRule) bool {
	obj := ref(in)
	if r.Host == "" {
		m.note(obj, "host (none)", Dropped, "a rule without host matches no SNI name; a tls_route needs hostnames.")
		return false
	}
	if r.HTTP == nil || len(r.HTTP.Paths) == 0 {
		m.note(obj, "host "+r.Host, Dropped, "the host has no paths, so no backend to forward to.")
		return false
	}
	p := r.HTTP.Paths[0]
	for _, x := range r.HTTP.Paths {
		if x.Path == "/" || x.Path == "" {
			p = x
			break
		}
	}
	if msg := invalidServiceName(p.Backend.Service); msg != "" {
		m.note(obj, "host "+r.Host, Dropped, "%s; the host is not imported.", msg)
		return false
	}
	if len(r.HTTP.Paths) > 1 {
		m.note(obj, "host "+r.Host, Warning, "ingress-nginx forwards every connection for the host to the backend of path %q; the other paths are not imported.", or(p.Path, "/"))
	}
	svc := m.serviceBlock(obj, in.Namespace, p.Backend.Service.Name, p.Backend.Service.Port)
	if !m.l4Protocol(obj, "host "+r.Host, svc, "TCP") {
		return false
	}
	name := in.Name
	if len(in.Spec.Rules) > 1 {
		name = in.Name + "-" + hostSlug(r.Host)
	}
	m.addL4(&l4Route{kind: "tls_route", name: name, ns: in.Namespace, listener: m.tlsListener(), hostnames: []string{r.Host},
		backends: []backend{{svc: svc}}, comments: []string{"from " + obj + " (ssl-passthrough)"}, from: obj, port: "443"}, in.Namespace+"/"+name)
	return true
}

// l4Protocol checks that a backend's Service port speaks the transport the
// route forwards (a placeholder takes it); a mismatch is reported and not
// imported, since the route would carry nothing.
func (m *model) l4Protocol(obj, item string, svc *service, protocol string) bool {
	have := svc.protocol
	if have == "" {
		have = "TCP"
	}
	if svc.placeholder && svc.protocol == "" {
		svc.protocol = protocol
		return true
	}
	if have != protocol {
		m.note(obj, item, Dropped, "Service %s/%s port %d is %s, but the route forwards %s; not imported.", svc.ns, svc.name, svc.port, have, protocol)
		return false
	}
	return true
}

func (m *model) addL4(rt *l4Route, key string) {
	rt.label = m.uniqueLabel(rt.kind, rt.name, key)
	for _, b := range rt.backends {
		m.isolated(b.svc)
		m.served(b.svc)
	}
	m.l4routes = append(m.l4routes, rt)
}

func (m *model) tlsListener() string { return or(m.opts.TLSListener, DefaultTLSListener) }

// servicesConfigMaps imports ingress-nginx's tcp-services and udp-services
// ConfigMaps: each entry "PORT: namespace/service:port" exposed the
// service on that port of the controller; it becomes a tcp_route or
// udp_route on the listener the options name for the port.
func (m *model) servicesConfigMaps() {
	for _, cm := range m.inConfigMaps {
		protocol, ok := m.servicesKind(cm)
		if !ok {
			m.note("ConfigMap "+cm.Namespace+"/"+cm.Name, "", Dropped, "only ingress-nginx's tcp-services and udp-services ConfigMaps are imported (see --tcp-services, --udp-services).")
			continue
		}
		for _, port := range sortedKeys(cm.Data) {
			m.servicesEntry(cm, protocol, port, cm.Data[port])
		}
	}
}

// servicesKind says whether a ConfigMap is the tcp-services (TCP) or
// udp-services (UDP) one: the one the options name, else the one the
// controller's arguments name, else by its conventional name.
func (m *model) servicesKind(cm *corev1.ConfigMap) (string, bool) {
	id := cm.Namespace + "/" + cm.Name
	tcp, udp := ServicesConfigMaps(m.inControllers)
	tcp, udp = or(m.opts.TCPServices, tcp), or(m.opts.UDPServices, udp)
	switch {
	case tcp != "" && id == tcp, tcp == "" && cm.Name == "tcp-services":
		return "TCP", true
	case udp != "" && id == udp, udp == "" && cm.Name == "udp-services":
		return "UDP", true
	}
	return "", false
}

// ServicesConfigMaps reads, from ingress-nginx controller workloads, the
// ConfigMaps their --tcp-services-configmap and --udp-services-configmap
// arguments name, as "namespace/name" ($(POD_NAMESPACE) is the workload's
// namespace); "" when no controller names one.
func ServicesConfigMaps(controllers []*unstructured.Unstructured) (tcp, udp string) {
	for _, u := range controllers {
		containers, _, _ := unstructured.NestedSlice(u.Object, "spec", "template", "spec", "containers")
		for _, c := range containers {
			cm, _ := c.(map[string]any)
			args, _, _ := unstructured.NestedStringSlice(cm, "args")
			for i, a := range args {
				flag, value, hasValue := strings.Cut(a, "=")
				if !hasValue && i+1 < len(args) {
					value = args[i+1]
				}
				value = strings.ReplaceAll(value, "$(POD_NAMESPACE)", u.GetNamespace())
				switch strings.TrimLeft(flag, "-") {
				case "tcp-services-configmap":
					tcp = or(tcp, value)
				case "udp-services-configmap":
					udp = or(udp, value)
				}
			}
		}
	}
	return tcp, udp
}

func (m *model) servicesEntry(cm *corev1.ConfigMap, protocol, port, value string) {
	obj, item := "ConfigMap "+cm.Namespace+"/"+cm.Name, "data."+port
	if n, err := strconv.Atoi(port); err != nil || len(validation.IsValidPortNum(n)) > 0 {
		m.note(obj, item, Dropped, "%q is not a port number.", port)
		return
	}
	target, flags, err := parseServiceEntry(value)
	if err != nil {
		m.note(obj, item, Dropped, "%q: %v.", value, err)
		return
	}
	svc := m.serviceBlock(obj, target.ns, target.name, target.port)
	if !m.l4Protocol(obj, item, svc, protocol) {
		return
	}
	kind, listener := "tcp_route", strings.ReplaceAll(or(m.opts.TCPListener, DefaultTCPListener), "{port}", port)
	if protocol == "UDP" {
		kind, listener = "udp_route", strings.ReplaceAll(or(m.opts.UDPListener, DefaultUDPListener), "{port}", port)
	}
	name := target.name + "-" + port
	m.namespace(target.ns)
	m.addL4(&l4Route{kind: kind, name: name, ns: target.ns, listener: listener, backends: []backend{{svc: svc}}, from: obj, port: port,
		comments: []string{fmt.Sprintf("from %s: port %s (%s)", obj, port, strings.ToLower(protocol))}}, target.ns+"/"+kind+"/"+port)
	if len(flags) > 0 {
		m.note(obj, item, Warning, "%s: PROXY protocol (%s) has no Gateway API standard-channel equivalent; the gateway forwards the connection without it. Configure it on the gateway, or the backend sees the gateway's address.", kind, strings.Join(flags, ", "))
		return
	}
	m.note(obj, item, Translated, "%s %q on listener %q (a %s listener on port %s).", kind, m.l4routes[len(m.l4routes)-1].label, listener, protocol, port)
}

type serviceTarget struct {
	ns, name string
	port     netv1.ServiceBackendPort
}

// parseServiceEntry reads "namespace/name:port[:PROXY[:PROXY]]", the
// format of ingress-nginx's tcp-services and udp-services values; flags
// are the PROXY protocol settings (decode, encode).
func parseServiceEntry(v string) (serviceTarget, []string, error) {
	parts := strings.Split(strings.TrimSpace(v), ":")
	if len(parts) < 2 || len(parts) > 4 {
		return serviceTarget{}, nil, fmt.Errorf("want namespace/service:port")
	}
	ns, name, ok := strings.Cut(parts[0], "/")
	if !ok || len(validation.IsDNS1123Label(ns)) > 0 || len(validation.IsDNS1035Label(name)) > 0 {
		return serviceTarget{}, nil, fmt.Errorf("%q is not namespace/service", parts[0])
	}
	t := serviceTarget{ns: ns, name: name}
	if n, err := strconv.Atoi(parts[1]); err == nil {
		if len(validation.IsValidPortNum(n)) > 0 {
			return t, nil, fmt.Errorf("port %d is not a port number", n)
		}
		t.port.Number = int32(n)
	} else if len(validation.IsValidPortName(parts[1])) == 0 {
		t.port.Name = parts[1]
	} else {
		return t, nil, fmt.Errorf("%q is neither a port number nor a port name", parts[1])
	}
	var flags []string
	for i, p := range parts[2:] {
		switch {
		case p == "":
		case p == "PROXY":
			flags = append(flags, map[int]string{0: "decode", 1: "encode"}[i])
		default:
			return t, nil, fmt.Errorf("%q is not PROXY", p)
		}
	}
	return t, flags, nil
}

// l4Protocols are the listener protocol each L4 block needs.
var l4Protocols = map[string]gwv1.ProtocolType{"tls_route": gwv1.TLSProtocolType, "tcp_route": gwv1.TCPProtocolType, "udp_route": gwv1.UDPProtocolType}

// checkL4Listeners reports, when the input holds the named Gateway, each
// L4 route whose listener it lacks or whose listener carries another
// protocol: the route stays unattached until the Gateway's owner adds it.
func (m *model) checkL4Listeners() {
	if m.gwListeners == nil {
		return
	}
	for _, r := range m.l4routes {
		want := l4Protocols[r.kind]
		var found *gwv1.Listener
		for i := range m.gwListeners {
			if string(m.gwListeners[i].Name) == r.listener {
				found = &m.gwListeners[i]
			}
		}
		obj := or(r.from, r.kind+" "+r.ns+"/"+r.name)
		switch {
		case found == nil:
			m.note(obj, "listener "+r.listener, Warning, "Gateway %s/%s has no listener %q: the %s stays unattached until its owner adds a %s listener %q (port %s), or import again naming an existing one.", m.gwNS, m.gwName, r.listener, r.kind, want, r.listener, or(r.port, "of your choice"))
		case found.Protocol != want:
			m.note(obj, "listener "+r.listener, Warning, "listener %q of Gateway %s/%s is %s; a %s needs a %s listener.", r.listener, m.gwNS, m.gwName, found.Protocol, r.kind, want)
		case want == gwv1.TLSProtocolType && r.from != "" && strings.HasPrefix(r.from, "Ingress ") && (found.TLS == nil || found.TLS.Mode == nil || *found.TLS.Mode != gwv1.TLSModePassthrough):
			m.note(obj, "listener "+r.listener, Warning, "listener %q of Gateway %s/%s does not pass TLS through (tls.mode Passthrough); the backend expects the client's TLS session.", r.listener, m.gwNS, m.gwName)
		}
	}
}

// writeL4Routes writes the tls_route, tcp_route and udp_route blocks,
// sorted by block type and label.
func (m *model) writeL4Routes(body *hclwrite.Body) {
	sort.SliceStable(m.l4routes, func(i, j int) bool {
		a, b := m.l4routes[i], m.l4routes[j]
		return a.kind < b.kind || (a.kind == b.kind && a.label < b.label)
	})
	for _, r := range m.l4routes {
		for _, c := range r.comments {
			comment(body, c)
		}
		b := body.AppendNewBlock(r.kind, []string{r.label}).Body()
		if r.label != r.name {
			b.SetAttributeValue("name", cty.StringVal(r.name))
		}
		b.SetAttributeValue("namespace", cty.StringVal(r.ns))
		b.SetAttributeTraversal("gateway", traversal("gateway", m.gatewayLabel()))
		b.SetAttributeValue("listener", cty.StringVal(r.listener))
		if len(r.hostnames) > 0 {
			b.SetAttributeValue("hostnames", stringList(r.hostnames))
		}
		writeBackends(b, r.backends)
		body.AppendNewline()
	}
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
