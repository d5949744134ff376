// Package wire is the DNS wire format on the UDP fast path: a parser for the
// common query shape (one question, optionally an OPT record with an EDNS
// Client Subnet option) that never allocates, a conversion from a
// github.com/miekg/dns message for everything else, and the few appenders a
// pre-packed answer needs (header patching, the OPT record).
package wire
