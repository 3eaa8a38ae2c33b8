package image

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// WriteLayout writes img as an OCI image layout in dir, replacing what was
// there: layout.Write appends to an existing index, and a layout with two
// manifests is no longer a single image to `crane push`.
func WriteLayout(dir string, img v1.Image) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return err
	}
	return p.AppendImage(img, layout.WithPlatform(*cf.Platform()))
}

// WriteTarball writes img as a docker-compatible tarball (`docker load`,
// `crane push FILE`) tagged tag, through a temporary file so that a failed
// write never leaves a truncated tarball behind.
func WriteTarball(path, tag string, img v1.Image) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".perimeter-image-*.tar")
	if err != nil {
		return err
	}
	tmp.Close()
	// CreateTemp makes the file 0600; an image is not a secret.
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tarball.WriteToFile(tmp.Name(), ref, img); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
