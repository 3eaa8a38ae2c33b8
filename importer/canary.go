package importer

import (
	"sort"
	"strconv"
	"strings"

	netv1 "k8s.io/api/networking/v1"
)

// canary merges a canary Ingress into the primary rules for the same host
// and path: canary-weight becomes weighted backends, canary-by-header a rule
// matching the header.
func (m *model) canary(in *netv1.Ingress, index map[string]*rule) {
	obj := ref(in)
	weight, header, value := m.canarySettings(in)
	if weight < 0 && header == "" {
		return // reported: no traffic reaches it
	}
	for _, r := range in.Spec.Rules {
		if r.HTTP == nil {
			continue
		}
		for _, p := range r.HTTP.Paths {
			m.canaryPath(in, r.Host, p, weight, header, value, index)
		}
	}
	if in.Spec.DefaultBackend != nil {
		m.note(obj, "spec.defaultBackend", Dropped, "a canary default backend is not merged; split the default route by hand.")
	}
}

// canarySettings reads and reports the canary annotations.
func (m *model) canarySettings(in *netv1.Ingress) (weight int32, header, value string) {
	obj := ref(in)
	weight = -1
	keys := make([]string, 0, len(in.Annotations))
	for k := range in.Annotations {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	total := int64(100)
	if t, err := strconv.ParseInt(in.Annotations[nginx+"canary-weight-total"], 10, 32); err == nil && t > 0 {
		total = t
	}
	for _, k := range keys {
		v := in.Annotations[k]
		switch strings.TrimPrefix(k, nginx) {
		case "canary":
			m.note(obj, k, Translated, "merged into the primary Ingress's rules for the same host and path.")
		case "canary-weight":
			w, err := strconv.ParseInt(v, 10, 32)
			if err != nil || w < 0 || w > total {
				m.note(obj, k, Dropped, "%q is not a weight between 0 and %d.", v, total)
				continue
			}
			weight = int32(w * 100 / total)
			m.note(obj, k, Translated, "weighted backends: %d%% to the canary.", weight)
		case "canary-weight-total":
			m.note(obj, k, Translated, "weights are written as percentages.")
		case "canary-by-header":
			header = v
			m.note(obj, k, Translated, "a rule matching header %s sends requests to the canary.", v)
		case "canary-by-header-value":
			value = v
			m.note(obj, k, Translated, "the header's exact value.")
		case "canary-by-cookie":
			m.note(obj, k, Dropped, "a cookie-based canary has no Gateway API standard-channel equivalent (exact header matches only); route by header instead.")
		default:
			m.annotation(in, k, v, &ingressSettings{})
		}
	}
	if weight < 0 && header == "" {
		m.note(obj, nginx+"canary", Dropped, "without canary-weight or canary-by-header the canary receives no traffic; it is not imported.")
	}
	if header != "" && value == "" {
		value = "always"
		m.note(obj, nginx+"canary-by-header", Warning, "without canary-by-header-value only the value \"always\" is matched; \"never\" (opting out of the weighted canary) is not.")
	}
	return weight, header, value
}

func (m *model) canaryPath(in *netv1.Ingress, host string, p netv1.HTTPIngressPath, weight int32, header, value string, index map[string]*rule) {
	path, pathType := p.Path, ""
	if path == "" {
		path = "/"
	}
	if p.PathType != nil && *p.PathType == netv1.PathTypeExact {
		pathType = "exact"
	}
	primary := index[in.Namespace+"|"+host+"|"+pathType+"|"+path]
	if msg := invalidServiceName(p.Backend.Service); msg != "" {
		m.note(ref(in), "path "+host+path, Dropped, "%s; the canary path is not imported.", msg)
		return
	}
	if primary == nil || len(primary.backends) == 0 {
		m.note(ref(in), "path "+host+path, Dropped, "no primary Ingress routes this host and path to a service; the canary path is not imported.")
		return
	}
	svc := m.serviceBlock(ref(in), in.Namespace, p.Backend.Service.Name, p.Backend.Service.Port)
	m.isolated(svc)
	m.served(svc)
	if weight >= 0 {
		primary.backends[0].weight = 100 - weight
		primary.backends = append(primary.backends, backend{svc: svc, weight: weight})
	}
	if header != "" {
		hr := *primary
		hr.headers = map[string]string{header: value}
		hr.backends = []backend{{svc: svc}}
		m.insertAfter(primary, &hr)
	}
}

// insertAfter puts r right after the rule prev in its route.
func (m *model) insertAfter(prev, r *rule) {
	for _, rt := range m.routes {
		for i, x := range rt.rules {
			if x == prev {
				rt.rules = append(rt.rules[:i+1], append([]*rule{r}, rt.rules[i+1:]...)...)
				return
			}
		}
	}
}
