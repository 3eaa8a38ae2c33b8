package hclspec

import "github.com/hashicorp/hcl/v2"

// Tier is a ClusterNetworkPolicy tier: where a cluster policy sits in the
// order the API evaluates policies (Admin, then every NetworkPolicy, then
// Baseline).
type Tier string

// The two tiers a cluster policy can use.
const (
	TierAdmin    Tier = "Admin"
	TierBaseline Tier = "Baseline"
)

// Cluster policy rule actions, as the API spells them.
const (
	ActionAccept = "Accept"
	ActionDeny   = "Deny"
	ActionPass   = "Pass"
)

// ClusterPolicy is a guardrail (Admin tier) or baseline (Baseline tier)
// block: one ClusterNetworkPolicy, owned by the stack like its other
// objects.
type ClusterPolicy struct {
	Label    string
	Name     string // the ClusterNetworkPolicy's (cluster-wide) name
	Tier     Tier
	Priority int32 // 0-1000; lower is evaluated first within the tier
	// Subject are the pods the policy applies to: namespace.X,
	// namespaces({...}), pods(...) or service.X.
	Subject Endpoint
	// Ingress and Egress are the rules in the order they are written, which
	// is the order the API evaluates them in.
	Ingress []*TierRule
	Egress  []*TierRule
	Origin
}

// TierRule is one ingress or egress rule of a cluster policy.
type TierRule struct {
	Name   string // the block label; at most 100 characters
	Action string // ActionAccept, ActionDeny or ActionPass
	// Peers are the sources (ingress) or destinations (egress): pods and
	// namespaces, and for egress also cidr(...) and fqdn(...).
	Peers []Endpoint
	// Ports narrow the rule; empty matches every port and protocol.
	Ports []PortSpec
	Range hcl.Range // the rule block's definition range
}

// Limits of the ClusterNetworkPolicy CRD (sigs.k8s.io/network-policy-api
// v1beta1), checked at validate time so they are reported against the HCL.
const (
	MaxPriority      = 1000
	MaxTierRules     = 25  // ingress and egress rules, each
	MaxTierPeers     = 25  // peers, networks and domain names of a rule
	MaxTierProtocols = 25  // ports of a rule
	MaxRuleName      = 100 // characters of a rule name
)
