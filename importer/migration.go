package importer

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2/hclwrite"
)

// MigrationFile is the file the migration allows are written to, beside
// main.hcl: deleting it is the last step of a migration.
const MigrationFile = "migration.hcl"

// legacyPrefix starts the label of every migration allow.
const legacyPrefix = "legacy ingress-nginx -> "

// served records that the running ingress-nginx controller proxies to s: the
// route that makes s a gateway backend isolates its pods, so the migration
// file must keep the controller admitted.
func (m *model) served(s *service) {
	m.legacy[s.key] = s
}

// legacyController settles which pods the migration allows admit:
// Options.IngressController, else the controller workloads in the input,
// else ingress-nginx's standard labels in namespace ingress-nginx. Each
// choice is reported, since a wrong one cuts the running controller off.
func (m *model) legacyController() {
	if len(m.legacy) == 0 {
		for _, u := range m.inControllers {
			m.note(objectRef(u), "", Dropped, "an ingress-nginx controller; no imported Ingress routes to a service, so no migration allow needs it.")
		}
		return
	}
	switch {
	case m.controllerFlag != nil:
		m.controllers = []controller{*m.controllerFlag}
	case len(m.inControllers) > 0:
		for _, u := range m.inControllers {
			if c, ok := controllerFrom(u); ok {
				m.controllers = append(m.controllers, c)
				continue
			}
			m.note(objectRef(u), "spec.selector", Warning, "an ingress-nginx controller, but its selector names no usable labels: it is not admitted by %s; give its pods with --ingress-controller NS/KEY=VALUE,...", MigrationFile)
		}
	}
	if len(m.controllers) == 0 {
		m.controllers = []controller{{ns: standardControllerNamespace, labels: maps.Clone(standardControllerLabels),
			source: "assumed: no controller Deployment or DaemonSet was read"}}
	}
	for _, c := range m.controllers {
		m.noteController(c)
	}
}

// noteController reports where the admitted controller came from and what
// the allows emit for it.
func (m *model) noteController(c controller) {
	obj, sev := c.source, Translated
	if strings.HasPrefix(c.source, "assumed") {
		obj, sev = "ingress-nginx controller", Warning
	}
	admitted := c.String()
	if m.namespaces[c.ns] != nil {
		admitted = "every pod of namespace " + c.ns + ", where the controller runs as " + c.String() + ","
	}
	why := fmt.Sprintf("%s admits %s (%s) to every imported Ingress backend on its target port, so the running controller keeps serving the Ingresses after the first apply; delete %s as the last migration step.", MigrationFile, admitted, c.source, MigrationFile)
	if sev == Warning {
		why += " These are the labels of the Helm chart and the static manifests: if the controller runs elsewhere or with other labels, import again with --ingress-controller NS/KEY=VALUE,... or it is cut off from the backends."
	}
	if m.namespaces[c.ns] != nil {
		why += fmt.Sprintf(" Namespace %s is managed by this intent, so an allow from the controller's pods would also give them an egress policy, cutting them off from the API server among others; namespaces(...) does not.", c.ns)
	} else {
		why += fmt.Sprintf(" Namespace %s is not managed by this intent, so only the backends' side is emitted (perimeter warns \"Egress side not emitted\"): if that namespace restricts egress, its own policies already let the controller reach the backends.", c.ns)
	}
	m.note(obj, MigrationFile, sev, "%s", why)
}

// legacyFrom is the from of every migration allow: the controller's pods,
// or its whole namespace when that namespace is managed here.
func (m *model) legacyFrom() []endpoint {
	var out []endpoint
	for _, c := range m.controllers {
		if m.namespaces[c.ns] != nil {
			out = append(out, endpoint{isNSSel: true, nsSel: map[string]string{"kubernetes.io/metadata.name": c.ns}})
			continue
		}
		out = append(out, endpoint{ns: c.ns, pods: c.labels})
	}
	return out
}

// writeMigration renders the migration file: one allow per backend the
// controller serves, after write has labelled the service blocks. It is
// nil when nothing needs it.
func (m *model) writeMigration() []byte {
	if len(m.legacy) == 0 {
		return nil
	}
	services := slices.Collect(maps.Values(m.legacy))
	sort.Slice(services, func(i, j int) bool { return services[i].label < services[j].label })
	var found []string
	for _, c := range m.controllers {
		found = append(found, fmt.Sprintf("%s (%s)", c, c.source))
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	comment(body, fmt.Sprintf(migrationHeader, m.gwNS, m.gwName, strings.Join(found, "; ")))
	body.AppendNewline()
	from := endpoints(m.legacyFrom())
	for _, s := range services {
		b := body.AppendNewBlock("allow", []string{legacyPrefix + s.label}).Body()
		b.SetAttributeRaw("from", from)
		b.SetAttributeTraversal("to", traversal("service", s.label))
		body.AppendNewline()
	}
	return hclwrite.Format(f.Bytes())
}

const migrationHeader = `Migration from ingress-nginx. DELETE THIS FILE AS THE LAST MIGRATION STEP.

The routes in main.hcl isolate their backends: from the first apply, only
gateway %s/%s and the allow blocks naming a backend reach
its pods. These allows keep the running ingress-nginx controller able to
reach every backend it serves, on the backend's target port, so the
Ingresses keep serving while traffic moves to the gateway.
Controller: %s.

Once clients reach the backends through the gateway and the Ingresses are
deleted, delete this file: perimeter plan then shows only the deletes of
these policies.`
