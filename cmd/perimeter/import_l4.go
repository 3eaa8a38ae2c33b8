package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/importer"
)

// importL4Flags name the listeners and ConfigMaps of the TLS passthrough,
// TCP and UDP imports.
type importL4Flags struct {
	tlsListener, tcpListener, udpListener string
	tcpServices, udpServices              string
}

// The ConfigMaps read from a cluster when neither the flags nor the
// controller's arguments name others: the names ingress-nginx's
// documentation on exposing TCP and UDP services uses.
const (
	defaultTCPServices = "ingress-nginx/tcp-services"
	defaultUDPServices = "ingress-nginx/udp-services"
)

func (f *importL4Flags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.tlsListener, "tls-listener", importer.DefaultTLSListener, "the gateway's TLS listener in Passthrough mode, for the tls_routes of ssl-passthrough Ingresses")
	fl.StringVar(&f.tcpListener, "tcp-listener", importer.DefaultTCPListener, "the listener of each tcp-services entry; {port} is the entry's port")
	fl.StringVar(&f.udpListener, "udp-listener", importer.DefaultUDPListener, "the listener of each udp-services entry; {port} is the entry's port")
	fl.StringVar(&f.tcpServices, "tcp-services", "", "namespace/name of ingress-nginx's tcp-services ConfigMap (default: the controller's --tcp-services-configmap when its workload is read, else a ConfigMap named tcp-services in the files, "+defaultTCPServices+" in a cluster)")
	fl.StringVar(&f.udpServices, "udp-services", "", "namespace/name of ingress-nginx's udp-services ConfigMap (default: the controller's --udp-services-configmap when its workload is read, else a ConfigMap named udp-services in the files, "+defaultUDPServices+" in a cluster)")
}

func (f *importL4Flags) apply(o *importer.Options) {
	o.TLSListener, o.TCPListener, o.UDPListener = f.tlsListener, f.tcpListener, f.udpListener
	o.TCPServices, o.UDPServices = f.tcpServices, f.udpServices
}

// readConfigMaps gets the tcp-services and udp-services ConfigMaps from
// the cluster: the ones the flags name, else the ones the controller's
// arguments name (controllers are its workloads, as read), else the
// documented names. One the flags name must exist; another that does not,
// or that the identity may not read, is none, and the import then makes no
// tcp or udp routes. The flags are set to what was read, so the importer
// recognises the ConfigMaps by namespace and name.
func (f *importL4Flags) readConfigMaps(ctx context.Context, c *cluster.Client, controllers []*unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	var out []*unstructured.Unstructured
	tcp, udp := importer.ServicesConfigMaps(controllers)
	for _, ref := range []*string{&f.tcpServices, &f.udpServices} {
		explicit := *ref != ""
		if !explicit {
			isTCP := ref == &f.tcpServices
			*ref = map[bool]string{true: tcp, false: udp}[isTCP]
			if *ref == "" {
				*ref = map[bool]string{true: defaultTCPServices, false: defaultUDPServices}[isTCP]
			}
		}
		ns, name, ok := strings.Cut(*ref, "/")
		if !ok || ns == "" || name == "" {
			return nil, fmt.Errorf("%q: want namespace/name of a ConfigMap", *ref)
		}
		gvk := schema.GroupVersionKind{Version: "v1", Kind: "ConfigMap"}
		cm, err := c.Get(ctx, gvk, ns, name)
		if explicit && (apierrors.IsNotFound(err) || (err == nil && cm == nil)) {
			return nil, fmt.Errorf("ConfigMap %s/%s (named by a flag) does not exist", ns, name)
		}
		if apierrors.IsForbidden(err) || apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if cm != nil {
			cm.SetKind(gvk.Kind)
			cm.SetAPIVersion("v1")
			out = append(out, cm)
		}
	}
	return out, nil
}
