package main

import (
	"context"

	"github.com/perimeter-dev/perimeter/cluster"
	"github.com/perimeter-dev/perimeter/plan"
)

// session is one command's connection to the cluster, shared by the
// copies of its clusterFlags: apply DIR plans and then carries the plan
// out through the same client, so discovery, the cluster's identity and
// the HTTP/2 connection are not set up twice (20 ms away, each is a
// serial round trip or more before the first write).
type session struct {
	client *cluster.Client
	id     *plan.ClusterIdentity
}

// connect returns the command's client, connecting on first use.
func (f *clusterFlags) connect() (*cluster.Client, error) {
	if f.session != nil && f.session.client != nil {
		return f.session.client, nil
	}
	c, err := cluster.Connect(cluster.Options{Kubeconfig: f.kubeconfig, Context: f.context})
	if err == nil && f.session != nil {
		f.session.client = c
	}
	return c, err
}

// identity reads the identity of the cluster client talks to, once per
// command (see identify).
func (f *clusterFlags) identity(ctx context.Context, client *cluster.Client) *plan.ClusterIdentity {
	s := f.session
	if s == nil || s.client != client {
		return identify(ctx, client)
	}
	if s.id == nil {
		s.id = identify(ctx, client)
	}
	return s.id
}

// connecting is a connection being set up while the intent compiles:
// loading the kubeconfig, the TLS handshake, discovery and the cluster's
// identity need nothing from the intent, and 20 ms away they are four
// round trips or more that the compile hides. Should the compile fail,
// the reads are left to finish unread (they change nothing).
type connecting struct {
	conn chan connected
	id   chan *plan.ClusterIdentity
}

type connected struct {
	client *cluster.Client
	err    error
}

// connectEarly starts connecting and reading the cluster's identity.
func (f *clusterFlags) connectEarly(ctx context.Context) *connecting {
	c := &connecting{conn: make(chan connected, 1), id: make(chan *plan.ClusterIdentity, 1)}
	go func() {
		client, err := f.connect()
		c.conn <- connected{client, err}
		if err == nil {
			c.id <- f.identity(ctx, client)
		}
	}()
	return c
}

// client waits for the connection.
func (c *connecting) client() (*cluster.Client, error) {
	r := <-c.conn
	c.conn <- r // for a later call
	return r.client, r.err
}

// identity waits for the cluster's identity; call it only after client
// returned no error.
func (c *connecting) identity() *plan.ClusterIdentity {
	id := <-c.id
	c.id <- id
	return id
}
