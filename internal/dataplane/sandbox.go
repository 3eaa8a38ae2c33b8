package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
)

// The node's addresses: the bridge holds NodeIP in PodCIDR; pods get the
// addresses after it. The link to the namespace of the external hosts is a
// /30 of its own.
var (
	NodeIP  = netip.MustParseAddr("10.244.0.1")
	PodCIDR = netip.MustParsePrefix("10.244.0.0/16")
)

const (
	// NodeName is the Node object kube-router runs as.
	NodeName   = "perimeter-node"
	bridgeName = "pbr0"
	worldLink  = "pworld"
	worldNode  = "169.254.99.1"
	worldHost  = "169.254.99.2"
)

// Sandbox is a running node: a bridge in this process's network namespace,
// an API server, kube-router enforcing NetworkPolicies, and a namespace
// holding the external hosts.
type Sandbox struct {
	// Client is an admin client of the sandbox's API server.
	Client kubernetes.Interface

	cp        *controlplane.ControlPlane
	router    *kubeRouter
	runPrefix string
	world     string // namespace of the external hosts
	dir       string

	mu       sync.Mutex
	nextIP   int
	nextLink int
	external map[netip.Addr]bool
	sentinel int
}

// Start starts the sandbox in this process's network namespace, which
// must not be the machine's root namespace.
func Start(ctx context.Context, tools Tools) (sb *Sandbox, err error) {
	if err := mustBeSandboxed("start the packet sandbox"); err != nil {
		return nil, err
	}
	node := os.Getenv(envNode)
	if node == "" || tools.KubeRouter == "" || tools.ControlPlaneDir == "" {
		return nil, errors.New("the sandbox starts only inside dataplane.Main's node namespace")
	}
	began := time.Now()
	sb = &Sandbox{runPrefix: strings.TrimSuffix(node, "node"), external: map[netip.Addr]bool{}}
	defer func() {
		if err != nil {
			sb.Stop()
			sb = nil
		}
	}()
	if sb.dir, err = os.MkdirTemp("", "perimeter-dataplane-"); err != nil {
		return sb, err
	}
	if err := sb.setupNode(); err != nil {
		return sb, fmt.Errorf("setting up the node namespace: %w", err)
	}
	if err := sb.setupWorld(); err != nil {
		return sb, fmt.Errorf("setting up the external hosts' namespace: %w", err)
	}
	if sb.cp, err = controlplane.Start(ctx, controlplane.Options{
		BinaryDir: tools.ControlPlaneDir,
		// No CRDs: only NetworkPolicies are enforced (and a user's
		// check --enforce runs outside any clone of this repository).
		CRDDirs: []string{},
		// The node namespace has no default route to pick an address from.
		APIServerFlags: map[string]string{"advertise-address": NodeIP.String()},
	}); err != nil {
		return sb, err
	}
	if sb.Client, err = kubernetes.NewForConfig(sb.cp.Config); err != nil {
		return sb, err
	}
	if err := sb.createNode(ctx); err != nil {
		return sb, fmt.Errorf("creating the Node: %w", err)
	}
	if err := sb.createSentinelPod(ctx); err != nil {
		return sb, fmt.Errorf("creating the sentinel pod: %w", err)
	}
	kubeconfig := filepath.Join(sb.dir, "kubeconfig")
	if err := controlplane.WriteKubeconfig(kubeconfig, sb.cp.Config, "perimeter-dataplane"); err != nil {
		return sb, err
	}
	if sb.router, err = startKubeRouter(tools.KubeRouter, kubeconfig, filepath.Join(sb.dir, "kube-router.log")); err != nil {
		return sb, err
	}
	if err := sb.router.waitSync(ctx, began, 60*time.Second); err != nil {
		return sb, fmt.Errorf("kube-router's first sync: %w", err)
	}
	fmt.Fprintf(os.Stderr, "dataplane: sandbox up in %v (kube-router log: %s)\n", time.Since(began).Round(10*time.Millisecond), sb.router.logPath)
	return sb, nil
}

// setupNode makes the bridge and turns on forwarding, bridge netfilter
// (so that kube-router's FORWARD rules see traffic between pods on the
// bridge) and unlimited ICMP errors (a REJECT must always answer).
func (sb *Sandbox) setupNode() error {
	for _, c := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", bridgeName, "type", "bridge"},
		{"addr", "add", fmt.Sprintf("%s/%d", NodeIP, PodCIDR.Bits()), "dev", bridgeName},
		{"link", "set", bridgeName, "up"},
	} {
		if err := ip(c...); err != nil {
			return err
		}
	}
	// /proc/sys/net is this process's network namespace's.
	for file, value := range map[string]string{
		"/proc/sys/net/ipv4/ip_forward":                  "1",
		"/proc/sys/net/bridge/bridge-nf-call-iptables":   "1",
		"/proc/sys/net/ipv4/icmp_ratelimit":              "0",
		"/proc/sys/net/ipv4/conf/all/rp_filter":          "0",
		"/proc/sys/net/ipv4/conf/default/rp_filter":      "0",
		"/proc/sys/net/netfilter/nf_conntrack_tcp_loose": "0",
	} {
		if err := os.WriteFile(file, []byte(value), 0o644); err != nil && !strings.Contains(file, "conntrack") {
			return fmt.Errorf("setting %s: %w", file, err)
		}
	}
	return nil
}

// setupWorld makes the namespace of the external hosts, linked to the
// node by a veth; each external address is a /32 on its loopback, routed
// from the node.
func (sb *Sandbox) setupWorld() error {
	sb.world = sb.runPrefix + "world"
	if err := addNetns(sb.world); err != nil {
		return err
	}
	for _, c := range [][]string{
		{"link", "add", worldLink, "type", "veth", "peer", "name", "eth0", "netns", sb.world},
		{"addr", "add", worldNode + "/30", "dev", worldLink},
		{"link", "set", worldLink, "up"},
		{"-n", sb.world, "addr", "add", worldHost + "/30", "dev", "eth0"},
		{"-n", sb.world, "link", "set", "eth0", "up"},
		{"-n", sb.world, "route", "add", "default", "via", worldNode},
	} {
		if err := ip(c...); err != nil {
			return err
		}
	}
	return nil
}

// createNode registers the node with its InternalIP: kube-router finds
// the pods it enforces by status.hostIP.
func (sb *Sandbox) createNode(ctx context.Context) error {
	n, err := sb.Client.CoreV1().Nodes().Create(ctx, &corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: NodeName}}, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	n.Status.Addresses = []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: NodeIP.String()}, {Type: corev1.NodeHostName, Address: NodeName}}
	n.Status.Conditions = []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue, LastHeartbeatTime: metav1.Now(), LastTransitionTime: metav1.Now()}}
	_, err = sb.Client.CoreV1().Nodes().UpdateStatus(ctx, n, metav1.UpdateOptions{})
	return err
}

// Stop stops kube-router and the control plane and removes the sandbox's
// namespaces (the node namespace itself is removed by RunInNode).
func (sb *Sandbox) Stop() {
	if sb == nil {
		return
	}
	if sb.router != nil {
		sb.router.stop()
	}
	if sb.cp != nil {
		if err := sb.cp.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "dataplane: stopping the control plane: %v\n", err)
		}
	}
	for _, n := range ourNetns(sb.runPrefix, false) {
		if n != sb.runPrefix+"node" {
			_ = delNetns(n)
		}
	}
	if sb.dir != "" && os.Getenv("PERIMETER_DATAPLANE_KEEP") == "" {
		_ = os.RemoveAll(sb.dir)
	}
}
