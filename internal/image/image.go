// Package image assembles perimeter's container image without a Docker
// daemon: one layer holding a static binary, on an empty base, written as an
// OCI image layout or a docker-compatible tarball.
package image

import (
	"archive/tar"
	"bytes"
	"debug/buildinfo"
	"debug/elf"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const (
	// BinaryPath is where the binary sits in the image, and the entrypoint.
	BinaryPath = "/perimeter"
	// WorkDir is the working directory: the place to mount a stack's HCL.
	WorkDir = "/work"
	// User is distroless's "nonroot": the image has no /etc/passwd, so a
	// numeric id is the only kind that resolves.
	User = "65532:65532"
	// Source is the org.opencontainers.image.source label.
	Source = "https://github.com/perimeter-dev/perimeter"
)

// epoch is the modification time of every file in the layer, so that the
// same binary always gives the same layer and image digest.
var epoch = time.Unix(0, 0).UTC()

// Options are the labels that the binary may not know itself.
type Options struct {
	// Version overrides the version read from the binary's build
	// information (which is "(devel)" for a build from a checkout).
	Version string
	// Revision overrides the VCS revision read from the binary.
	Revision string
}

// Build returns the image for a static linux binary at path. Its platform
// and default labels come from the binary's own build information, so an
// image can never claim another architecture than its binary.
func Build(path string, opts Options) (v1.Image, error) {
	info, err := readInfo(path)
	if err != nil {
		return nil, err
	}
	if info.goos != "linux" {
		return nil, fmt.Errorf("%s is built for %q, the image needs a linux binary", path, info.goos)
	}
	if err := checkStatic(path); err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	layer, err := binaryLayer(bin)
	if err != nil {
		return nil, err
	}
	base := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	base = mutate.ConfigMediaType(base, types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Variant = info.goos, info.goarch, info.variant
	cf.Config = v1.Config{
		Entrypoint: []string{BinaryPath},
		User:       User,
		WorkingDir: WorkDir,
		Labels:     labels(info, opts),
	}
	return mutate.ConfigFile(img, cf)
}

// labels are the OCI annotations for source, version and revision; the
// version and revision only when known.
func labels(info binInfo, opts Options) map[string]string {
	l := map[string]string{"org.opencontainers.image.source": Source}
	version, revision := info.version, info.revision
	if opts.Version != "" {
		version = opts.Version
	}
	if opts.Revision != "" {
		revision = opts.Revision
	}
	if version != "" && version != "(devel)" {
		l["org.opencontainers.image.version"] = version
	}
	if revision != "" {
		l["org.opencontainers.image.revision"] = revision
	}
	return l
}

// binInfo is what the image needs from the binary's build information.
type binInfo struct {
	goos, goarch, variant string
	version, revision     string
}

func readInfo(path string) (binInfo, error) {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return binInfo{}, fmt.Errorf("%s: not a Go binary with build information: %w", path, err)
	}
	info := binInfo{version: bi.Main.Version}
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS":
			info.goos = s.Value
		case "GOARCH":
			info.goarch = s.Value
		case "GOARM":
			// GOARM is "7" or "7,softfloat"; the platform variant is "v7".
			info.variant = "v" + s.Value[:1]
		case "vcs.revision":
			info.revision = s.Value
		}
	}
	return info, nil
}

// binaryLayer is a layer with the binary at BinaryPath (0755) and an empty
// WorkDir owned by User, so that the nonroot user can write output there.
// Fixed times and owners make it a function of the binary's bytes alone.
func binaryLayer(bin []byte) (v1.Layer, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	entries := []struct {
		hdr  tar.Header
		body []byte
	}{
		{tar.Header{Typeflag: tar.TypeReg, Name: BinaryPath[1:], Mode: 0o755, Size: int64(len(bin))}, bin},
		{tar.Header{Typeflag: tar.TypeDir, Name: WorkDir[1:] + "/", Mode: 0o755, Uid: 65532, Gid: 65532}, nil},
	}
	for _, e := range entries {
		e.hdr.ModTime, e.hdr.Format = epoch, tar.FormatPAX
		if err := tw.WriteHeader(&e.hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(e.body); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := buf.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(data)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// checkStatic refuses a binary that asks for a dynamic loader: the empty
// base has none, and the container would fail to start with a bare "no such
// file or directory". A default `go build` of perimeter is such a binary,
// since net and os/user use cgo when it is on.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%s: not an ELF binary: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}
