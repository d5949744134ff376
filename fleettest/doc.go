// Package fleettest runs the fleet as users run it and breaks it the way
// production does: a three-member etcd cluster (separate processes, TLS
// with client certificates and etcd auth), controller replicas as
// `anyctl controller` processes on it, PoP agents peering with an
// upstream router, and GeoDNS servers, every agent and DNS server given
// the whole list of replicas. Its tests kill the leader during a drain,
// kill etcd members, take quorum away, stop every controller and cut a
// replica off from etcd, and count what users would feel: UPDATEs at the
// router, failed DNS queries.
package fleettest
