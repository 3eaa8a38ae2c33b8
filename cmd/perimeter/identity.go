package main

import (
	"context"
	"fmt"
	"io"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/plan"
)

// identify reads the identity of the cluster a client talks to. When
// kube-system cannot be read (RBAC), it says why instead of failing: the
// plan warns, and a saved plan is then checked by URL only.
func identify(ctx context.Context, c *cluster.Client) *plan.ClusterIdentity {
	id := &plan.ClusterIdentity{Server: c.Host}
	uid, err := c.KubeSystemUID(ctx)
	if err != nil {
		id.Unknown = err.Error()
	}
	id.KubeSystemUID = uid
	return id
}

// printProvenance says, under a saved plan, what it was made from and
// where it may be applied.
func printProvenance(w io.Writer, p *plan.Plan) {
	fmt.Fprintf(w, "\nPlan file: format %s, digest %s\n", p.FormatVersion, p.Digest)
	if p.IntentDigest != "" {
		fmt.Fprintf(w, "  made from intent files with digest %s\n", p.IntentDigest)
	}
	if p.Cluster != nil {
		fmt.Fprintf(w, "  applies only to the cluster at %s\n", p.Cluster)
	}
}
