package index

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/anyctl/anyctl/compile"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"github.com/anyctl/anyctl/validation"
)

// validatedUniverse builds random objects over a few names each, so that
// applies and deletes meet each other: PoPs changing region, origins
// changing addresses, zones nested in one another with static records,
// delegations and name servers reaching into each other, records moving
// between zones and names, residency rules naming candidates.
type validatedUniverse struct{ r *rand.Rand }

func (u validatedUniverse) pick(xs ...string) string { return xs[u.r.IntN(len(xs))] }

func (u validatedUniverse) some(xs ...string) []string {
	var out []string
	for _, x := range xs {
		if u.r.IntN(2) == 0 {
			out = append(out, x)
		}
	}
	return out
}

func (u validatedUniverse) addrs(i int) []string {
	switch u.r.IntN(4) {
	case 0:
		return []string{fmt.Sprintf("192.0.2.%d", i+1)}
	case 1:
		return []string{fmt.Sprintf("2001:db8::%d", i+1)}
	case 2:
		return []string{fmt.Sprintf("192.0.2.%d", i+1), fmt.Sprintf("2001:db8::%d", i+1)}
	}
	return []string{"lb.example.net."}
}

// staticData is a static record of a type parsed from zone-file data,
// its value one that parses: some that the DNS server cannot pack, or
// serves with another meaning.
func (u validatedUniverse) staticData() *v1.StaticRecord {
	const digest = "3B8B7C8F0A5E1A6E0B8F2D1C4A5B6C7D8E9F0A1B2C3D4E5F6A7B8C9D0E1F2A3B"
	name := u.pick("www", "x", "svc", "@")
	switch u.r.IntN(5) {
	case 0:
		return &v1.StaticRecord{Name: name, Type: v1.RecordType_RECORD_TYPE_MX, Values: []string{u.pick("10 mx", "10 mx.example.net.", "", "10 192.0.2.25")}}
	case 1:
		return &v1.StaticRecord{Name: name, Type: v1.RecordType_RECORD_TYPE_SVCB, Values: []string{u.pick("1 . alpn=h2", "1 . port=1 port=2", "1 . mandatory=port", "0 svc.example.net.")}}
	case 2:
		return &v1.StaticRecord{Name: name, Type: v1.RecordType_RECORD_TYPE_HTTPS, Values: []string{u.pick("1 . alpn=h2,h3", "1 . alpn=h2 alpn=h3", "1 . no-default-alpn")}}
	case 3:
		return &v1.StaticRecord{Name: name, Type: v1.RecordType_RECORD_TYPE_CAA, Values: []string{u.pick(`0 issue "ca.example.net"`, "")}}
	}
	return &v1.StaticRecord{Name: "sub", Type: v1.RecordType_RECORD_TYPE_DS, Values: []string{u.pick("12345 13 2 "+digest, "12345 13 2 XY"+digest[2:], "12345 13 2 "+digest[:40])}}
}

func (u validatedUniverse) object() *v1.Object {
	i := u.r.IntN(3)
	loc := &v1.Location{Latitude: float64(10 * i), Longitude: float64(20 * i), Country: u.pick("DE", "US", "JP"), Continent: u.pick("EU", "NA", "AS"), Region: u.pick("r0", "r1")}
	switch u.r.IntN(4) {
	case 0:
		addrs := u.addrs(i)
		if addrs[0] == "lb.example.net." {
			addrs = nil
		}
		return resource.Wrap(&v1.Pop{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("p%d", i)}, Spec: &v1.PopSpec{
			Location: loc, LocalAsn: 64512, RouterId: fmt.Sprintf("10.0.0.%d", i+1),
			UnicastAddresses: addrs, Maintenance: u.r.IntN(4) == 0,
		}})
	case 1:
		return resource.Wrap(&v1.Origin{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("o%d", i)}, Spec: &v1.OriginSpec{
			Location: loc, Addresses: u.addrs(i), Weight: int32(1 + u.r.IntN(3)),
		}})
	case 2:
		apex := []string{"example.com.", "a.example.com.", "example.org."}[u.r.IntN(3)]
		spec := &v1.GslbZoneSpec{
			Zone:        apex,
			Soa:         &v1.Soa{Mname: "ns1.example.net.", Rname: "hostmaster.example.net.", Minimum: 60},
			NameServers: []*v1.NameServer{{Name: "ns1.example.net."}},
			DefaultTtl:  60,
		}
		if u.r.IntN(3) == 0 {
			spec.NameServers = append(spec.NameServers, &v1.NameServer{Name: u.pick("ns.a.example.com.", "ns.example.com.", "www.a.example.com."), Addresses: []string{"192.0.2.53"}})
		}
		switch u.r.IntN(6) {
		case 3:
			spec.Records = []*v1.StaticRecord{{Name: u.pick("www", "x", "a", "@"), Type: v1.RecordType_RECORD_TYPE_TXT, Values: []string{"hello"}}}
		case 4:
			spec.Records = []*v1.StaticRecord{
				{Name: "sub", Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.sub." + apex}},
				{Name: "ns.sub", Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.54"}},
			}
		}
		if u.r.IntN(4) == 0 {
			spec.Records = append(spec.Records, u.staticData())
		}
		switch u.r.IntN(4) {
		case 0:
			spec.Records = []*v1.StaticRecord{{Name: u.pick("www", "x", "a"), Type: v1.RecordType_RECORD_TYPE_A, Values: []string{"192.0.2.99"}}}
		case 1:
			spec.Records = []*v1.StaticRecord{{Name: u.pick("sub", "a", "x"), Type: v1.RecordType_RECORD_TYPE_NS, Values: []string{"ns.example.net."}}}
		case 2:
			spec.Records = []*v1.StaticRecord{{Name: u.pick("www", "x"), Type: v1.RecordType_RECORD_TYPE_CNAME, Values: []string{"elsewhere.example.net."}}}
		}
		return resource.Wrap(&v1.GslbZone{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("z%d", i)}, Spec: spec})
	}
	spec := &v1.GslbRecordSpec{
		Zone: u.pick("z0", "z1", "z2"), Name: u.pick("www", "x", "a", "y.sub", "www.a"),
		Type:   []v1.RecordType{v1.RecordType_RECORD_TYPE_A, v1.RecordType_RECORD_TYPE_AAAA, v1.RecordType_RECORD_TYPE_HTTPS}[u.r.IntN(3)],
		Policy: []v1.Policy{v1.Policy_POLICY_NEAREST, v1.Policy_POLICY_WEIGHTED, v1.Policy_POLICY_FAILOVER}[u.r.IntN(3)],
	}
	var names []string
	if u.r.IntN(2) == 0 {
		spec.Origins = u.some("o0", "o1", "o2")
		names = spec.Origins
	} else {
		spec.Pops = &v1.PopSelector{Names: u.some("p0", "p1", "p2")}
		names = spec.Pops.Names
		if u.r.IntN(2) == 0 {
			spec.Pops = &v1.PopSelector{Regions: u.some("r0", "r1")}
			names = []string{"p0", "p1", "p2"}
		}
	}
	spec.Answers = uint32(u.r.IntN(3))
	spec.WhenAllDown = v1.AllDownBehavior(u.r.IntN(4))
	if spec.Type == v1.RecordType_RECORD_TYPE_HTTPS && u.r.IntN(2) == 0 {
		spec.Https = &v1.ServiceBinding{Params: u.pick("alpn=h2,h3", "port=8443", "alpn=h3 port=443", "alpn=h2 alpn=h3", "mandatory=alpn", "alpn=h2 mandatory=ipv6hint")}
	}
	if len(names) > 0 && u.r.IntN(3) == 0 {
		spec.Residency = []*v1.ResidencyRule{{Continents: []string{"EU"}, Allowed: []string{u.pick(names...)}}}
	}
	return resource.Wrap(&v1.GslbRecord{Metadata: &v1.ObjectMeta{Name: fmt.Sprintf("rec%d", u.r.IntN(4))}, Spec: spec})
}

// TestValidatedStatesBuild applies and deletes random objects as the
// Admin API does, through validation: every state validation lets through
// must compile, with random origin verdicts and drains, to a snapshot the
// DNS server builds, since a snapshot it refuses stops every update at
// that server.
func TestValidatedStatesBuild(t *testing.T) {
	db := randomDB(t, 50, 10)
	opts := validation.Options{AllowedPrefixes: validation.DefaultAllowedPrefixes()}
	for seed := range uint64(100) {
		u := validatedUniverse{rand.New(rand.NewPCG(seed, 5))}
		st := resource.NewState()
		var accepted int
		for step := range 400 {
			var what string
			if all := st.Objects(); len(all) > 0 && u.r.IntN(6) == 0 {
				// An apply that prunes: deletes and puts in one change.
				gone := []resource.Ref{resource.RefOf(all[u.r.IntN(len(all))])}
				puts := []*v1.Object{u.object()}
				if validation.CheckChange(puts, gone, st, opts) != nil {
					continue
				}
				st = st.Clone()
				st.Delete(gone[0])
				st.Put(puts[0])
				what = fmt.Sprintf("delete %s, apply %v", gone[0], puts)
			} else if u.r.IntN(4) == 0 {
				kinds := resource.Kinds()
				k := kinds[u.r.IntN(len(kinds))]
				objs := st.OfKind(k)
				if len(objs) == 0 {
					continue
				}
				ref := resource.RefOf(objs[u.r.IntN(len(objs))])
				if validation.CheckDelete(ref, st) != nil {
					continue
				}
				st = st.Clone()
				st.Delete(ref)
				what = "delete " + ref.String()
			} else {
				objs := []*v1.Object{u.object()}
				for u.r.IntN(3) == 0 {
					objs = append(objs, u.object())
				}
				if validation.CheckApply(objs, st, opts) != nil {
					continue
				}
				st = st.Clone()
				for _, o := range objs {
					st.Put(o)
				}
				what = fmt.Sprintf("apply %v", objs)
			}
			accepted++
			st.Revision = int64(step + 1)
			obs := compile.Observed{OriginHealth: map[string]compile.OriginHealth{}, Drain: map[string]compile.DrainStep{}}
			for _, o := range []string{"o0", "o1", "o2"} {
				if u.r.IntN(3) == 0 {
					obs.OriginHealth[o] = compile.OriginHealth{Healthy: false, Reason: "down"}
				}
			}
			if u.r.IntN(4) == 0 {
				obs.Drain[u.pick("p0", "p1", "p2")] = compile.DrainGslb
			}
			snap := compile.GslbSnapshot(st, obs)
			if _, err := Compile(snap, Options{GeoIP: db}); err != nil {
				t.Fatalf("seed %d step %d: validation accepted %s, and the DNS server refuses the snapshot: %v\nzones %v\nrecords %v", seed, step, what, err, st.Zones, st.Records)
			}
		}
		if accepted < 20 {
			t.Errorf("seed %d: only %d changes accepted", seed, accepted)
		}
	}
}
