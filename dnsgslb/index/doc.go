// Package index compiles a GSLB snapshot into the immutable structure a DNS
// server answers from: names, pre-packed answers per (name, type, location
// class, client-subnet bucket), ECS scopes per prefix-table leaf, and the
// selection pipeline (residency, health, policy, traffic dial, first N) that
// produced them. Explain runs the same pipeline with a trace.
package index
