package apply

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/perimeter-dev/perimeter/plan"
)

// Getter reads one object (nil when it does not exist).
type Getter interface {
	Get(ctx context.Context, gvk schema.GroupVersionKind, namespace, name string) (*unstructured.Unstructured, error)
}

// RouteStatus is what --wait found for one route.
type RouteStatus struct {
	Object string `json:"object"`
	Source string `json:"source,omitempty"`
	Ready  bool   `json:"ready"`
	// Problem says in plain words what keeps the route from being served.
	Problem string `json:"problem,omitempty"`
}

// Wait polls every route of the plan until each parent gateway reports it
// Accepted and ResolvedRefs, or until ctx ends; then it explains what is
// still wrong.
func Wait(ctx context.Context, g Getter, p *plan.Plan, interval time.Duration) []RouteStatus {
	var routes []plan.Change
	for _, c := range p.Changes {
		if isRoute(c.Kind) && c.Action != plan.Delete {
			routes = append(routes, c)
		}
	}
	sort.Slice(routes, func(i, j int) bool { return routes[i].ID() < routes[j].ID() })
	status := make([]RouteStatus, len(routes))
	for {
		done := true
		for i, c := range routes {
			status[i] = routeStatus(ctx, g, c)
			done = done && status[i].Ready
		}
		if done {
			return status
		}
		select {
		case <-ctx.Done():
			return status
		case <-time.After(interval):
		}
	}
}

func routeStatus(ctx context.Context, g Getter, c plan.Change) RouteStatus {
	rs := RouteStatus{Object: c.ID(), Source: c.Source}
	// The overall deadline ends the polling, not a read in flight: a read cut
	// short would replace what the route says with a timeout.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	obj, err := g.Get(rctx, c.GVK(), c.Namespace, c.Name)
	switch {
	case err != nil:
		rs.Problem = "cannot read the route: " + err.Error()
		return rs
	case obj == nil:
		rs.Problem = "the route does not exist"
		return rs
	}
	var problems []string
	for _, ref := range plan.ParentRefs(obj) {
		if msg := parentProblem(obj, ref); msg != "" {
			problems = append(problems, msg)
		}
	}
	rs.Problem = strings.Join(problems, "; ")
	rs.Ready = rs.Problem == ""
	return rs
}

// parentProblem explains why one gateway does not serve the route, or "".
func parentProblem(route *unstructured.Unstructured, ref plan.ParentRef) string {
	parents, _, _ := unstructured.NestedSlice(route.Object, "status", "parents")
	gw := ref.Namespace + "/" + ref.Name
	for _, p := range parents {
		pm, _ := p.(map[string]any)
		pr, _ := pm["parentRef"].(map[string]any)
		if plan.ParentRefOf(pr, route.GetNamespace()) != ref {
			continue
		}
		conds, _, _ := unstructured.NestedSlice(pm, "conditions")
		accepted, resolved := condition(conds, "Accepted"), condition(conds, "ResolvedRefs")
		switch {
		case accepted == nil:
			return fmt.Sprintf("gateway %s has not decided yet (no Accepted condition)", gw)
		case accepted["status"] != "True":
			return fmt.Sprintf("gateway %s refused the route: %v: %v", gw, accepted["reason"], accepted["message"])
		case resolved != nil && resolved["status"] != "True":
			return fmt.Sprintf("gateway %s could not resolve a backend: %v: %v", gw, resolved["reason"], resolved["message"])
		}
		return ""
	}
	return fmt.Sprintf("no controller has picked the route up for gateway %s (status.parents has no entry for it): is a Gateway API controller running for its GatewayClass?", gw)
}

func condition(conds []any, typ string) map[string]any {
	for _, c := range conds {
		if cm, _ := c.(map[string]any); cm["type"] == typ {
			return cm
		}
	}
	return nil
}

// isRoute reports whether a kind is a Gateway API route whose status
// --wait reads.
func isRoute(kind string) bool {
	switch kind {
	case "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute":
		return true
	}
	return false
}
