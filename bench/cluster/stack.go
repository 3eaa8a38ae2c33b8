package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/perimeter-dev/perimeter/manifest"
)

// Namespaces of the two sides: perimeter's stack and kubectl's copy of
// the same objects live side by side, so runs can alternate.
// With -baseline, a second perimeter binary writes its own stack, named
// base, in namespace bbench.
const (
	perimeterNS = "pbench"
	kubectlNS   = "kbench"
	baselineNS  = "bbench"
)

// stackOf names the stack and namespace of a perimeter tool.
func stackOf(tool string) (stack, namespace string) {
	if tool == "baseline" {
		return "base", baselineNS
	}
	return "bench", perimeterNS
}

// intent is a stack of n NetworkPolicies in namespace ns: its
// default-deny and DNS policies and n-2 services with one egress
// connection each. With changed, one connection in a hundred has another
// port: the 1% change. The namespace is not created by the stack
// (create = false): a deleted namespace stays Terminating on a control
// plane without controllers, and the next round needs it back. The
// blocks are spread over files round-robin, as a stack this size is
// written (by many teams, in many files); files = 1 puts all in main.hcl.
func intent(n, files int, changed bool, stack, ns string) map[string][]byte {
	bodies := make([]strings.Builder, max(files, 1))
	b := &bodies[0]
	fmt.Fprintf(b, "perimeter {\n  stack = %q\n  state_namespace = %q\n}\n", stack, ns)
	fmt.Fprintf(b, "namespace %q {\n  create = false\n  default_deny = [\"egress\"]\n}\n", ns)
	for i := 0; i < n-2; i++ {
		b := &bodies[i%len(bodies)]
		port := 443
		if changed && i%100 == 0 {
			port = 8443
		}
		fmt.Fprintf(b, "service \"s%d\" {\n  namespace = %q\n  selector = { app = \"s%d\" }\n  port = 80\n}\n", i, ns, i)
		fmt.Fprintf(b, "allow \"s%d out\" {\n  from = service.s%d\n  to = cidr(\"10.%d.%d.0/24\")\n  ports = [%d]\n}\n", i, i, i/256%256, i%256, port)
	}
	out := map[string][]byte{}
	for i := range bodies {
		out[fmt.Sprintf("part-%02d.hcl", i)] = []byte(bodies[i].String())
	}
	return out
}

// writeIntentOnly writes perimeter's unchanged intent for the first of
// sizes into dir (-write-intent).
func writeIntentOnly(dir, sizes string, files int) error {
	n, err := strconv.Atoi(strings.TrimSpace(strings.Split(sizes, ",")[0]))
	if err != nil || n < 2 {
		return fmt.Errorf("-n %q: want a number of objects, at least 2", sizes)
	}
	return writeIntent(dir, n, files, false, "perimeter")
}

// writeIntent writes the intent of a tool's stack of n objects into dir.
func writeIntent(dir string, n, files int, changed bool, tool string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	stack, ns := stackOf(tool)
	for name, src := range intent(n, files, changed, stack, ns) {
		if err := os.WriteFile(filepath.Join(dir, name), src, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// stackFiles are the inputs of one run: the intent before and after the
// 1% change (directories for perimeter, and for the baseline binary its
// own stack's), and the same objects as perimeter renders them, moved to
// namespace kbench without perimeter's labels (files for kubectl).
type stackFiles struct {
	v1, v2         string // intent directories
	b1, b2         string // the baseline's intent directories
	v1yaml, v2yaml string // kubectl's manifests
	objects        int
}

func writeStack(dir, perimeter string, n, files int) (*stackFiles, error) {
	s := &stackFiles{v1: filepath.Join(dir, "v1"), v2: filepath.Join(dir, "v2"),
		b1: filepath.Join(dir, "b1"), b2: filepath.Join(dir, "b2"),
		v1yaml: filepath.Join(dir, "v1.yaml"), v2yaml: filepath.Join(dir, "v2.yaml")}
	for _, v := range []struct {
		dir, yaml string
		changed   bool
		tool      string
	}{{s.v1, s.v1yaml, false, "perimeter"}, {s.v2, s.v2yaml, true, "perimeter"}, {s.b1, "", false, "baseline"}, {s.b2, "", true, "baseline"}} {
		if err := writeIntent(v.dir, n, files, v.changed, v.tool); err != nil {
			return nil, err
		}
		if v.yaml == "" {
			continue
		}
		count, err := kubectlCopy(perimeter, v.dir, v.yaml)
		if err != nil {
			return nil, err
		}
		s.objects = count
	}
	return s, nil
}

// forTool is the stack as a tool sees it: the baseline binary plans and
// applies its own directories.
func (s *stackFiles) forTool(tool string) *stackFiles {
	if tool != "baseline" {
		return s
	}
	c := *s
	c.v1, c.v2 = s.b1, s.b2
	return &c
}

// kubectlCopy renders the intent in dir with perimeter and writes the
// objects for kubectl: namespace kbench, no labels or annotations (so
// perimeter never sees them as look-alikes of its stack).
func kubectlCopy(perimeter, dir, out string) (int, error) {
	cmd := exec.Command(perimeter, "render", dir)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return 0, fmt.Errorf("perimeter render %s: %v\n%s", dir, err, stderr.String())
	}
	objs, err := manifest.Decode(stdout.Bytes())
	if err != nil {
		return 0, err
	}
	for _, o := range objs {
		o.SetNamespace(kubectlNS)
		o.SetLabels(nil)
		o.SetAnnotations(nil)
	}
	var buf bytes.Buffer
	if err := manifest.WriteStream(&buf, objs); err != nil {
		return 0, err
	}
	return len(objs), os.WriteFile(out, buf.Bytes(), 0o644)
}
