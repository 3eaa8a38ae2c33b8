// Command image builds perimeter's container image without a Docker daemon
// (`make image`): a static binary on an empty base, written as an OCI image
// layout and a docker-compatible tarball. Nothing is pulled or pushed.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"

	"github.com/perimeter-dev/perimeter/internal/image"
)

func main() {
	out := flag.String("out", "bin/image", "output folder: OUT/oci (OCI layout) and OUT/perimeter.tar")
	goarch := flag.String("arch", runtime.GOARCH, "GOARCH of the binary to build")
	binary := flag.String("binary", "", "a prebuilt static linux binary instead of building one")
	tag := flag.String("tag", "perimeter:dev", "tag recorded in the tarball (for docker load)")
	version := flag.String("version", "", "org.opencontainers.image.version label (default: the binary's module version)")
	revision := flag.String("revision", "", "org.opencontainers.image.revision label (default: the binary's VCS revision)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *out, *goarch, *binary, *tag, image.Options{Version: *version, Revision: *revision}); err != nil {
		fmt.Fprintln(os.Stderr, "image:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, out, goarch, binary, tag string, opts image.Options) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	if binary == "" {
		tmp, err := os.MkdirTemp("", "perimeter-image-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		if binary, err = image.BuildBinary(ctx, tmp, goarch); err != nil {
			return err
		}
	}
	img, err := image.Build(binary, opts)
	if err != nil {
		return err
	}
	layoutDir, tarPath := filepath.Join(out, "oci"), filepath.Join(out, "perimeter.tar")
	if err := image.WriteLayout(layoutDir, img); err != nil {
		return err
	}
	if err := image.WriteTarball(tarPath, tag, img); err != nil {
		return err
	}
	digest, err := img.Digest()
	if err != nil {
		return err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	fmt.Printf("image   %s (%s)\nlayout  %s\ntarball %s (tag %s)\n", digest, cf.Platform(), layoutDir, tarPath, tag)
	return nil
}
