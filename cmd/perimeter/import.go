package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/importer"
	"github.com/perimeter-dev/perimeter/internal/outdir"
	"github.com/perimeter-dev/perimeter/manifest"
	"github.com/perimeter-dev/perimeter/ownership"
)

// importFlags are the flags of perimeter import.
type importFlags struct {
	files          []string
	gateway        string
	httpListener   string
	implementation string
	controller     string
	stack          string
	output         string
	namespace      string
	allNamespaces  bool
	cluster        clusterFlags
	l4             importL4Flags
}

func newImport() *cobra.Command {
	var f importFlags
	cmd := &cobra.Command{
		Use:   "import (--from-file F|DIR ... | --namespace N | --all-namespaces) --gateway NS/NAME[:LISTENER]",
		Short: "Write HCL intent from Ingresses, routes, Services and NetworkPolicies",
		Long: `import reads Ingress, IngressClass, Service, NetworkPolicy, Gateway,
HTTPRoute, GRPCRoute, TLSRoute, TCPRoute, UDPRoute and BackendTLSPolicy
objects (and ClusterNetworkPolicy, AdminNetworkPolicy and
BaselineAdminNetworkPolicy, from files or with --all-namespaces, as
guardrail and baseline blocks) and ingress-nginx's tcp-services and
udp-services ConfigMaps from YAML files
(--from-file, repeatable; a directory is read recursively) or from a cluster
(--namespace or --all-namespaces, with --kubeconfig/--context; objects
perimeter manages are skipped), and writes HCL intent: routes on the gateway
named by --gateway, the services they use, namespace baselines and allow
blocks for the policies the language expresses exactly, and verbatim policy
blocks for the rest.

The Gateway named by --gateway stays a reference (perimeter does not manage
it). When its object is read (from the files, or from the cluster even
outside --namespace), an unknown listener in --gateway or --http-listener is
an error that lists its listeners, and its HTTP listener receives the
HTTP-to-HTTPS redirect routes of ssl-redirect unless --http-listener names
another.

The routes isolate their backends, so the Ingress backends also get allow
blocks from the running ingress-nginx controller's pods, in their own file
(migration.hcl), to keep the Ingresses serving until that file is deleted as
the last migration step. The controller is --ingress-controller, else its
Deployment or DaemonSet (read from the files, or from any namespace of the
cluster), else the standard ingress-nginx labels in namespace ingress-nginx.

An Ingress with ssl-passthrough becomes a tls_route per host on the TLS
listener --tls-listener; each entry of the tcp-services (udp-services)
ConfigMap becomes a tcp_route (udp_route) on the listener --tcp-listener
(--udp-listener) names, "{port}" standing for the entry's port. From a
cluster the ConfigMaps --tcp-services and --udp-services name are read.

Every annotation or field that is not carried over exactly is listed in the
report, with the reason. With --out-dir DIR the intent is written to
DIR/main.hcl and DIR/migration.hcl and the report to DIR/import-report.md
(an existing main.hcl or migration.hcl, or a symbolic link at any of the
three, stops the import before it writes anything); otherwise the intent
(both files, one after the other) goes to standard output and the report to
standard error.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runImport(cmd, &f) },
	}
	fl := cmd.Flags()
	fl.StringArrayVar(&f.files, "from-file", nil, "a YAML file or directory to import (repeatable)")
	fl.StringVar(&f.gateway, "gateway", "", "the Gateway routes attach to: namespace/name[:listener] (required)")
	fl.StringVar(&f.httpListener, "http-listener", "", "the gateway's plain-HTTP listener, for ssl-redirect's HTTP-to-HTTPS redirect routes (default: the HTTP listener of the Gateway object, when it is read)")
	fl.StringVar(&f.implementation, "implementation", "", "the gateway's implementation: envoy-gateway, istio or custom (default: from the Gateway's GatewayClass when it is read, else envoy-gateway)")
	fl.StringVar(&f.controller, "ingress-controller", "", "the running ingress-nginx controller's pods, admitted to the backends by migration.hcl: namespace/key=value[,key=value] (default: its Deployment or DaemonSet when read, else ingress-nginx/app.kubernetes.io/name=ingress-nginx,app.kubernetes.io/component=controller)")
	fl.StringVar(&f.stack, "stack", "imported", "the stack name written to the perimeter block")
	registerOutDir(cmd, &f.output, "write DIR/main.hcl, DIR/migration.hcl and DIR/import-report.md instead of printing")
	fl.StringVarP(&f.namespace, "namespace", "n", "", "import from this namespace of the cluster")
	fl.BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "import from every namespace of the cluster")
	f.cluster.register(cmd)
	f.l4.register(cmd)
	_ = cmd.MarkFlagRequired("gateway")
	return cmd
}

func runImport(cmd *cobra.Command, f *importFlags) error {
	live := f.namespace != "" || f.allNamespaces
	switch {
	case live && len(f.files) > 0:
		return errors.New("--from-file and --namespace/--all-namespaces exclude each other")
	case !live && len(f.files) == 0:
		return errors.New("nothing to import: give --from-file, --namespace or --all-namespaces")
	case f.namespace != "" && f.allNamespaces:
		return errors.New("--namespace and --all-namespaces exclude each other")
	}
	var objs []*unstructured.Unstructured
	var err error
	if live {
		objs, err = f.readCluster(cmd.Context())
	} else {
		objs, err = readFiles(f.files)
	}
	if err != nil {
		return err
	}
	opts := importer.Options{Gateway: f.gateway, HTTPListener: f.httpListener,
		Implementation: f.implementation, Stack: f.stack, IngressController: f.controller}
	f.l4.apply(&opts)
	res, err := importer.Import(objs, opts)
	if err != nil {
		return err
	}
	return writeImport(cmd.OutOrStdout(), cmd.ErrOrStderr(), f.output, res)
}

func readFiles(paths []string) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, err
		}
		var objs []*unstructured.Unstructured
		if st.IsDir() {
			objs, err = manifest.ReadDirMax(p, manifestLimit())
		} else {
			objs, err = manifest.ReadFile(p, manifestLimit())
		}
		if err != nil {
			return nil, inputError(err)
		}
		out = append(out, objs...)
	}
	return out, nil
}

// importKinds are the kinds read from a cluster.
var importKinds = []schema.GroupVersionKind{
	{Group: "networking.k8s.io", Version: "v1", Kind: "Ingress"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "IngressClass"},
	{Version: "v1", Kind: "Service"},
	{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "Gateway"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "HTTPRoute"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GRPCRoute"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "TLSRoute"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "TCPRoute"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "UDPRoute"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "BackendTLSPolicy"},
	{Group: "gateway.networking.k8s.io", Version: "v1", Kind: "GatewayClass"},
}

// controllerKinds run the ingress-nginx controller; they are read from
// every namespace, since the controller seldom shares one with its
// backends, and only the controller's are kept.
var controllerKinds = []schema.GroupVersionKind{
	{Group: "apps", Version: "v1", Kind: "Deployment"},
	{Group: "apps", Version: "v1", Kind: "DaemonSet"},
}

// readCluster lists the import kinds; objects perimeter already manages are
// left out.
func (f *importFlags) readCluster(ctx context.Context) ([]*unstructured.Unstructured, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	c, err := f.cluster.connect()
	if err != nil {
		return nil, err
	}
	out, err := f.readControllers(ctx, c)
	if err != nil {
		return nil, err
	}
	cms, err := f.l4.readConfigMaps(ctx, c, out)
	if err != nil {
		return nil, err
	}
	out = append(out, cms...)
	if f.namespace == "" {
		tiers, err := readTiers(ctx, c)
		if err != nil {
			return nil, err
		}
		out = append(out, tiers...)
	}
	for _, gvk := range importKinds {
		ns := f.namespace
		clusterScoped := gvk.Kind == "IngressClass" || gvk.Kind == "GatewayClass"
		if clusterScoped {
			ns = ""
		}
		objs, err := c.List(ctx, gvk, ns, "")
		if meta.IsNoMatchError(err) {
			continue // the cluster does not serve the kind (no Gateway API CRDs, or an older bundle): none to import
		}
		if clusterScoped && apierrors.IsForbidden(err) {
			continue // classes only inform the import; an identity that may not list them imports without
		}
		if err != nil {
			return nil, err
		}
		if gw := f.gatewayRef(); gvk.Kind == "Gateway" && ns != "" && gw.ns != ns {
			// the named Gateway lives outside the namespace read: get it too,
			// for its listeners; without the right to read it, import without
			g, err := c.Get(ctx, gvk, gw.ns, gw.name)
			if err != nil && !apierrors.IsForbidden(err) {
				return nil, err
			}
			if g != nil {
				objs = append(objs, g)
			}
		}
		for _, o := range objs {
			if o.GetLabels()[ownership.LabelManagedBy] != ownership.ManagedByValue {
				o.SetKind(gvk.Kind)
				o.SetAPIVersion(gvk.GroupVersion().String())
				out = append(out, o)
			}
		}
	}
	return out, nil
}

// readControllers finds the running ingress-nginx controller's workloads
// when --ingress-controller does not name it: in every namespace, else (an
// identity that may not list them cluster-wide) in namespace ingress-nginx,
// else none, and the import assumes the standard labels and says so.
func (f *importFlags) readControllers(ctx context.Context, c *cluster.Client) ([]*unstructured.Unstructured, error) {
	if f.controller != "" {
		return nil, nil
	}
	var out []*unstructured.Unstructured
	for _, gvk := range controllerKinds {
		objs, err := c.List(ctx, gvk, "", "")
		if apierrors.IsForbidden(err) {
			objs, err = c.List(ctx, gvk, "ingress-nginx", "")
		}
		if apierrors.IsForbidden(err) || meta.IsNoMatchError(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, o := range objs {
			o.SetKind(gvk.Kind)
			o.SetAPIVersion(gvk.GroupVersion().String())
			if importer.IsIngressNginxController(o) {
				out = append(out, o)
			}
		}
	}
	return out, nil
}

type objectRef struct{ ns, name string }

// gatewayRef is the namespace and name of --gateway (zero when malformed;
// the importer reports that).
func (f *importFlags) gatewayRef() objectRef {
	g, _, _ := strings.Cut(f.gateway, ":")
	ns, name, _ := strings.Cut(g, "/")
	return objectRef{ns, name}
}

func writeImport(stdout, stderr io.Writer, dir string, res *importer.Result) error {
	if dir == "" {
		if _, err := stdout.Write(append(append([]byte{}, res.HCL...), res.Migration...)); err != nil {
			return err
		}
		_, err := io.WriteString(stderr, importer.ReportText(res.Report))
		return err
	}
	out, err := outdir.Create(dir)
	if err != nil {
		return err
	}
	defer out.Close()
	files := []struct {
		name string
		data []byte
	}{{"main.hcl", res.HCL}, {importer.MigrationFile, res.Migration}, {"import-report.md", []byte(importer.ReportMarkdown(res.Report))}}
	for _, name := range []string{"main.hcl", importer.MigrationFile} {
		// an entry of any kind there, a dangling link included, stops the
		// import before it writes anything
		switch _, err := out.Stat(name); {
		case err == nil:
			return fmt.Errorf("%s exists; import writes a new intent, choose an empty --out-dir directory", out.Path(name))
		case !errors.Is(err, fs.ErrNotExist):
			return err
		}
	}
	if _, err := out.Stat("import-report.md"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var written []string
	for _, f := range files {
		if f.data == nil {
			continue
		}
		if err := out.WriteFile(f.name, f.data, 0o644); err != nil {
			return err
		}
		written = append(written, out.Path(f.name))
	}
	last := len(written) - 1
	fmt.Fprintf(stderr, "Wrote %s and %s (%s).\n", strings.Join(written[:last], ", "), written[last], summary(res.Report))
	return nil
}

// summary counts the report's entries by severity.
func summary(entries []importer.Entry) string {
	counts := map[importer.Severity]int{}
	for _, e := range entries {
		counts[e.Severity]++
	}
	var parts []string
	for _, s := range []importer.Severity{importer.Translated, importer.Warning, importer.Dropped, importer.Kept} {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	return strings.Join(parts, ", ")
}
