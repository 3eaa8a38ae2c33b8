package main

import (
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"k8s.io/client-go/tools/clientcmd"
)

// proxy is a TCP proxy in front of the API server that delays every byte
// by delay in each direction: a round trip costs 2×delay more, as on a
// cluster that far away. It passes TLS through untouched (the API
// server's certificate names 127.0.0.1, where the proxy listens, so
// clients verify it as usual) and counts the connections opened, which
// is where a long round trip hurts twice (TCP and TLS handshakes).
type proxy struct {
	ln          net.Listener
	upstream    string
	delay       time.Duration
	connections atomic.Int64
	wg          sync.WaitGroup
}

// startProxy listens on a free loopback port and forwards to upstream.
func startProxy(upstream string, delay time.Duration) (*proxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &proxy{ln: ln, upstream: upstream, delay: delay}
	p.wg.Add(1)
	go p.serve()
	return p, nil
}

// Addr is the host:port clients connect to.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// Close stops accepting; open connections end when either side closes.
func (p *proxy) Close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.connections.Add(1)
		go p.handle(c)
	}
}

func (p *proxy) handle(client net.Conn) {
	server, err := net.Dial("tcp", p.upstream)
	if err != nil {
		client.Close()
		return
	}
	done := make(chan struct{}, 2)
	go func() { delayLine(server, client, p.delay); done <- struct{}{} }()
	go func() { delayLine(client, server, p.delay); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
}

// chunk is data read at a moment, to be written delay later.
type chunk struct {
	data []byte
	at   time.Time
}

// delayLine copies src to dst, each chunk written delay after it was
// read. Reading goes on while earlier chunks wait, so the delay adds
// latency without cutting throughput (a read-sleep-write loop would
// delay every chunk behind the previous one's sleep).
func delayLine(dst io.Writer, src io.Reader, delay time.Duration) {
	queue := make(chan chunk, 1024)
	stop := make(chan struct{})
	defer close(stop) // a failed write must not leave the reader stuck on a full queue
	go func() {
		defer close(queue)
		for {
			buf := make([]byte, 32*1024)
			n, err := src.Read(buf)
			if n > 0 {
				select {
				case queue <- chunk{buf[:n], time.Now()}:
				case <-stop:
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range queue {
		if wait := time.Until(c.at.Add(delay)); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := dst.Write(c.data); err != nil {
			return
		}
	}
}

// serveProxy runs the proxy with the first of delays in front of the API
// server of kubeconfig, writes a kubeconfig whose clusters go through it
// to out, and serves until interrupted: for timing single commands as if
// the cluster were that far away (docs/benchmarks.md).
func serveProxy(kubeconfig, out, delays string) error {
	if out == "" {
		return fmt.Errorf("-proxy-for needs -proxy-kubeconfig")
	}
	delay, err := time.ParseDuration(strings.TrimSpace(strings.Split(delays, ",")[0]))
	if err != nil {
		return fmt.Errorf("-delay %q: %w", delays, err)
	}
	cfg, err := clientcmd.LoadFromFile(kubeconfig)
	if err != nil {
		return err
	}
	var proxies []*proxy
	defer func() {
		for _, p := range proxies {
			p.Close()
		}
	}()
	for name, c := range cfg.Clusters {
		u, err := url.Parse(c.Server)
		if err != nil {
			return fmt.Errorf("cluster %s: %w", name, err)
		}
		p, err := startProxy(u.Host, delay)
		if err != nil {
			return err
		}
		proxies = append(proxies, p)
		u.Host = p.Addr()
		c.Server = u.String()
		fmt.Printf("cluster %s: %s, %v each way\n", name, c.Server, delay)
	}
	if err := clientcmd.WriteToFile(*cfg, out); err != nil {
		return err
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	<-stop
	return nil
}
