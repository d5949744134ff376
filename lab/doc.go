// Package lab holds the test of the routed anycast lab (deploy/lab): three
// PoPs (tokyo, london, newyork) behind two upstream routers, FRR and BIRD,
// each with a client behind it, all in network namespaces; each PoP runs an
// anyctl agent and a service on the anycast addresses 192.0.2.1 and
// 2001:db8:53::1, with a controller in the root namespace. Every link
// carries IPv4 and IPv6.
//
// The test checks what a client of a real anycast network sees, through
// either router and over either family: it reaches the nearest healthy PoP
// and fails over when that PoP's service dies (and reports how long that
// takes, split into the agent's and the router's share). It checks that
// the PoPs pass no route from one upstream to the other, that both routers
// offer graceful restart, that per-peer attributes reach only the router
// they were meant for, that no request is lost while a PoP is drained and
// undrained, that the router sees no routing change when the controller is
// killed and restarted, and that restarting a PoP's agent (graceful
// restart) moves nothing at either router.
//
// It needs root, ip netns, FRR (/usr/lib/frr) and BIRD 2, and skips without
// them; scripts/test-deps.sh installs the packages.
package lab
