// Package dnsgslb is the GeoDNS server of the GSLB: an authoritative DNS
// server over UDP and TCP that answers from an immutable index compiled from
// the controller's snapshot and swapped atomically on every update. The UDP
// path is its own batched read loop that copies pre-packed answers and
// patches them in place, without allocating; TCP and unusual queries go
// through github.com/miekg/dns. The last snapshot is persisted in the state
// directory so the server answers across a restart without a controller.
package dnsgslb
