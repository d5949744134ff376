// Package compile turns the desired state into what each part of the fleet
// runs: one PopConfig per PoP for its agent, and one GslbSnapshot for the DNS
// servers. A Fleet compiles the PopConfigs of every PoP at once for a
// controller that streams them to thousands of agents: what PoPs share is
// compiled and encoded once, and a change compiles again only what it
// replaced; PopConfig is the reference it is tested against.
//
// Every function here is pure. It reads a resource.State and the fleet's
// Observed state, never mutates either, shares no message with its input
// (everything copied is cloned) and returns the same output for the same
// input: lists that come from maps are sorted by name, and lists of
// prefixes and communities are put in canonical order.
//
// Compiled output carries every default filled in (see defaults.go), so that
// agents and DNS servers act on explicit values and need no defaults of
// their own. Input is assumed to have passed validation; text that does not
// parse (a prefix, a community) is passed through unchanged, sorted after
// the parsed values, for the receiver's own checks to reject.
package compile
