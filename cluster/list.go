package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
)

// listPageSize is how many objects one LIST request returns at most (a
// variable for tests of paging).
var listPageSize = 500

// listClient is the REST client of the LISTs: JSON only, as the dynamic
// client asks for it, on the same connection.
func listClient(cfg *rest.Config) (rest.Interface, error) {
	cfg = dynamic.ConfigFor(cfg)
	cfg.AcceptContentTypes, cfg.ContentType = "application/json", "application/json"
	cfg.GroupVersion = nil
	return rest.UnversionedRESTClientFor(cfg)
}

// listPage is one page of a LIST as the server sends it: the items are
// left undecoded until the page has been split into them.
type listPage struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Continue string `json:"continue"`
	} `json:"metadata"`
	Items []json.RawMessage `json:"items"`
}

// ListPaged is List that calls trim (unless nil) on each object of a
// page before it requests the next: what trim drops of a large LIST is
// never all in memory at once (plan.PagedLister).
//
// Each page is split into its items and each item decoded on its own,
// as the dynamic client's List does, but without also decoding the whole
// page into one map first (which that List does for the list's own
// fields): that was half of the CPU and of the memory a plan of 5,000
// objects spent reading them.
func (c *Client) ListPaged(ctx context.Context, gvk schema.GroupVersionKind, namespace, selector string, trim func(*unstructured.Unstructured)) ([]*unstructured.Unstructured, error) {
	gvr, err := c.gvr(gvk)
	if err != nil {
		return nil, err
	}
	var out []*unstructured.Unstructured
	next := ""
	for {
		page, err := c.listPage(ctx, gvr, namespace, selector, next)
		if err != nil {
			return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
		}
		for _, item := range page.Items {
			obj, err := decodeItem(item, page)
			if err != nil {
				return nil, fmt.Errorf("listing %s: %w", gvk.Kind, err)
			}
			if trim != nil {
				trim(obj)
			}
			out = append(out, obj)
		}
		switch page.Metadata.Continue {
		case "":
			return out, nil
		case next: // a server handing back the token it was sent would be listed forever
			return nil, fmt.Errorf("listing %s: the server answered the page after continue token %q with the same token", gvk.Kind, next)
		}
		next = page.Metadata.Continue
	}
}

// listPage requests one page: the dynamic client's request (its path,
// its parameters, its checks of both), answered as bytes.
func (c *Client) listPage(ctx context.Context, gvr schema.GroupVersionResource, namespace, selector, next string) (*listPage, error) {
	prefix := []string{"apis", gvr.Group, gvr.Version}
	if gvr.Group == "" {
		prefix = []string{"api", gvr.Version}
	}
	// Namespace and Resource refuse what is not one path segment (a
	// namespace read from an ApplySet parent is the cluster's data)
	req := c.lists.Get().AbsPath(prefix...).Namespace(namespace).Resource(gvr.Resource).Param("limit", strconv.Itoa(listPageSize))
	if selector != "" {
		req = req.Param("labelSelector", selector)
	}
	if next != "" {
		req = req.Param("continue", next)
	}
	body, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	page := &listPage{}
	if err := json.Unmarshal(body, page); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	return page, nil
}

// decodeItem decodes one item of a page as unstructured does, with the
// kind and version of the list's items when the server leaves them out
// (it does for built-in kinds).
func decodeItem(item json.RawMessage, page *listPage) (*unstructured.Unstructured, error) {
	m := map[string]any{}
	if err := utiljson.Unmarshal(item, &m); err != nil {
		return nil, fmt.Errorf("reading the server's answer: %w", err)
	}
	obj := &unstructured.Unstructured{Object: m}
	if obj.GetKind() == "" && obj.GetAPIVersion() == "" {
		obj.SetKind(strings.TrimSuffix(page.Kind, "List"))
		obj.SetAPIVersion(page.APIVersion)
	}
	return obj, nil
}
