package image

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/perimeter-dev/perimeter/internal/buildtags"
)

// Package is the import path of perimeter's main package.
const Package = "github.com/perimeter-dev/perimeter/cmd/perimeter"

// BuildBinary builds a static linux binary of perimeter for goarch into dir
// and returns its path. It must run inside the module. CGO is off so the
// binary needs nothing from the empty base; -trimpath and no symbols keep
// it small and independent of where it was built.
func BuildBinary(ctx context.Context, dir, goarch string) (string, error) {
	out := filepath.Join(dir, "perimeter")
	cmd := exec.CommandContext(ctx, "go", "build", "-tags", buildtags.Tags, "-trimpath", "-ldflags=-s -w", "-o", out, Package)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, msg)
	}
	return out, nil
}
