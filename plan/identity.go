package plan

import (
	"fmt"
	"strings"
)

// ClusterIdentity says which cluster a plan was made against: the API
// server URL, and the UID of namespace kube-system, which every cluster
// has and which stays the same for the cluster's life whatever URL it is
// reached by (a new cluster at an old URL has a new one).
type ClusterIdentity struct {
	Server        string `json:"server"`
	KubeSystemUID string `json:"kube_system_uid,omitempty"`
	// Unknown says why KubeSystemUID could not be read (RBAC): apply then
	// compares the URL only.
	Unknown string `json:"kube_system_unknown,omitempty"`
}

// String names the cluster in messages.
func (id ClusterIdentity) String() string {
	switch {
	case id.KubeSystemUID != "":
		return fmt.Sprintf("%s (kube-system uid %s)", id.Server, id.KubeSystemUID)
	case id.Unknown != "":
		return fmt.Sprintf("%s (kube-system unreadable: %s)", id.Server, id.Unknown)
	}
	return id.Server
}

// CheckCluster refuses to apply a plan to any cluster but the one it was
// made against. A plan that could not read kube-system is checked by URL
// only; one that could is refused where kube-system cannot be read now,
// since nothing else would tell the clusters apart.
func CheckCluster(p *Plan, now ClusterIdentity) error {
	planned := p.Cluster
	if planned == nil {
		return fmt.Errorf("the plan records no cluster identity, so it cannot be checked against %s; run plan --out again", now.Server)
	}
	if sameServer(planned.Server, now.Server) && (planned.KubeSystemUID == "" || planned.KubeSystemUID == now.KubeSystemUID) {
		return nil
	}
	msg := fmt.Sprintf("the plan was made against the cluster at %s, and this is the cluster at %s", planned, now)
	if sameServer(planned.Server, now.Server) && now.KubeSystemUID == "" {
		msg += "; without reading namespace kube-system perimeter cannot tell that it is the same cluster (grant get on it, or plan with the credentials that apply)"
	}
	return fmt.Errorf("%s; a plan applies only where it was made: run plan --out against this cluster", msg)
}

// sameServer compares API server URLs as kubeconfigs write them, with or
// without a trailing slash.
func sameServer(a, b string) bool { return strings.TrimRight(a, "/") == strings.TrimRight(b, "/") }
