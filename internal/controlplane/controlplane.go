// Package controlplane starts a real, local Kubernetes control plane
// (etcd + kube-apiserver, built from the Go module proxy by
// hack/controlplane.sh) with the Gateway API CRDs installed.
//
// It is shared by the test helper internal/testcluster and the long-running
// local cluster in hack/cluster. The processes are started through
// controller-runtime's envtest, with RBAC authorization on and an admin
// identity in system:masters. A small reaper process kills them if the
// process that started them dies without calling Stop (a panicking or
// timed-out test, SIGKILL), so no kube-apiserver or etcd is ever left behind.
package controlplane

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
)

// Binaries are the programs a control plane folder must hold.
var Binaries = []string{"kube-apiserver", "etcd", "kubectl"}

// EnvCacheDir overrides the cache root used by hack/controlplane.sh
// (default <repo>/.cache/controlplane), e.g. to share one build between
// several clones.
const EnvCacheDir = "PERIMETER_CONTROLPLANE_DIR"

// GatewayAPIModule is the module whose config/crd/standard CRDs are installed.
const GatewayAPIModule = "sigs.k8s.io/gateway-api"

// NetworkPolicyAPIModule is the module whose config/crd/standard
// ClusterNetworkPolicy CRD is installed (Admin and Baseline tiers).
const NetworkPolicyAPIModule = "sigs.k8s.io/network-policy-api"

// Options configure Start. The zero value is ready to use.
type Options struct {
	// BinaryDir holds kube-apiserver, etcd and kubectl. Empty: ask
	// hack/controlplane.sh, building them if they are missing.
	BinaryDir string
	// CRDDirs are folders of CRD manifests to install. Nil: the standard
	// channels of the Gateway API and network-policy-api modules this
	// repository requires.
	CRDDirs []string
	// Output receives the control plane's stdout and stderr (nil: discarded)
	// and the build log of hack/controlplane.sh (nil: os.Stderr).
	Output io.Writer
	// StartTimeout bounds the start of each process (default 60s).
	StartTimeout time.Duration
	// APIServerFlags are extra kube-apiserver flags, name (without --) to
	// value: advertise-address in a network namespace without a default
	// route; an audit log for bench/cluster's request counts.
	APIServerFlags map[string]string
}

// ControlPlane is a running etcd + kube-apiserver.
type ControlPlane struct {
	// Config authenticates as the admin user (group system:masters).
	Config *rest.Config
	// BinaryDir is the folder holding kube-apiserver, etcd and kubectl.
	BinaryDir string

	env    *envtest.Environment
	dir    string
	reaper *reaper
}

// Start starts etcd and kube-apiserver, provisions the admin identity and
// installs the CRDs, waiting until they are served. Call Stop when done.
// A start that fails (on a heavily loaded machine a request can time out)
// is cleaned up and tried once more.
func Start(ctx context.Context, opts Options) (*ControlPlane, error) {
	opts, err := opts.withDefaults(ctx)
	if err != nil {
		return nil, err
	}
	cp, err := start(opts)
	if err != nil && ctx.Err() == nil {
		log := opts.Output
		if log == nil {
			log = os.Stderr
		}
		fmt.Fprintf(log, "controlplane: %v; trying once more\n", err)
		cp, err = start(opts)
	}
	return cp, err
}

func (opts Options) withDefaults(ctx context.Context) (Options, error) {
	var err error
	if opts.BinaryDir == "" {
		log := opts.Output
		if log == nil {
			log = os.Stderr
		}
		if opts.BinaryDir, err = BinaryDir(ctx, true, log); err != nil {
			return opts, err
		}
	}
	if err := checkBinaries(opts.BinaryDir); err != nil {
		return opts, err
	}
	if opts.CRDDirs == nil {
		for _, module := range []string{GatewayAPIModule, NetworkPolicyAPIModule} {
			dir, err := ModuleCRDDir(ctx, module, "standard")
			if err != nil {
				return opts, err
			}
			opts.CRDDirs = append(opts.CRDDirs, dir)
		}
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 60 * time.Second
	}
	return opts, nil
}

func start(opts Options) (cp *ControlPlane, err error) {
	// One folder for everything the processes write, so that both Stop and
	// the reaper can remove it.
	dir, err := os.MkdirTemp("", "perimeter-controlplane-")
	if err != nil {
		return nil, err
	}
	cp = &ControlPlane{BinaryDir: opts.BinaryDir, dir: dir}
	defer func() {
		if err != nil {
			_ = cp.Stop()
			cp = nil
		}
	}()
	for _, sub := range []string{"apiserver", "etcd"} {
		if err := os.Mkdir(filepath.Join(dir, sub), 0o700); err != nil {
			return cp, err
		}
	}
	if cp.reaper, err = startReaper(dir); err != nil {
		return cp, fmt.Errorf("starting the reaper: %w", err)
	}

	api := &envtest.APIServer{
		// Explicit paths: envtest would otherwise prefer KUBEBUILDER_ASSETS
		// and TEST_ASSET_* from the environment, which may name other versions.
		Path:    filepath.Join(opts.BinaryDir, "kube-apiserver"),
		CertDir: filepath.Join(dir, "apiserver"),
		Out:     opts.Output,
		Err:     opts.Output,
	}
	api.Configure().
		// Real authorization, so permission tests mean something.
		Set("authorization-mode", "RBAC").
		// kube-apiserver >= 1.37 exits when it would advertise a loopback
		// address through the endpoint reconciler.
		Set("endpoint-reconciler-type", "none")
	for _, name := range slices.Sorted(maps.Keys(opts.APIServerFlags)) {
		api.Configure().Set(name, opts.APIServerFlags[name])
	}
	cp.env = &envtest.Environment{
		ControlPlane: envtest.ControlPlane{
			APIServer: api,
			Etcd: &envtest.Etcd{
				Path:    filepath.Join(opts.BinaryDir, "etcd"),
				DataDir: filepath.Join(dir, "etcd"),
				Out:     opts.Output,
				Err:     opts.Output,
			},
			KubectlPath: filepath.Join(opts.BinaryDir, "kubectl"),
		},
		BinaryAssetsDirectory:    opts.BinaryDir,
		CRDDirectoryPaths:        opts.CRDDirs,
		ErrorIfCRDPathMissing:    true,
		ControlPlaneStartTimeout: opts.StartTimeout,
		ControlPlaneStopTimeout:  30 * time.Second,
	}

	// Tell the reaper about etcd and kube-apiserver as soon as they exist.
	watchCtx, stopWatch := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		cp.reaper.watchChildren(watchCtx)
	}()
	cfg, err := cp.env.Start()
	stopWatch()
	<-watched
	if err != nil {
		return cp, fmt.Errorf("starting the control plane from %s: %w", opts.BinaryDir, err)
	}
	cp.reaper.resetToChildren()
	cp.Config = cfg
	return cp, nil
}

// Stop stops kube-apiserver and etcd and removes their data. It is safe to
// call more than once and on a partly started control plane.
func (cp *ControlPlane) Stop() error {
	if cp == nil {
		return nil
	}
	var errs []error
	if cp.env != nil {
		errs = append(errs, cp.env.Stop())
		cp.env = nil
	}
	if cp.reaper != nil {
		if errors.Join(errs...) == nil {
			// The processes are gone: the reaper must not kill anything.
			cp.reaper.release()
		} else {
			// Something may still run: let the reaper kill it now.
			cp.reaper.abandon()
		}
		cp.reaper = nil
	}
	if cp.dir != "" {
		errs = append(errs, os.RemoveAll(cp.dir))
		cp.dir = ""
	}
	return errors.Join(errs...)
}

// Dir is a private folder of the control plane for files that should go
// away with it (kubeconfigs, say): Stop removes it, and so does the reaper.
func (cp *ControlPlane) Dir() string { return cp.dir }

// AddUser provisions a client-certificate identity with the given name and
// groups. It has no permissions beyond what RBAC grants it.
func (cp *ControlPlane) AddUser(name string, groups ...string) (*rest.Config, error) {
	u, err := cp.env.AddUser(envtest.User{Name: name, Groups: groups}, rest.CopyConfig(cp.Config))
	if err != nil {
		return nil, err
	}
	return u.Config(), nil
}

// Kubeconfig serialises cfg as a kubeconfig whose current context is
// contextName.
func Kubeconfig(cfg *rest.Config, contextName string) ([]byte, error) {
	kc := clientcmdapi.NewConfig()
	kc.Clusters[contextName] = &clientcmdapi.Cluster{
		Server:                   cfg.Host,
		CertificateAuthorityData: cfg.CAData,
	}
	kc.AuthInfos[contextName] = &clientcmdapi.AuthInfo{
		ClientCertificateData: cfg.CertData,
		ClientKeyData:         cfg.KeyData,
		Token:                 cfg.BearerToken,
	}
	kc.Contexts[contextName] = &clientcmdapi.Context{Cluster: contextName, AuthInfo: contextName}
	kc.CurrentContext = contextName
	return clientcmd.Write(*kc)
}

// WriteKubeconfig writes Kubeconfig(cfg, contextName) to path atomically,
// readable by the owner only.
func WriteKubeconfig(path string, cfg *rest.Config, contextName string) error {
	data, err := Kubeconfig(cfg, contextName)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".kubeconfig-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// RepoRoot finds the perimeter repository containing the working directory
// (the folder with hack/controlplane.sh).
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "controlplane.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/controlplane.sh not found in the working directory or its parents: run from inside the perimeter repository")
		}
		dir = parent
	}
}

// BinaryDir returns the folder holding the control plane binaries, as
// printed by hack/controlplane.sh (which honours PERIMETER_CONTROLPLANE_DIR).
// With build, a missing build is made first (about 5 minutes cold); its log
// goes to log. Without build, a missing build is an error.
func BinaryDir(ctx context.Context, build bool, log io.Writer) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	args := []string{filepath.Join(root, "hack", "controlplane.sh")}
	if !build {
		args = append(args, "--print")
	}
	cmd := exec.CommandContext(ctx, "bash", args...)
	cmd.Dir = root
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	if log != nil {
		cmd.Stderr = io.MultiWriter(&stderr, log)
	}
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("hack/controlplane.sh: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	dir := lastLine(stdout.String())
	if err := checkBinaries(dir); err != nil {
		return "", err
	}
	return dir, nil
}

func lastLine(s string) string {
	var last string
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			last = l
		}
	}
	return last
}

func checkBinaries(dir string) error {
	if dir == "" {
		return errors.New("no control plane binary folder")
	}
	for _, b := range Binaries {
		fi, err := os.Stat(filepath.Join(dir, b))
		if err != nil {
			return fmt.Errorf("control plane binaries: %w (build them with hack/controlplane.sh or make controlplane)", err)
		}
		if fi.Mode()&0o111 == 0 {
			return fmt.Errorf("control plane binaries: %s is not executable", filepath.Join(dir, b))
		}
	}
	return nil
}

// GatewayAPICRDDir returns config/crd/standard of the sigs.k8s.io/gateway-api
// module version required by the repository's go.mod, downloading the module
// into the module cache if needed.
func GatewayAPICRDDir(ctx context.Context) (string, error) {
	return ModuleCRDDir(ctx, GatewayAPIModule, "standard")
}

// ModuleCRDDir returns config/crd/<channel> of module at the version the
// repository's go.mod requires, downloading the module into the module
// cache if needed. Both CRD modules lay their channels out this way.
func ModuleCRDDir(ctx context.Context, module, channel string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	goCmd := func(args ...string) (string, error) {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOWORK=off")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("go %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
		}
		return strings.TrimSpace(string(out)), nil
	}
	modDir, err := goCmd("list", "-m", "-f", "{{.Dir}}", module)
	if err == nil && modDir == "" {
		// Required but not yet in the module cache.
		var out string
		if out, err = goCmd("mod", "download", "-json", module); err == nil {
			var m struct{ Dir string }
			err = json.Unmarshal([]byte(out), &m)
			modDir = m.Dir
		}
	}
	if err != nil {
		return "", err
	}
	dir := filepath.Join(modDir, "config", "crd", channel)
	if _, err := os.Stat(dir); err != nil {
		return "", fmt.Errorf("%s CRDs: %w", module, err)
	}
	return dir, nil
}
