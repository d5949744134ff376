// Package dnssec holds what signing a GSLB zone needs beside the index:
// the zone's keys (BIND-format key files, so that dnssec-keygen and
// dnssec-settime interoperate) and their revocation (RFC 5011, as BIND's
// dnssec-settime -R and dnssec-revoke do it), the timing of key rollovers
// computed from TTLs, RRSIGs over RRsets with a validity window and a refresh time, the
// DS records to give the parent (and the check of those a parent's server
// serves), and the NSEC chain over a zone's finite set of names.
//
// Private keys live only in key files on the DNS servers (mode 0600 in a
// directory the operator chooses): never in etcd, the GSLB snapshot, API
// output or logs. Every server of a zone loads the same files, so they
// answer with the same DNSKEY set and signatures that validate alike.
package dnssec
