package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/perimeter-dev/perimeter/apply"
	"github.com/perimeter-dev/perimeter/generate"
	"github.com/perimeter-dev/perimeter/plan"
)

// clusterScopeWarnings says, in the plan, when the identity may not write
// the cluster-scoped policies the plan changes (guardrails and baselines,
// ClusterNetworkPolicies): application teams' identities usually hold
// namespaced Roles only, and apply would refuse the whole plan. It asks
// the cluster (SelfSubjectAccessReview) only when the plan has such
// changes and the reader can answer.
func clusterScopeWarnings(ctx context.Context, reader any, p *plan.Plan) []plan.Warning {
	az, ok := reader.(apply.Authorizer)
	if !ok {
		return nil
	}
	var accesses []apply.Access
	var objects []string
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.GVK().GroupKind() != generate.ClusterNetworkPolicyKind.GroupKind() {
			continue
		}
		verbs := map[plan.Action][]string{plan.Create: {"create", "patch"}, plan.Update: {"patch"}, plan.Delete: {"delete"}}[c.Action]
		for _, v := range verbs {
			accesses = append(accesses, apply.Access{Verb: v, GVK: c.GVK()})
		}
		if len(verbs) > 0 {
			objects = append(objects, c.Name)
		}
	}
	if len(accesses) == 0 {
		return nil
	}
	denied, err := az.Denied(ctx, accesses)
	if err != nil {
		return []plan.Warning{{Severity: plan.WarningSeverity, Summary: "Permission to write cluster-scoped policies not known",
			Detail: fmt.Sprintf("The plan changes ClusterNetworkPolicies (%s), which are cluster-scoped; whether this identity may write them could not be asked: %v.", strings.Join(objects, ", "), err)}}
	}
	if len(denied) == 0 {
		return nil
	}
	who := "This identity"
	if id := az.Identity(ctx); id != "" {
		who = fmt.Sprintf("Identity %q", id)
	}
	return []plan.Warning{{Severity: plan.WarningSeverity, Summary: "Identity cannot write cluster-scoped policies",
		Detail: fmt.Sprintf("The plan changes ClusterNetworkPolicies (%s: guardrails and baselines), which are cluster-scoped. %s cannot %s, so apply would refuse the plan before any write. They need a ClusterRole (a namespaced Role cannot grant them): apply with the platform team's identity, or move the guardrail and baseline blocks to the platform's stack.",
			strings.Join(objects, ", "), who, strings.Join(denied, ", cannot "))}}
}
