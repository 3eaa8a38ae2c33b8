// Package testcluster gives tests a real Kubernetes API server: etcd and
// kube-apiserver v1.37 (built by hack/controlplane.sh) with RBAC on and the
// standard channels of the Gateway API and ClusterNetworkPolicy
// (sigs.k8s.io/network-policy-api) CRDs installed. One control plane serves
// a whole test package; it starts on first use and is stopped when the
// package's tests end, even when a test panics or times out.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { testcluster.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		c := testcluster.Get(t)
//		ns := c.Namespace(t)
//		cs := kubernetes.NewForConfigOrDie(c.Config)
//		...
//	}
//
// When the control plane cannot be had, tests fail if CI=true and are
// skipped otherwise (with the reason). With -short and without CI=true the
// binaries are not even looked for.
package testcluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/perimeter-dev/perimeter/internal/controlplane"
)

// ContextName is the kubeconfig context of the files this package writes.
const ContextName = "perimeter-test"

// Cluster is the package's shared control plane.
type Cluster struct {
	// Config authenticates as the admin (group system:masters).
	Config *rest.Config
	// Kubeconfig is the path of a kubeconfig file for the admin, with the
	// current context ContextName.
	Kubeconfig string
	// BinaryDir holds the kube-apiserver, etcd and kubectl binaries
	// (kubectl is at filepath.Join(BinaryDir, "kubectl")).
	BinaryDir string

	cp    *controlplane.ControlPlane
	admin kubernetes.Interface
}

var shared struct {
	mu        sync.Mutex
	inMain    bool
	binDir    string
	binErr    error
	startOnce sync.Once
	cluster   *Cluster
	err       error
}

// Required reports whether tests must fail, not skip, without a control
// plane: when the environment variable CI is true.
func Required() bool {
	ci, _ := strconv.ParseBool(os.Getenv("CI"))
	return ci
}

// Main runs the package's tests with a shared control plane and exits. Call
// it from TestMain. The control plane binaries are located (and built, if
// missing) before the tests run; the control plane starts on the first
// Get and is stopped when the tests end or on SIGINT/SIGTERM. If the process
// dies otherwise (a panicking or timed-out test), a reaper process stops it.
func Main(m *testing.M) {
	flag.Parse()
	os.Exit(run(m))
}

// Run is Main without the exit, for a TestMain that hands the tests to
// another runner (such as testscript.Main): wrap m in a type whose Run
// method calls testcluster.Run(m).
func Run(m *testing.M) int {
	if !flag.Parsed() {
		flag.Parse()
	}
	return run(m)
}

func run(m *testing.M) int {
	shared.mu.Lock()
	shared.inMain = true
	shared.mu.Unlock()

	if testing.Short() && !Required() {
		shared.binErr = errors.New("-short: tests that need a control plane are skipped")
	} else {
		// Outside the tests' -timeout: a first build takes minutes.
		shared.binDir, shared.binErr = controlplane.BinaryDir(context.Background(), true, os.Stderr)
		if shared.binErr != nil {
			fmt.Fprintf(os.Stderr, "testcluster: no control plane binaries: %v\n", shared.binErr)
			if Required() {
				fmt.Fprintln(os.Stderr, "testcluster: CI=true, so this is a failure, not a skip")
				return 1
			}
		}
	}

	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		s := <-sigs
		fmt.Fprintf(os.Stderr, "testcluster: %v: stopping the control plane\n", s)
		stop()
		os.Exit(130)
	}()
	defer stop()
	return m.Run()
}

func stop() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if c := shared.cluster; c != nil {
		began := time.Now()
		if err := c.cp.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "testcluster: stopping the control plane: %v\n", err)
		}
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "testcluster: control plane stopped in %v\n", time.Since(began).Round(10*time.Millisecond))
		}
		shared.cluster = nil
	}
}

// Get returns the package's control plane, starting it on first use. It
// fails the test when CI=true and the control plane is unavailable, and
// skips it otherwise.
func Get(t testing.TB) *Cluster {
	t.Helper()
	shared.mu.Lock()
	inMain := shared.inMain
	shared.mu.Unlock()
	if !inMain {
		t.Fatal("testcluster.Get needs testcluster.Main: add `func TestMain(m *testing.M) { testcluster.Main(m) }` to the package")
	}
	shared.startOnce.Do(func() {
		c, err := start()
		shared.mu.Lock()
		shared.cluster, shared.err = c, err
		shared.mu.Unlock()
	})
	shared.mu.Lock()
	c, err := shared.cluster, shared.err
	shared.mu.Unlock()
	if err == nil && c == nil {
		err = errors.New("the control plane was stopped")
	}
	if err != nil {
		if Required() {
			t.Fatalf("control plane unavailable (CI=true, so this fails): %v", err)
		}
		t.Skipf("control plane unavailable: %v", err)
	}
	return c
}

func start() (*Cluster, error) {
	if shared.binErr != nil {
		return nil, shared.binErr
	}
	began := time.Now()
	// KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true shows the processes' logs.
	cp, err := controlplane.Start(context.Background(), controlplane.Options{BinaryDir: shared.binDir})
	if err != nil {
		return nil, err
	}
	c := &Cluster{Config: cp.Config, BinaryDir: cp.BinaryDir, cp: cp}
	fail := func(err error) (*Cluster, error) {
		_ = cp.Stop()
		return nil, err
	}
	// Inside the control plane's folder, so it goes away with it.
	c.Kubeconfig = filepath.Join(cp.Dir(), "admin.kubeconfig")
	if err := controlplane.WriteKubeconfig(c.Kubeconfig, c.Config, ContextName); err != nil {
		return fail(err)
	}
	if c.admin, err = kubernetes.NewForConfig(c.Config); err != nil {
		return fail(err)
	}
	if testing.Verbose() {
		fmt.Fprintf(os.Stderr, "testcluster: control plane at %s started in %v\n", c.Config.Host, time.Since(began).Round(10*time.Millisecond))
	}
	return c, nil
}

// Namespace creates a namespace with a unique name for this test and returns
// its name. Namespaces are not deleted (there is no namespace controller to
// finish the deletion); the whole control plane goes away after the package.
func (c *Cluster) Namespace(t testing.TB) string {
	t.Helper()
	name := dnsName(t.Name(), 40) + "-" + randomSuffix(t)
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if _, err := c.admin.CoreV1().Namespaces().Create(context.Background(), ns, metav1.CreateOptions{}); err != nil {
		t.Fatalf("creating namespace %s: %v", name, err)
	}
	return name
}

// User returns a config authenticating as a new client-certificate identity
// with the given name and groups. RBAC grants it nothing by itself (beyond
// what every authenticated user may do, such as discovery).
func (c *Cluster) User(t testing.TB, name string, groups ...string) *rest.Config {
	t.Helper()
	cfg, err := c.cp.AddUser(name, groups...)
	if err != nil {
		t.Fatalf("provisioning user %s: %v", name, err)
	}
	return cfg
}

// RestrictedConfig returns a config for a new identity named name that may
// do exactly what rules allow: in namespace through a Role and RoleBinding,
// or cluster-wide through a ClusterRole and ClusterRoleBinding when namespace
// is "". It returns once the API server enforces the grant. Use a name that
// is unique in the package.
func (c *Cluster) RestrictedConfig(t testing.TB, name string, rules []rbacv1.PolicyRule, namespace string) *rest.Config {
	t.Helper()
	ctx := context.Background()
	object := "perimeter-test-" + dnsName(name, 40)
	subject := []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: name}}
	var err error
	if namespace == "" {
		_, err = c.admin.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{
			ObjectMeta: metav1.ObjectMeta{Name: object}, Rules: rules,
		}, metav1.CreateOptions{})
		if err == nil {
			_, err = c.admin.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: object},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: object},
				Subjects:   subject,
			}, metav1.CreateOptions{})
		}
	} else {
		_, err = c.admin.RbacV1().Roles(namespace).Create(ctx, &rbacv1.Role{
			ObjectMeta: metav1.ObjectMeta{Name: object}, Rules: rules,
		}, metav1.CreateOptions{})
		if err == nil {
			_, err = c.admin.RbacV1().RoleBindings(namespace).Create(ctx, &rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: object},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: object},
				Subjects:   subject,
			}, metav1.CreateOptions{})
		}
	}
	if err != nil {
		t.Fatalf("granting %s its rules: %v", name, err)
	}
	c.waitForGrant(t, name, rules, namespace)
	return c.User(t, name)
}

// waitForGrant polls SubjectAccessReviews until every resource rule is in
// effect: the RBAC authorizer learns of new bindings through a watch.
func (c *Cluster) waitForGrant(t testing.TB, user string, rules []rbacv1.PolicyRule, namespace string) {
	t.Helper()
	pick := func(values []string, wildcard string) string {
		if len(values) == 0 || values[0] == rbacv1.VerbAll {
			return wildcard
		}
		return values[0]
	}
	for _, r := range rules {
		if len(r.Resources) == 0 {
			continue // non-resource URLs
		}
		attrs := &authorizationv1.ResourceAttributes{
			Namespace: namespace,
			Verb:      pick(r.Verbs, "get"),
			Group:     pick(r.APIGroups, ""),
			Resource:  pick(r.Resources, "configmaps"),
		}
		if len(r.ResourceNames) > 0 {
			attrs.Name = r.ResourceNames[0]
		}
		if res, sub, ok := strings.Cut(attrs.Resource, "/"); ok {
			attrs.Resource, attrs.Subresource = res, sub
		}
		err := wait.PollUntilContextTimeout(context.Background(), 50*time.Millisecond, 15*time.Second, true,
			func(ctx context.Context) (bool, error) {
				sar, err := c.admin.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authorizationv1.SubjectAccessReview{
					Spec: authorizationv1.SubjectAccessReviewSpec{User: user, ResourceAttributes: attrs},
				}, metav1.CreateOptions{})
				if err != nil {
					return false, err
				}
				return sar.Status.Allowed, nil
			})
		if err != nil {
			t.Fatalf("waiting for %s to be allowed to %s %s: %v", user, attrs.Verb, attrs.Resource, err)
		}
	}
}

// WriteKubeconfig writes a kubeconfig for cfg (e.g. a RestrictedConfig) into
// the test's temporary folder, with the current context ContextName, and
// returns its path.
func (c *Cluster) WriteKubeconfig(t testing.TB, cfg *rest.Config) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kubeconfig")
	if err := controlplane.WriteKubeconfig(path, cfg, ContextName); err != nil {
		t.Fatalf("writing kubeconfig: %v", err)
	}
	return path
}

// dnsName lowercases s and keeps it a valid DNS label prefix of at most max
// characters.
func dnsName(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if b.Len() >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.Trim(b.String(), "-")
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	if out == "" {
		out = "test"
	}
	return out
}

func randomSuffix(t testing.TB) string {
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b[:])
}
