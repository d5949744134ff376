package compile

import (
	"net/netip"
	"strconv"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/validation"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Defaults filled into compiled output where the desired state leaves a
// field unset.
const (
	// DefaultBGPPort is a peer's port when unset.
	DefaultBGPPort = 179
	// DefaultHoldTime is a peer's hold time when unset. An explicit zero
	// is kept: it disables keepalives.
	DefaultHoldTime = 90 * time.Second

	// DefaultCheckInterval and DefaultCheckTimeout apply to a health check
	// whose interval or timeout is unset or zero. The timeout never exceeds
	// the interval.
	DefaultCheckInterval = time.Second
	DefaultCheckTimeout  = 500 * time.Millisecond
	// DefaultRise and DefaultFall apply when rise or fall is 0. Validation
	// refuses 0 for services, so in practice they fill origin checks.
	DefaultRise = 2
	DefaultFall = 2
	// DefaultHTTPStatus and DefaultHTTPPath apply to http and https checks.
	DefaultHTTPStatus = 200
	DefaultHTTPPath   = "/"
	// DefaultDNSType and DefaultDNSRcode apply to dns checks.
	DefaultDNSType  = "A"
	DefaultDNSRcode = "NOERROR"

	// DefaultHoldDown, DefaultHoldDownMax and DefaultFlapWindow apply to a
	// service that leaves them unset. An explicit zero hold-down is kept:
	// it re-announces as soon as rise is reached.
	DefaultHoldDown    = 5 * time.Second
	DefaultHoldDownMax = 5 * time.Minute
	DefaultFlapWindow  = 10 * time.Minute

	// DrainPrepend is the extra AS-path prepend count of a service
	// announced by a PoP at DrainGracefulShutdown.
	DrainPrepend = validation.DrainPrepend

	// DefaultZoneTTL is a zone's default TTL when the zone sets none.
	DefaultZoneTTL = 60
	// DefaultAnswers is how many addresses a GSLB response carries.
	DefaultAnswers = 1
	// DefaultTrafficDial is an origin's traffic dial when unset, in percent.
	DefaultTrafficDial = 100

	// SOA timers of a zone that leaves them 0, in seconds. The SOA minimum
	// (negative-caching TTL) defaults to the zone's default TTL.
	DefaultSoaRefresh = 3600
	DefaultSoaRetry   = 600
	DefaultSoaExpire  = 1209600
	// DefaultSoaRnameLabel is prepended to the zone apex to make the SOA
	// responsible-person name when the zone sets none.
	DefaultSoaRnameLabel = "hostmaster"
)

// defaultCheckPort is the port probed by a check with an empty target:
// http 80, dns 53, https and tcp 443.
func defaultCheckPort(p v1.CheckProtocol) int {
	switch p {
	case v1.CheckProtocol_CHECK_PROTOCOL_HTTP:
		return 80
	case v1.CheckProtocol_CHECK_PROTOCOL_DNS:
		return 53
	}
	return 443
}

// checkWithDefaults returns a copy of a health check with every default
// filled in. A nil check becomes a tcp check of port 443. An unspecified
// protocol is tcp. An empty target becomes ":port" with the protocol's
// default port; the empty host means the service's first prefix address
// (services) or each of the probe's addresses (origin probes).
func checkWithDefaults(hc *v1.HealthCheck) *v1.HealthCheck {
	c := &v1.HealthCheck{}
	if hc != nil {
		c = proto.Clone(hc).(*v1.HealthCheck)
	}
	if c.Protocol == v1.CheckProtocol_CHECK_PROTOCOL_UNSPECIFIED {
		c.Protocol = v1.CheckProtocol_CHECK_PROTOCOL_TCP
	}
	if c.Target == "" {
		c.Target = ":" + strconv.Itoa(defaultCheckPort(c.Protocol))
	}
	switch c.Protocol {
	case v1.CheckProtocol_CHECK_PROTOCOL_HTTP, v1.CheckProtocol_CHECK_PROTOCOL_HTTPS:
		if c.ExpectedStatus == 0 {
			c.ExpectedStatus = DefaultHTTPStatus
		}
		if c.Path == "" {
			c.Path = DefaultHTTPPath
		}
	case v1.CheckProtocol_CHECK_PROTOCOL_DNS:
		if c.DnsType == "" {
			c.DnsType = DefaultDNSType
		}
		if c.DnsRcode == "" {
			c.DnsRcode = DefaultDNSRcode
		}
	}
	interval := c.GetInterval().AsDuration()
	if interval <= 0 {
		interval = DefaultCheckInterval
		c.Interval = durationpb.New(interval)
	}
	if c.GetTimeout().AsDuration() <= 0 {
		c.Timeout = durationpb.New(min(DefaultCheckTimeout, interval))
	}
	if c.Rise == 0 {
		c.Rise = DefaultRise
	}
	if c.Fall == 0 {
		c.Fall = DefaultFall
	}
	return c
}

// peerWithDefaults returns a copy of a BGP peer with port, hold time and
// address families filled in. Families default to the family of the peer's
// address.
func peerWithDefaults(p *v1.BgpPeer) *v1.BgpPeer {
	c := proto.Clone(p).(*v1.BgpPeer)
	if c.Port == 0 {
		c.Port = DefaultBGPPort
	}
	if c.HoldTime == nil {
		c.HoldTime = durationpb.New(DefaultHoldTime)
	}
	if len(c.Families) == 0 {
		if a, err := netip.ParseAddr(c.Address); err == nil {
			if a.Unmap().Is4() {
				c.Families = []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV4_UNICAST}
			} else {
				c.Families = []v1.AddressFamily{v1.AddressFamily_ADDRESS_FAMILY_IPV6_UNICAST}
			}
		}
	}
	return c
}

// durationOr returns a copy of d, or def when d is unset.
func durationOr(d *durationpb.Duration, def time.Duration) *durationpb.Duration {
	if d == nil {
		return durationpb.New(def)
	}
	return proto.Clone(d).(*durationpb.Duration)
}
