// Package geo turns a client address into a location class. It compiles a
// MaxMind (mmdb) City or Country database, the networks that PoP caches query
// from, and a default location into one prefix table per address family: a
// sorted partition of the address space into CIDR leaves, each naming a
// location class. Lookups are a binary search with no decoding and no locks;
// the leaf's prefix length is what an answer's ECS scope starts from.
package geo
