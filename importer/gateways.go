package importer

import (
	"fmt"
	"sort"
	"strings"

	gwv1 "sigs.k8s.io/gateway-api/apis/v1"

	"github.com/perimeter-dev/perimeter/hclspec"
)

// gateways reads the Gateway objects of the input. The one named by
// Options.Gateway checks the listener the routes attach to and names the
// plain-HTTP listener for ssl-redirect; it stays a reference (a gateway
// block without manage): the Gateway belongs to whoever created it, and
// perimeter would refuse to plan over it. Other Gateways are reported.
func (m *model) gateways() error {
	sort.Slice(m.inGateways, func(i, j int) bool {
		a, b := m.inGateways[i], m.inGateways[j]
		return a.Namespace+"/"+a.Name < b.Namespace+"/"+b.Name
	})
	named := false // the input holds the Gateway the routes attach to
	for _, g := range m.inGateways {
		obj := "Gateway " + g.Namespace + "/" + g.Name
		if g.Namespace != m.gwNS || g.Name != m.gwName {
			m.note(obj, "", Dropped, "not the gateway named by --gateway (%s/%s): routes attached to it are attached to %s/%s instead (reported per route).", m.gwNS, m.gwName, m.gwNS, m.gwName)
			continue
		}
		named = true
		m.gwListeners = g.Spec.Listeners
		if m.gwListeners == nil {
			m.gwListeners = []gwv1.Listener{}
		}
		var names, described []string
		httpListener := ""
		for _, l := range g.Spec.Listeners {
			names = append(names, string(l.Name))
			described = append(described, fmt.Sprintf("%s (%s %d)", l.Name, l.Protocol, l.Port))
			if l.Protocol == gwv1.HTTPProtocolType && httpListener == "" {
				httpListener = string(l.Name)
			}
		}
		listeners := strings.Join(described, ", ")
		if len(described) == 0 {
			listeners = "none"
		}
		for _, want := range []struct{ flag, name string }{{"--gateway", m.gwListener}, {"--http-listener", m.httpListener}} {
			if want.name != "" && !contains(names, want.name) {
				return fmt.Errorf("%s: gateway %s/%s has no listener %q; its listeners: %s", want.flag, m.gwNS, m.gwName, want.name, listeners)
			}
		}
		why := fmt.Sprintf("the gateway the routes attach to, written as a gateway block that refers to it (perimeter does not manage the Gateway object). Listeners: %s.", listeners)
		if m.httpListener == "" && httpListener != "" {
			m.httpListener = httpListener
			why += fmt.Sprintf(" HTTP-to-HTTPS redirects (ssl-redirect) attach to its plain-HTTP listener %q.", httpListener)
		}
		if m.gwListener == "" {
			why += " Routes attach to every listener; name one with --gateway ns/name:LISTENER."
		}
		m.note(obj, "", Translated, "%s", why)
		m.implementationFrom(obj, g)
	}
	if m.opts.Implementation == "" {
		if !named {
			m.note("Gateway "+m.gwNS+"/"+m.gwName, "", Warning, "not in the input, so its implementation is assumed to be envoy-gateway; if it is not, set --implementation (istio, or custom with a data_plane block), or the gateway's traffic to the backends is denied.")
		}
		m.opts.Implementation = string(hclspec.EnvoyGateway)
	}
	return nil
}

// controllers are the GatewayClass controller names of the implementations
// perimeter knows the data-plane pods of.
var controllers = map[gwv1.GatewayController]hclspec.Implementation{
	"gateway.envoyproxy.io/gatewayclass-controller": hclspec.EnvoyGateway,
	"istio.io/gateway-controller":                   hclspec.Istio,
}

// implementationFrom reads the implementation off the Gateway's class: the
// gateway-admission policies select its data-plane pods, so a wrong one
// cuts the gateway off from every backend once applied.
func (m *model) implementationFrom(obj string, g *gwv1.Gateway) {
	var class *gwv1.GatewayClass
	for _, c := range m.inClasses {
		if c.Name == string(g.Spec.GatewayClassName) {
			class = c
		}
	}
	if class == nil {
		if m.opts.Implementation == "" {
			m.note(obj, "spec.gatewayClassName", Warning, "GatewayClass %q is not in the input, so the implementation is assumed to be envoy-gateway; if it is not, set --implementation (istio, or custom with a data_plane block), or the gateway's traffic to the backends is denied.", g.Spec.GatewayClassName)
		}
		return
	}
	known, ok := controllers[class.Spec.ControllerName]
	switch {
	case !ok:
		m.note(obj, "spec.gatewayClassName", Warning, "GatewayClass %s is run by %s, which perimeter does not know the data-plane pods of; write implementation = \"custom\" with a data_plane block that selects them, or the gateway's traffic to the backends is denied.", class.Name, class.Spec.ControllerName)
	case m.opts.Implementation == "":
		m.opts.Implementation = string(known)
		m.note(obj, "spec.gatewayClassName", Translated, "implementation = %q, from GatewayClass %s (controller %s).", known, class.Name, class.Spec.ControllerName)
	case m.opts.Implementation != string(known):
		m.note(obj, "spec.gatewayClassName", Warning, "--implementation %s, but GatewayClass %s is run by %s (%s): the gateway-admission policies select %s's data-plane pods.", m.opts.Implementation, class.Name, class.Spec.ControllerName, known, m.opts.Implementation)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
