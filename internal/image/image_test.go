package image

import (
	"archive/tar"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// binary builds perimeter for the host into a temp dir (some seconds).
func binary(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("the image's binary runs only on linux")
	}
	if testing.Short() {
		t.Skip("builds perimeter")
	}
	path, err := BuildBinary(context.Background(), t.TempDir(), runtime.GOARCH)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestImage(t *testing.T) {
	bin := binary(t)
	img, err := Build(bin, Options{Version: "v9.9.9"})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "oci")
	if err := WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	// Writing twice must replace, not append a second manifest.
	if err := WriteLayout(dir, img); err != nil {
		t.Fatal(err)
	}
	got := readLayout(t, dir)
	checkConfig(t, got)
	perimeter := extract(t, got, BinaryPath[1:])
	out, err := exec.Command(perimeter, "version").CombinedOutput()
	if err != nil {
		t.Fatalf("perimeter version: %v\n%s", err, out)
	}
	if !strings.HasPrefix(string(out), "perimeter ") {
		t.Errorf("perimeter version printed %q", out)
	}

	tarPath := filepath.Join(t.TempDir(), "perimeter.tar")
	if err := WriteTarball(tarPath, "perimeter:dev", img); err != nil {
		t.Fatal(err)
	}
	fromTar, err := tarball.ImageFromPath(tarPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, fromTar)

	t.Run("reproducible", func(t *testing.T) { reproducible(t, bin) })
}

// readLayout reads the layout the way `crane push DIR` does: one manifest,
// for this platform.
func readLayout(t *testing.T, dir string) v1.Image {
	t.Helper()
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Manifests) != 1 {
		t.Fatalf("layout has %d manifests, want 1", len(m.Manifests))
	}
	desc := m.Manifests[0]
	want := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if desc.Platform == nil || !desc.Platform.Equals(want) {
		t.Errorf("manifest platform %v, want %v", desc.Platform, want)
	}
	img, err := idx.Image(desc.Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func checkConfig(t *testing.T, img v1.Image) {
	t.Helper()
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"/perimeter"}) || c.User != "65532:65532" || c.WorkingDir != "/work" {
		t.Errorf("config: entrypoint %q, user %q, workdir %q", c.Entrypoint, c.User, c.WorkingDir)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("config platform %s/%s", cf.OS, cf.Architecture)
	}
	if c.Labels["org.opencontainers.image.version"] != "v9.9.9" || c.Labels["org.opencontainers.image.source"] != Source {
		t.Errorf("labels %v", c.Labels)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	if len(layers) != 1 || len(cf.RootFS.DiffIDs) != 1 {
		t.Errorf("%d layers, %d diff ids, want 1", len(layers), len(cf.RootFS.DiffIDs))
	}
}

// extract copies the file name out of the image's only layer into a temp
// dir and returns its path.
func extract(t *testing.T, img v1.Image, name string) string {
	t.Helper()
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	rc, err := layers[0].Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			t.Fatalf("%s not in the layer", name)
		}
		if err != nil {
			t.Fatal(err)
		}
		if hdr.Name != name {
			continue
		}
		if hdr.Mode != 0o755 || hdr.Uid != 0 || hdr.Gid != 0 {
			t.Errorf("%s: mode %o, owner %d:%d", name, hdr.Mode, hdr.Uid, hdr.Gid)
		}
		path := filepath.Join(t.TempDir(), "perimeter")
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o755)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(f, tr); err != nil {
			t.Fatal(err)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		return path
	}
}

// reproducible: the same binary gives the same digest, so a rebuild from
// the same commit does not push a new image. A subtest so that perimeter is
// built once.
func reproducible(t *testing.T, bin string) {
	var digests []v1.Hash
	for range 2 {
		img, err := Build(bin, Options{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		digests = append(digests, d)
	}
	if digests[0] != digests[1] {
		t.Errorf("two builds of the same binary: %s and %s", digests[0], digests[1])
	}
}

func TestBuildRefusesNonLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a binary")
	}
	dir := t.TempDir()
	out := filepath.Join(dir, "x.exe")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/hello")
	cmd.Env = append(os.Environ(), "GOOS=windows", "CGO_ENABLED=0")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	if _, err := Build(out, Options{}); err == nil || !strings.Contains(err.Error(), "linux") {
		t.Errorf("Build of a windows binary: %v", err)
	}
}

// TestBuildRefusesDynamic: a binary linked against libc cannot start on the
// empty base. Needs a C compiler; skipped without one.
func TestBuildRefusesDynamic(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("builds a cgo binary on linux")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("no gcc")
	}
	out := filepath.Join(t.TempDir(), "dyn")
	cmd := exec.Command("go", "build", "-o", out, "./testdata/cgo")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, msg)
	}
	if _, err := Build(out, Options{}); err == nil || !strings.Contains(err.Error(), "dynamically linked") {
		t.Errorf("Build of a dynamic binary: %v", err)
	}
}
