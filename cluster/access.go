package cluster

import (
	"context"
	"fmt"
	"sort"
	"sync"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/perimeter-dev/perimeter/apply"
)

// accessConcurrency bounds the SelfSubjectAccessReviews in flight.
const accessConcurrency = 8

// Denied asks the API server, one SelfSubjectAccessReview per distinct
// access (concurrently), which of accesses the identity may not make, and
// returns them as "verb resource in namespace ns", sorted. A review that
// cannot be made is an error: nothing is known then.
func (c *Client) Denied(ctx context.Context, accesses []apply.Access) ([]string, error) {
	uniq := map[apply.Access]bool{}
	for _, a := range accesses {
		uniq[a] = true
	}
	var denied []string
	var errs []error
	var mu sync.Mutex
	sem := make(chan struct{}, accessConcurrency)
	var wg sync.WaitGroup
	for a := range uniq {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			what, ok, err := c.review(ctx, a)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err != nil:
				errs = append(errs, err)
			case !ok:
				denied = append(denied, what)
			}
		}()
	}
	wg.Wait()
	if len(errs) > 0 {
		return nil, errs[0]
	}
	sort.Strings(denied)
	return denied, nil
}

// review runs one SelfSubjectAccessReview; what names the access.
func (c *Client) review(ctx context.Context, a apply.Access) (what string, allowed bool, err error) {
	m, err := c.mapper.RESTMapping(a.GVK.GroupKind(), a.GVK.Version)
	if err != nil {
		return "", false, err
	}
	what = a.Verb + " " + m.Resource.Resource
	switch {
	case a.Namespace != "":
		what += " in namespace " + a.Namespace
	case a.Verb == "list" && m.Scope.Name() == meta.RESTScopeNameNamespace:
		what += " in all namespaces"
	}
	sar := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: a.Verb, Group: m.Resource.Group,
			Version: m.Resource.Version, Resource: m.Resource.Resource, Namespace: a.Namespace}}}
	out, err := c.typed.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return what, false, fmt.Errorf("asking the API server whether this identity may %s: %w", what, err)
	}
	return what, out.Status.Allowed, nil
}

// Identity is the user the API server authenticates this client as
// (SelfSubjectReview), or "" when it cannot say.
func (c *Client) Identity(ctx context.Context) string {
	out, err := c.typed.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
	if err != nil {
		return ""
	}
	return out.Status.UserInfo.Username
}
