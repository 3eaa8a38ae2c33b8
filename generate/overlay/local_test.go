package overlay_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/perimeter-dev/perimeter/generate/overlay"
	"github.com/perimeter-dev/perimeter/internal/readlimit"
)

const configMap = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  namespace: n\ndata:\n  k: v\n"

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// A local tree builds as with BuildDir.
func TestBuildLocalDirBuildsLocalTrees(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources:\n- cm.yaml\n",
		"base/cm.yaml":            configMap,
		"prod/kustomization.yaml": "resources:\n- ../base\nnamePrefix: prod-\n",
	})
	objs, err := overlay.BuildLocalDir(filepath.Join(dir, "prod"), overlay.Limits{MaxFileSize: 1 << 20, MaxTotal: 4 << 20, Root: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].GetName() != "prod-c" {
		t.Fatalf("got %v", objs)
	}
}

// Nothing outside the root is read: not a base above it, not a base
// behind a symbolic link (kustomize's own restriction allows both; it
// refuses only a file outside its kustomization's folder).
func TestBuildLocalDirStaysInsideRoot(t *testing.T) {
	outside := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources:\n- cm.yaml\n",
		"base/cm.yaml":            configMap,
	})
	tree := writeTree(t, map[string]string{
		"prod/kustomization.yaml": "resources:\n- ../../" + filepath.Base(outside) + "/base\n",
		"link/kustomization.yaml": "resources:\n- sub\n",
	})
	// t.TempDir's folders share a parent, so ../../NAME from prod is outside
	if err := os.Symlink(filepath.Join(outside, "base"), filepath.Join(tree, "link", "sub")); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"prod", "link"} {
		if objs, err := overlay.BuildDir(filepath.Join(tree, d)); err != nil || len(objs) != 1 {
			t.Fatalf("%s: kustomize itself should read the file outside: %v, %d objects", d, err, len(objs))
		}
		_, err := overlay.BuildLocalDir(filepath.Join(tree, d), overlay.Limits{Root: tree})
		if err == nil || !strings.Contains(err.Error(), "reads only the files under the folder it is given") {
			t.Errorf("%s: err = %v, want the file outside refused", d, err)
		}
	}
}

// A file over the limit, or files adding up to more than the total, end
// the build with an error naming the file.
func TestBuildLocalDirBoundsReads(t *testing.T) {
	big := writeTree(t, map[string]string{
		"kustomization.yaml": "resources:\n- big.yaml\n",
		"big.yaml":           configMap + strings.Repeat("# padding\n", 300),
	})
	_, err := overlay.BuildLocalDir(big, overlay.Limits{MaxFileSize: 1024})
	var tooLarge *readlimit.TooLargeError
	if !errors.As(err, &tooLarge) || !strings.HasSuffix(tooLarge.Path, "big.yaml") {
		t.Fatalf("err = %v, want too large naming big.yaml", err)
	}

	files := map[string]string{}
	var list strings.Builder
	list.WriteString("resources:\n")
	for _, n := range []string{"a", "b", "c", "d", "e", "f"} {
		files[n+".yaml"] = strings.Replace(configMap, "name: c", "name: "+n, 1) + strings.Repeat("# padding\n", 90)
		list.WriteString("- " + n + ".yaml\n")
	}
	files["kustomization.yaml"] = list.String()
	_, err = overlay.BuildLocalDir(writeTree(t, files), overlay.Limits{MaxFileSize: 1024, MaxTotal: 4096})
	if err == nil || !strings.Contains(err.Error(), "add up to more than 4 KiB") {
		t.Fatalf("err = %v, want the total limit", err)
	}
}

// A remote file is refused without a request reaching its server.
func TestBuildLocalDirRefusesRemoteFiles(t *testing.T) {
	var hits atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Write([]byte(configMap))
	}))
	defer srv.Close()
	dir := writeTree(t, map[string]string{"kustomization.yaml": "resources:\n- " + srv.URL + "/cm.yaml\n"})

	if objs, err := overlay.BuildDir(dir); err != nil || len(objs) != 1 || hits.Load() == 0 {
		t.Fatalf("kustomize itself should fetch the file: %v, %d objects, %d requests", err, len(objs), hits.Load())
	}
	hits.Store(0)
	_, err := overlay.BuildLocalDir(dir, overlay.Limits{})
	if !errors.Is(err, overlay.ErrRemote) {
		t.Fatalf("err = %v, want ErrRemote", err)
	}
	if n := hits.Load(); n != 0 {
		t.Fatalf("%d requests reached the server", n)
	}
}

// A remote base (a git repository, here a local one by file:// URL, which
// kustomize clones with git like any other) is refused before git runs:
// kustomize finds no git program, so it makes no clone folder and fetches
// nothing.
func TestBuildLocalDirRefusesRemoteBases(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git program: kustomize cannot clone remote bases here either")
	}
	repo := writeTree(t, map[string]string{
		"base/kustomization.yaml": "resources:\n- cm.yaml\n",
		"base/cm.yaml":            configMap,
	})
	for _, args := range [][]string{{"init", "-q"}, {"add", "."}, {"-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "base"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	dir := writeTree(t, map[string]string{"kustomization.yaml": "resources:\n- file://" + repo + "//base\n"})

	if objs, err := overlay.BuildDir(dir); err != nil || len(objs) != 1 {
		t.Fatalf("kustomize itself should clone the base: %v, %d objects", err, len(objs))
	}
	// A git first on PATH that logs its arguments, then runs the real one.
	real, _ := exec.LookPath("git")
	spy := t.TempDir()
	log := filepath.Join(spy, "log")
	script := "#!/bin/sh\necho \"$@\" >> " + log + "\nexec " + real + " \"$@\"\n"
	if err := os.WriteFile(filepath.Join(spy, "git"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", spy+string(filepath.ListSeparator)+os.Getenv("PATH"))
	path := os.Getenv("PATH")
	_, err := overlay.BuildLocalDir(dir, overlay.Limits{})
	if !errors.Is(err, overlay.ErrRemote) {
		t.Fatalf("err = %v, want ErrRemote", err)
	}
	if ran, _ := os.ReadFile(log); len(ran) > 0 {
		t.Errorf("git ran:\n%s", ran)
	}
	if v, ok := os.LookupEnv("GIT_ALLOW_PROTOCOL"); ok {
		t.Errorf("GIT_ALLOW_PROTOCOL left set to %q", v)
	}
	if got := os.Getenv("PATH"); got != path {
		t.Errorf("PATH left as %q, was %q", got, path)
	}
	if _, ok := http.DefaultTransport.(*http.Transport); !ok {
		t.Errorf("http.DefaultTransport not restored: %T", http.DefaultTransport)
	}
}
