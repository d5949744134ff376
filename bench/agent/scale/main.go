//go:build linux

// Command scale measures one PoP agent announcing many prefixes: it runs a
// controller (with its embedded etcd) and two upstream GoBGP routers in this
// process, applies services holding -services × -per-service IPv4 /24s, runs
// `anyctl agent` as its own process, and reports how long the routers take
// to hold every prefix and the agent's peak resident memory (VmHWM). It
// cleans up everything it starts, also when interrupted.
//
//	go run ./bench/agent/scale                  # 100 services × 100 prefixes
//	go run ./bench/agent/scale -services 10 -per-service 1000
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
)

// The PoP's and the routers' AS numbers.
const (
	popASN    = 64512
	routerASN = 64500
)

func main() {
	var o options
	flag.IntVar(&o.services, "services", 100, "anycast services")
	flag.IntVar(&o.perService, "per-service", 100, "IPv4 /24 prefixes per service")
	flag.StringVar(&o.anyctl, "anyctl", "", "anyctl binary to run (default: build ./cli/anyctl into a temporary directory)")
	flag.DurationVar(&o.timeout, "timeout", defaultTimeout, "give up when the routers do not hold every prefix this long after the agent starts")
	flag.DurationVar(&o.settle, "settle", defaultSettle, "how long to keep the agent running after it announced everything, for steady-state memory")
	flag.Parse()
	if total := o.services * o.perService; o.services < 1 || o.perService < 1 || total > 1<<(32-scaleSpace.Bits()-8) {
		fmt.Fprintf(os.Stderr, "scale: -services %d × -per-service %d: want 1 to %d prefixes in all (the /24s of %s)\n",
			o.services, o.perService, 1<<(32-scaleSpace.Bits()-8), scaleSpace)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, o); err != nil {
		fmt.Fprintf(os.Stderr, "scale: %v\n", err)
		stop()
		os.Exit(1)
	}
}

// loopbacks are the addresses the routers listen on; the agent dials them
// from 127.0.0.1.
var (
	agentAddr = netip.MustParseAddr("127.0.0.1")
	router1   = netip.MustParseAddr("127.0.0.12")
	router2   = netip.MustParseAddr("127.0.0.13")
)

// startTarget accepts and holds TCP connections on a free loopback port: the
// one health target every service checks.
func startTarget() (net.Listener, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	go func() {
		var conns []net.Conn
		for {
			c, err := lis.Accept()
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return
			}
			conns = append(conns, c)
		}
	}()
	return lis, nil
}
