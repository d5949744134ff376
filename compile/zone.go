package compile

import (
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/proto"
)

// compileZone copies a zone with its names made absolute and lower case and
// every default filled in: the default TTL, each static record's TTL, and the
// SOA (serial = revision when 0, timers, mname = first name server, rname =
// hostmaster at the apex). A name server's or the SOA's name without a
// trailing dot is relative to the zone, as in a zone file and as validation
// reads it: "ns1" is "ns1.<zone>.", and its glue is checked there.
func compileZone(z *v1.GslbZone, revision int64) *v1.GslbZone {
	out := proto.Clone(z).(*v1.GslbZone)
	if out.Spec == nil {
		out.Spec = &v1.GslbZoneSpec{}
	}
	spec := out.Spec
	spec.Zone = fqdn(spec.Zone)
	if spec.DefaultTtl == 0 {
		spec.DefaultTtl = DefaultZoneTTL
	}
	for _, ns := range spec.NameServers {
		ns.Name = resolveName(ns.Name, spec.Zone)
	}
	for _, r := range spec.Records {
		r.Name = resolveName(r.Name, spec.Zone)
		if r.Ttl == 0 {
			r.Ttl = spec.DefaultTtl
		}
	}
	spec.Soa = soaWithDefaults(spec, revision)
	return out
}

func soaWithDefaults(spec *v1.GslbZoneSpec, revision int64) *v1.Soa {
	soa := spec.Soa
	if soa == nil {
		soa = &v1.Soa{}
	}
	if soa.Mname != "" {
		soa.Mname = resolveName(soa.Mname, spec.Zone)
	} else if len(spec.NameServers) > 0 {
		soa.Mname = spec.NameServers[0].Name
	}
	if soa.Rname != "" {
		soa.Rname = resolveName(soa.Rname, spec.Zone)
	} else if spec.Zone != "" {
		soa.Rname = resolveName(DefaultSoaRnameLabel, spec.Zone)
	}
	if soa.Serial == 0 {
		// The serial is 32 bits; a store revision past that wraps, which
		// RFC 1982 serial arithmetic tolerates.
		soa.Serial = uint32(revision)
	}
	if soa.Refresh == 0 {
		soa.Refresh = DefaultSoaRefresh
	}
	if soa.Retry == 0 {
		soa.Retry = DefaultSoaRetry
	}
	if soa.Expire == 0 {
		soa.Expire = DefaultSoaExpire
	}
	if soa.Minimum == 0 {
		soa.Minimum = spec.DefaultTtl
	}
	return soa
}
