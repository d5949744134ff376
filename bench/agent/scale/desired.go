//go:build linux

package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/anyctl/anyctl/agent/speaker/upstream"
)

// scaleSpace is the address space the services' /24s are carved from; it
// holds 16,384 of them.
var scaleSpace = netip.MustParsePrefix("100.64.0.0/10")

// desiredYAML is PoP tokyo peering with the two routers, and services
// services of perService /24s each, all checked against one TCP target.
func desiredYAML(r1, r2 *upstream.Router, services, perService, checkPort int) string {
	var b strings.Builder
	fmt.Fprintf(&b, `apiVersion: anycast.anyctl.io/v1
kind: Pop
metadata: {name: tokyo}
spec:
  location: {latitude: 35.6762, longitude: 139.6503, country: JP, continent: AS, region: apac, city: Tokyo}
  localAsn: %d
  routerId: 192.0.2.254
  peers:
    - {address: %s, port: %d, peerAsn: %d, holdTime: 90s}
    - {address: %s, port: %d, peerAsn: %d, holdTime: 90s}
`, popASN, r1.Addr(), r1.Port(), routerASN, r2.Addr(), r2.Port(), routerASN)
	base := scaleSpace.Addr().As4()
	first := uint32(base[0])<<24 | uint32(base[1])<<16
	for s := range services {
		fmt.Fprintf(&b, `---
apiVersion: anycast.anyctl.io/v1
kind: AnycastService
metadata: {name: svc-%03d}
spec:
  pops: {names: [tokyo]}
  healthCheck: {protocol: tcp, target: "127.0.0.1:%d", interval: 1s, timeout: 500ms, rise: 1, fall: 2}
  announce: {communities: ["%d:%d"]}
  prefixes:
`, s, checkPort, popASN, s)
		for p := range perService {
			a := first + uint32(s*perService+p)<<8
			fmt.Fprintf(&b, "    - %d.%d.%d.0/24\n", a>>24, a>>16&0xff, a>>8&0xff)
		}
	}
	return b.String()
}

// agentYAML is the agent's config file.
func agentYAML(controller, stateDir string, maxPrefixes int) string {
	return fmt.Sprintf(`pop: tokyo
controller: %q
stateDir: %q
metricsListen: 127.0.0.1:0
origination:
  allowedPrefixes: [%s]
  maxPrefixesPerPeer: %d
shutdownGrace: 1s
`, controller, stateDir, scaleSpace, maxPrefixes)
}
