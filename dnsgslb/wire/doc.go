// Package wire is the DNS wire format of the server's queries and replies:
// a parser for the common query shape (one question, optionally an OPT
// record) that never allocates, a parser for any other shape that walks
// every record and flags what is a FORMERR, the EDNS options the server
// reads (Client Subnet, COOKIE, NSID, edns-tcp-keepalive), and the few
// appenders a pre-packed answer needs (header patching, the OPT record with
// the reply's options).
package wire
