package dataplane

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
)

// ProbeTimeout bounds one connection attempt.
const ProbeTimeout = time.Second

// answer is what every listener sends, so that a probe knows it reached
// one of the sandbox's listeners.
var answer = []byte("perimeter-dataplane\n")

// listen serves every port on every address from inside the namespace at
// nsPath: TCP accepts and answers, UDP answers each datagram. The
// returned function closes the listeners.
func listen(nsPath string, addrs []netip.Addr, ports []Port) (func(), error) {
	var closers []io.Closer
	err := inNetns(nsPath, func() error {
		for _, a := range addrs {
			for _, p := range ports {
				hp := net.JoinHostPort(a.String(), strconv.Itoa(int(p.Number)))
				switch p.Protocol {
				case corev1.ProtocolUDP:
					pc, err := net.ListenPacket("udp4", hp)
					if err != nil {
						return err
					}
					closers = append(closers, pc)
					go serveUDP(pc)
				default:
					l, err := net.Listen("tcp4", hp)
					if err != nil {
						return err
					}
					closers = append(closers, l)
					go serveTCP(l)
				}
			}
		}
		return nil
	})
	stop := func() {
		for _, c := range closers {
			c.Close()
		}
	}
	if err != nil {
		stop()
		return nil, fmt.Errorf("listening: %w", err)
	}
	return stop, nil
}

func serveTCP(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			_ = c.SetDeadline(time.Now().Add(2 * ProbeTimeout))
			_, _ = c.Write(answer)
			c.Close()
		}()
	}
}

func serveUDP(pc net.PacketConn) {
	buf := make([]byte, 512)
	for {
		_, from, err := pc.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = pc.WriteTo(answer, from)
	}
}

// Probe is one connection attempt: From (a pod or a host) to To's address
// on Port.
type Probe struct {
	From, To Endpoint
	Port     Port
}

// String is "ns/a -> 203.0.113.1 443/TCP".
func (p Probe) String() string { return fmt.Sprintf("%s -> %s %s", p.From, p.To, p.Port) }

// Endpoint is a pod or an external host.
type Endpoint struct {
	Pod  *Pod
	Host *Host
}

// String names the pod or the address.
func (e Endpoint) String() string {
	if e.Pod != nil {
		return e.Pod.Key()
	}
	return e.Host.IP.String()
}

func (e Endpoint) addr() netip.Addr {
	if e.Pod != nil {
		return e.Pod.IP
	}
	return e.Host.IP
}

func (sb *Sandbox) netnsOf(e Endpoint) string {
	if e.Pod != nil {
		return netnsPath(e.Pod.netns)
	}
	return netnsPath(sb.world)
}

// Result is a probe's outcome: Open when the listener answered. A closed
// probe whose listener did not answer the same probe from inside its own
// namespace either is Invalid (a dead listener and a REJECT look alike).
type Result struct {
	Probe
	Open    bool
	Invalid string
}

// Probe runs the probes, several at a time, and returns their results in
// the same order.
func (sc *Scene) Probe(probes []Probe) []Result {
	out := make([]Result, len(probes))
	sem := make(chan struct{}, 32)
	var wg sync.WaitGroup
	for i, p := range probes {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			out[i] = sc.sb.probe(p)
		}()
	}
	wg.Wait()
	return out
}

func (sb *Sandbox) probe(p Probe) Result {
	r := Result{Probe: p}
	r.Open = connect(sb.netnsOf(p.From), p.From.addr(), p.To.addr(), p.Port) == nil
	if r.Open {
		return r
	}
	// The same probe from inside the listener's own namespace.
	if err := connect(sb.netnsOf(p.To), p.To.addr(), p.To.addr(), p.Port); err != nil {
		r.Invalid = fmt.Sprintf("the listener on %s %s does not answer from its own namespace: %v", p.To, p.Port, err)
	}
	return r
}

// connect opens a connection from the namespace at nsPath (from the local
// address) and checks that a listener answers.
func connect(nsPath string, local, to netip.Addr, p Port) error {
	return inNetns(nsPath, func() error {
		network := "tcp4"
		laddr := net.Addr(&net.TCPAddr{IP: local.AsSlice()})
		if p.Protocol == corev1.ProtocolUDP {
			network, laddr = "udp4", &net.UDPAddr{IP: local.AsSlice()}
		}
		d := net.Dialer{Timeout: ProbeTimeout, LocalAddr: laddr}
		c, err := d.Dial(network, net.JoinHostPort(to.String(), strconv.Itoa(int(p.Number))))
		if err != nil {
			return err
		}
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(ProbeTimeout))
		if p.Protocol == corev1.ProtocolUDP {
			if _, err := c.Write([]byte("probe")); err != nil {
				return err
			}
		}
		buf := make([]byte, len(answer))
		if _, err := io.ReadFull(c, buf); err != nil {
			return err
		}
		if !bytes.Equal(buf, answer) {
			return errors.New("an unknown listener answered")
		}
		return nil
	})
}
