package main

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
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
