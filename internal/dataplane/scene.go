package dataplane

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"time"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Port is a port a listener serves and a probe connects to.
type Port struct {
	Number   int32
	Protocol corev1.Protocol // TCP or UDP
}

// String is "8080/TCP".
func (p Port) String() string { return fmt.Sprintf("%d/%s", p.Number, p.Protocol) }

// PodSpec describes a pod to create: its Pod object and the ports its
// listeners serve (container ports are not listened on unless in Listen).
type PodSpec struct {
	Namespace, Name string
	Labels          map[string]string
	ContainerPorts  []corev1.ContainerPort
	Listen          []Port
}

// Pod is a pod of a scene: a network namespace with one address on the
// node's bridge, its Pod object, and its listeners.
type Pod struct {
	Spec  PodSpec
	IP    netip.Addr
	netns string
	stop  func()
}

// Key is "namespace/name".
func (p *Pod) Key() string { return p.Spec.Namespace + "/" + p.Spec.Name }

// Host is an address outside the cluster: a /32 in the external hosts'
// namespace, routed from the node.
type Host struct {
	IP   netip.Addr
	stop func()
}

// Scene is one set of pods, hosts and NetworkPolicies in the sandbox.
// Close removes them (namespaces stay: nothing could finish deleting them).
type Scene struct {
	sb         *Sandbox
	ctx        context.Context
	pods       []*Pod
	hosts      []*Host
	namespaces map[string]bool
	policies   []networkingv1.NetworkPolicy
}

// Scene starts an empty scene; a sandbox holds one scene at a time.
func (sb *Sandbox) Scene(ctx context.Context) *Scene {
	return &Scene{sb: sb, ctx: ctx, namespaces: map[string]bool{}}
}

// Namespace creates the namespace or sets its labels to exactly these
// (the API server adds kubernetes.io/metadata.name).
func (sc *Scene) Namespace(name string, labels map[string]string) error {
	api := sc.sb.Client.CoreV1().Namespaces()
	l := map[string]string{}
	for k, v := range labels {
		l[k] = v
	}
	ns, err := api.Get(sc.ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = api.Create(sc.ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: l}}, metav1.CreateOptions{})
	case err == nil:
		ns.Labels = l
		_, err = api.Update(sc.ctx, ns, metav1.UpdateOptions{})
	}
	if err != nil {
		return fmt.Errorf("namespace %s: %w", name, err)
	}
	sc.namespaces[name] = true
	return nil
}

// AddPod creates the pod's network namespace, veth and listeners, and its
// Pod object (Running on the node, with its address). Its namespace must
// have been made with Namespace.
func (sc *Scene) AddPod(spec PodSpec) (*Pod, error) {
	if !sc.namespaces[spec.Namespace] {
		if err := sc.Namespace(spec.Namespace, nil); err != nil {
			return nil, err
		}
	}
	sb := sc.sb
	sb.mu.Lock()
	n := sb.nextIP
	sb.nextIP++
	sb.mu.Unlock()
	if n >= 250*250 {
		return nil, errors.New("the sandbox ran out of pod addresses")
	}
	p := &Pod{Spec: spec, IP: netip.AddrFrom4([4]byte{10, 244, byte(1 + n/250), byte(1 + n%250)}), netns: fmt.Sprintf("%sp%d", sb.runPrefix, n)}
	if err := sc.podNetwork(p, fmt.Sprintf("pv%d", n)); err != nil {
		_ = delNetns(p.netns)
		return nil, fmt.Errorf("pod %s: %w", p.Key(), err)
	}
	sc.pods = append(sc.pods, p)
	stop, err := listen(netnsPath(p.netns), []netip.Addr{p.IP}, spec.Listen)
	if err != nil {
		return nil, fmt.Errorf("pod %s: %w", p.Key(), err)
	}
	p.stop = stop
	if err := sc.podObject(p); err != nil {
		return nil, fmt.Errorf("pod %s: %w", p.Key(), err)
	}
	return p, nil
}

// podNetwork joins a new namespace to the bridge by a veth.
func (sc *Scene) podNetwork(p *Pod, hostLink string) error {
	if err := addNetns(p.netns); err != nil {
		return err
	}
	for _, c := range [][]string{
		{"link", "add", hostLink, "type", "veth", "peer", "name", "eth0", "netns", p.netns},
		{"link", "set", hostLink, "master", bridgeName, "up"},
		{"-n", p.netns, "addr", "add", fmt.Sprintf("%s/%d", p.IP, PodCIDR.Bits()), "dev", "eth0"},
		{"-n", p.netns, "link", "set", "eth0", "up"},
		{"-n", p.netns, "route", "add", "default", "via", NodeIP.String()},
	} {
		if err := ip(c...); err != nil {
			return err
		}
	}
	return nil
}

// podObject creates the Pod and sets its status as a kubelet would.
func (sc *Scene) podObject(p *Pod) error {
	no := false
	pod := &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Namespace: p.Spec.Namespace, Name: p.Spec.Name, Labels: p.Spec.Labels},
		Spec: corev1.PodSpec{
			NodeName:                     NodeName,
			AutomountServiceAccountToken: &no,
			Containers:                   []corev1.Container{{Name: "c", Image: "none", Ports: p.Spec.ContainerPorts}},
		},
	}
	api := sc.sb.Client.CoreV1().Pods(p.Spec.Namespace)
	created, err := api.Create(sc.ctx, pod, metav1.CreateOptions{})
	if err != nil {
		return err
	}
	now := metav1.Now()
	created.Status = corev1.PodStatus{
		Phase:      corev1.PodRunning,
		HostIP:     NodeIP.String(),
		HostIPs:    []corev1.HostIP{{IP: NodeIP.String()}},
		PodIP:      p.IP.String(),
		PodIPs:     []corev1.PodIP{{IP: p.IP.String()}},
		StartTime:  &now,
		Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: now}},
	}
	_, err = api.UpdateStatus(sc.ctx, created, metav1.UpdateOptions{})
	return err
}

// AddHost makes an external address, listening on ports. Only addresses
// outside the pod network, link-local, loopback and multicast ranges are
// accepted: they exist only inside the sandbox.
func (sc *Scene) AddHost(addr netip.Addr, ports []Port) (*Host, error) {
	if err := HostAllowed(addr); err != nil {
		return nil, err
	}
	sb := sc.sb
	sb.mu.Lock()
	dup := sb.external[addr]
	sb.external[addr] = true
	sb.mu.Unlock()
	if dup {
		return nil, fmt.Errorf("external address %s exists already", addr)
	}
	h := &Host{IP: addr}
	if err := ip("-n", sb.world, "addr", "add", addr.String()+"/32", "dev", "lo"); err != nil {
		return nil, err
	}
	if err := ip("route", "add", addr.String()+"/32", "via", worldHost); err != nil {
		return nil, err
	}
	stop, err := listen(netnsPath(sb.world), []netip.Addr{addr}, ports)
	h.stop = func() {
		if stop != nil {
			stop()
		}
		_ = ip("route", "del", addr.String()+"/32", "via", worldHost)
		_ = ip("-n", sb.world, "addr", "del", addr.String()+"/32", "dev", "lo")
		sb.mu.Lock()
		delete(sb.external, addr)
		sb.mu.Unlock()
	}
	sc.hosts = append(sc.hosts, h)
	return h, err
}

// HostAllowed says whether an address can be an external host: IPv4
// unicast outside the pod network and the link-local range (the sandbox's
// own), loopback and multicast.
func HostAllowed(addr netip.Addr) error {
	if !addr.Is4() || !addr.IsGlobalUnicast() || PodCIDR.Contains(addr) || netip.MustParsePrefix("169.254.0.0/16").Contains(addr) {
		return fmt.Errorf("external address %s: not an IPv4 unicast address outside the sandbox's own ranges", addr)
	}
	return nil
}

// Apply creates NetworkPolicies (their namespaces must exist).
func (sc *Scene) Apply(policies []networkingv1.NetworkPolicy) error {
	for _, np := range policies {
		np := *np.DeepCopy()
		np.ResourceVersion, np.UID, np.ManagedFields = "", "", nil
		if _, err := sc.sb.Client.NetworkingV1().NetworkPolicies(np.Namespace).Create(sc.ctx, &np, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
		}
		sc.policies = append(sc.policies, np)
	}
	return nil
}

// settle is how long the API server's watchers (kube-router's informers)
// get to see a change before the sync that must include it is started.
const settle = 400 * time.Millisecond

// Sync waits until kube-router enforces everything done so far: it lets
// the informers catch up, then creates a new sentinel policy (selecting
// the sentinel pod, which has no network), which triggers a sync, and
// waits for a sync that started after that to finish with the sentinel's
// ipset holding the sentinel pod's address: proof that kube-router's
// caches had a policy and a pod written after every change of the scene.
func (sc *Scene) Sync() error {
	time.Sleep(settle)
	mark := time.Now() // before the change that triggers the sync
	name, err := sc.sb.newSentinel(sc.ctx)
	if err != nil {
		return fmt.Errorf("triggering a kube-router sync: %w", err)
	}
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			mark = time.Now()
			if err := sc.sb.touchSentinel(sc.ctx, name, attempt); err != nil {
				return fmt.Errorf("triggering a kube-router sync: %w", err)
			}
		}
		if err := sc.sb.router.waitSync(sc.ctx, mark, 30*time.Second); err != nil {
			return err
		}
		if sentinelEnforced(name) {
			return nil
		}
		if attempt == 10 {
			return fmt.Errorf("kube-router's syncs do not include the sentinel policy %s (see %s)", name, sc.sb.router.logPath)
		}
	}
}

// Close removes the scene's policies, pods (objects, namespaces,
// listeners) and hosts, and waits until kube-router has forgotten them.
func (sc *Scene) Close() error {
	var errs []error
	zero := int64(0)
	del := metav1.DeleteOptions{GracePeriodSeconds: &zero}
	for _, np := range sc.policies {
		errs = append(errs, ignoreNotFound(sc.sb.Client.NetworkingV1().NetworkPolicies(np.Namespace).Delete(sc.ctx, np.Name, del)))
	}
	for _, p := range sc.pods {
		errs = append(errs, ignoreNotFound(sc.sb.Client.CoreV1().Pods(p.Spec.Namespace).Delete(sc.ctx, p.Spec.Name, del)))
		if p.stop != nil {
			p.stop()
		}
		errs = append(errs, delNetns(p.netns))
	}
	for _, h := range sc.hosts {
		h.stop()
	}
	sc.pods, sc.hosts, sc.policies = nil, nil, nil
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return sc.Sync()
}

func ignoreNotFound(err error) error {
	if apierrors.IsNotFound(err) {
		return nil
	}
	return err
}
