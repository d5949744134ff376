// Package lab holds the test of the routed anycast lab (deploy/lab): a
// client, an FRR router and three PoPs (tokyo, london, newyork) in network
// namespaces, each PoP running an anyctl agent and a service on the anycast
// address 192.0.2.1, with a controller in the root namespace.
//
// The test checks what a client of a real anycast network sees: it reaches
// the nearest healthy PoP, fails over when that PoP's service dies (and
// reports how long that takes, split into the agent's and the router's
// share), loses no request while a PoP is drained and undrained, and sees no
// routing change when the controller is killed and restarted.
//
// It needs root, ip netns and FRR (/usr/lib/frr), and skips without them;
// scripts/test-deps.sh installs the packages.
package lab
