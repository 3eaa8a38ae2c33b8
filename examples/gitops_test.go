package examples

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	kustomizev1 "github.com/fluxcd/kustomize-controller/api/v1"
	sourcev1 "github.com/fluxcd/source-controller/api/v1"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// gitopsEnvs are the environments of examples/shop, one cluster each.
var gitopsEnvs = []string{"staging", "prod"}

// repoURL is the repository every Argo CD and Flux manifest syncs from.
const repoURL = "https://git.example.com/platform/shop-boundary.git"

// renderShop renders examples/shop as the README says (render --kustomize
// --output gitops/) and checks that kustomize builds every overlay. It
// returns the folder that stands for the repository's root.
func renderShop(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	run(t, buildPerimeter(t), "render", "--kustomize", "--out-dir", filepath.Join(repo, "gitops"), "shop")
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	for _, env := range gitopsEnvs {
		m, err := k.Run(filesys.MakeFsOnDisk(), filepath.Join(repo, "gitops", "overlays", env))
		if err != nil {
			t.Fatalf("kustomize build gitops/overlays/%s: %v", env, err)
		}
		if m.Size() == 0 {
			t.Errorf("kustomize build gitops/overlays/%s: no objects", env)
		}
	}
	return repo
}

// TestFlux decodes the Flux manifests into Flux's published types
// (strictly: an unknown field fails) and checks that each cluster's folder
// builds with kustomize, holds the GitRepository its Kustomization uses,
// and applies its own environment's overlay.
func TestFlux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds perimeter")
	}
	repo := renderShop(t)
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	for _, env := range gitopsEnvs {
		dir := filepath.Join("gitops", "flux", env)
		m, err := k.Run(filesys.MakeFsOnDisk(), dir)
		if err != nil {
			t.Fatalf("kustomize build %s: %v", dir, err)
		}
		repos := map[string]sourcev1.GitRepository{}
		var kss []kustomizev1.Kustomization
		for _, r := range m.Resources() {
			y, err := r.AsYAML()
			if err != nil {
				t.Fatal(err)
			}
			switch r.GetKind() {
			case sourcev1.GitRepositoryKind:
				var g sourcev1.GitRepository
				decodeStrict(t, dir, y, &g)
				repos[g.Namespace+"/"+g.Name] = g
			case kustomizev1.KustomizationKind:
				var ks kustomizev1.Kustomization
				decodeStrict(t, dir, y, &ks)
				kss = append(kss, ks)
			default:
				t.Errorf("%s: unexpected %s", dir, r.GetKind())
			}
		}
		if len(kss) != 1 {
			t.Fatalf("%s: %d Kustomizations, want 1", dir, len(kss))
		}
		ks := kss[0]
		src := ks.Spec.SourceRef
		ns := src.Namespace
		if ns == "" {
			ns = ks.Namespace
		}
		g, ok := repos[ns+"/"+src.Name]
		if src.Kind != sourcev1.GitRepositoryKind || !ok {
			t.Errorf("%s: Kustomization %s uses %s %s/%s, which the folder does not hold", dir, ks.Name, src.Kind, ns, src.Name)
		} else if g.Spec.URL != repoURL {
			t.Errorf("%s: GitRepository %s fetches %s, want %s", dir, g.Name, g.Spec.URL, repoURL)
		}
		checkOverlayPath(t, repo, dir, ks.Spec.Path, env)
		if ks.Spec.KubeConfig != nil || ks.Spec.TargetNamespace != "" {
			t.Errorf("%s: the overlay spans namespaces and goes to the cluster Flux runs in: no kubeConfig or targetNamespace", dir)
		}
	}
}

// decodeStrict decodes y into obj, failing on a field obj does not have.
func decodeStrict(t *testing.T, where string, y []byte, obj any) {
	t.Helper()
	if err := yaml.UnmarshalStrict(y, obj); err != nil {
		t.Errorf("%s: %v\n%s", where, err, y)
	}
}

// checkOverlayPath checks that path, relative to the repository, names
// the overlay of env in the rendered tree.
func checkOverlayPath(t *testing.T, repo, where, path, env string) {
	t.Helper()
	want := filepath.Join("gitops", "overlays", env)
	if filepath.Clean(path) != want {
		t.Errorf("%s: path %q, want %s", where, path, want)
	}
	if _, err := os.Stat(filepath.Join(repo, filepath.Clean(path), "kustomization.yaml")); err != nil {
		t.Errorf("%s: path %q is not a rendered overlay: %v", where, path, err)
	}
}

// argoApp is the part of an Argo CD Application or AppProject the test
// reads. Argo CD's Go module (v3.6.1) needs Go 1.27, so the manifests are
// checked field by field instead of decoded into its types.
type argoApp struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct{ Name, Namespace string }
	Spec       struct {
		Project string
		Source  struct {
			RepoURL        string `json:"repoURL"`
			TargetRevision string `json:"targetRevision"`
			Path           string
		}
		Destination struct{ Server, Name, Namespace string }
		// SourceRepos and Destinations are an AppProject's.
		SourceRepos  []string `json:"sourceRepos"`
		Destinations []struct{ Server, Name, Namespace string }
	}
}

// TestArgoCD checks every Application: it names the AppProject present
// beside it, syncs the repository that project allows to a destination
// that project allows, one cluster per environment, from that
// environment's rendered overlay.
func TestArgoCD(t *testing.T) {
	if testing.Short() {
		t.Skip("builds perimeter")
	}
	repo := renderShop(t)
	files, err := filepath.Glob(filepath.Join("gitops", "argocd", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	projects := map[string]argoApp{}
	var apps []argoApp
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var a argoApp
		if err := yaml.Unmarshal(src, &a); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if a.APIVersion != "argoproj.io/v1alpha1" || a.Metadata.Name == "" || a.Metadata.Namespace != "argocd" {
			t.Errorf("%s: want an argoproj.io/v1alpha1 object with a name in namespace argocd", f)
		}
		switch a.Kind {
		case "AppProject":
			projects[a.Metadata.Name] = a
		case "Application":
			apps = append(apps, a)
		default:
			t.Errorf("%s: unexpected kind %q", f, a.Kind)
		}
	}
	seen := map[string]string{}
	for _, env := range gitopsEnvs {
		a, ok := findApp(apps, env)
		if !ok {
			t.Errorf("no Application syncs gitops/overlays/%s", env)
			continue
		}
		where := "Application " + a.Metadata.Name
		checkOverlayPath(t, repo, where, a.Spec.Source.Path, env)
		dest := a.Spec.Destination.Server + a.Spec.Destination.Name
		if (a.Spec.Destination.Server == "") == (a.Spec.Destination.Name == "") {
			t.Errorf("%s: the destination needs a server or a name, not both", where)
		}
		if other, dup := seen[dest]; dup {
			t.Errorf("%s: destination %q is also %s's: each environment needs its own cluster", where, dest, other)
		}
		seen[dest] = env
		p, ok := projects[a.Spec.Project]
		if !ok {
			t.Errorf("%s: project %q is not among the manifests", where, a.Spec.Project)
			continue
		}
		if a.Spec.Source.RepoURL != repoURL || !contains(p.Spec.SourceRepos, a.Spec.Source.RepoURL) {
			t.Errorf("%s: repository %q is not %s or not allowed by project %s", where, a.Spec.Source.RepoURL, repoURL, p.Metadata.Name)
		}
		allowed := false
		for _, d := range p.Spec.Destinations {
			allowed = allowed || d.Server+d.Name == dest
		}
		if !allowed {
			t.Errorf("%s: project %s does not allow destination %q", where, p.Metadata.Name, dest)
		}
	}
}

// findApp returns the Application that syncs env's overlay.
func findApp(apps []argoApp, env string) (argoApp, bool) {
	for _, a := range apps {
		if strings.HasSuffix(filepath.Clean(a.Spec.Source.Path), filepath.Join("overlays", env)) {
			return a, true
		}
	}
	return argoApp{}, false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
