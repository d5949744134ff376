package dnsgslb

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"log/slog"
	"math/bits"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/index"
	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// RRLConfig is response rate limiting (RRL) as BIND and Knot do it: UDP
// responses are counted per client network and per kind of response, and
// past the rate the excess is dropped, but for every Slip-th one, which is
// sent truncated (TC) so that a real client asking from that network
// retries over TCP. TCP is never limited: a spoofed source cannot complete
// a handshake; nor is a query with a valid server cookie, which a spoofed
// source cannot have learnt. The server answering the world from anycast
// cannot then be turned into an amplifier against a forged address.
//
// A response is counted against its client network (IPv4PrefixLen,
// IPv6PrefixLen) and: the query name and type for answers; the name for
// NODATA, whatever the type; the zone cut for referrals and the zone for
// NXDOMAIN (random names share one budget); nothing more for errors
// (REFUSED, FORMERR, ...). A resolver caches, so one network asking the
// same name more than ResponsesPerSecond times a second is a flood.
type RRLConfig struct {
	// ResponsesPerSecond is each budget's rate, and its burst: a quiet
	// budget lets that many responses go at once. 0 turns RRL off.
	ResponsesPerSecond int
	// Slip: every Slip-th limited response of a budget is sent truncated,
	// the others dropped; 1 truncates them all, 0 drops them all.
	Slip int
	// IPv4PrefixLen and IPv6PrefixLen group clients into networks; 0 is
	// 24 and 56.
	IPv4PrefixLen int
	IPv6PrefixLen int
	// Exempt are networks never limited (e.g. monitoring, known
	// resolvers). The PoPs' cache networks in the snapshot served are
	// always exempt.
	Exempt []netip.Prefix
	// TableSize is the number of budgets tracked at once, rounded up to a
	// power of two; 0 is 1<<18 (2 MiB). Budgets idle for a second are as
	// good as new and are the ones replaced.
	TableSize int
}

// DefaultRRL is the rate limiting a server has when Config.RRL is nil: 100
// responses a second per /24 or /56 and name, every second limited
// response truncated, loopback exempt (no packet from the network can
// carry a loopback source: the kernel drops it as martian).
func DefaultRRL() RRLConfig {
	return RRLConfig{
		ResponsesPerSecond: 100, Slip: 2, IPv4PrefixLen: 24, IPv6PrefixLen: 56,
		Exempt: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")},
	}
}

const (
	defaultRRLTable = 1 << 18
	maxRRLTable     = 1 << 26
	// An entry of the table is a 20-bit tag of its key above the 44-bit
	// theoretical arrival time (GCRA) of its next response, in
	// microseconds since the table's epoch, modulo 2^44.
	rrlTimeBits = 44
	rrlTimeMask = 1<<rrlTimeBits - 1
	// rrlMaxSkew is how far, in microseconds, a worker's batch stamp may
	// be behind the clock of another worker sharing the table.
	rrlMaxSkew = 1_000_000
)

// check validates c, naming the field and value.
func (c RRLConfig) check() error {
	switch {
	case c.ResponsesPerSecond < 0 || c.ResponsesPerSecond > 1_000_000:
		return fmt.Errorf("RRL.ResponsesPerSecond %d: want 0 (off) to 1000000", c.ResponsesPerSecond)
	case c.Slip < 0 || c.Slip > 10:
		return fmt.Errorf("RRL.Slip %d: want 0 (drop all) to 10 (1 truncates all)", c.Slip)
	case c.IPv4PrefixLen < 0 || c.IPv4PrefixLen > 32:
		return fmt.Errorf("RRL.IPv4PrefixLen %d: want 1 to 32 (0 for 24)", c.IPv4PrefixLen)
	case c.IPv6PrefixLen < 0 || c.IPv6PrefixLen > 128:
		return fmt.Errorf("RRL.IPv6PrefixLen %d: want 1 to 128 (0 for 56)", c.IPv6PrefixLen)
	case c.TableSize < 0 || c.TableSize > maxRRLTable:
		return fmt.Errorf("RRL.TableSize %d: want 0 (default) to %d", c.TableSize, maxRRLTable)
	}
	for i, p := range c.Exempt {
		if !p.IsValid() {
			return fmt.Errorf("RRL.Exempt[%d] %q: not a network", i, p.String())
		}
	}
	return nil
}

// rrl is the rate limiter shared by the UDP workers: a fixed table of
// atomic words, two-way associative, updated with compare-and-swap. It
// never allocates and never locks on the answer path.
type rrl struct {
	rate, slip   int
	v4Len, v6Len int
	exempt       []netip.Prefix
	// interval is the time one response takes off a budget, tolerance how
	// far ahead of now a budget may run (a second's worth of responses).
	interval, tolerance uint64
	mask                uint64
	table               []atomic.Uint64
	seed                maphash.Seed
	epoch               time.Time

	mu    sync.Mutex // guards stats
	stats []*rrlStats
}

// rrlStats are one responder's counters.
type rrlStats struct {
	limited, slipped, dropped, exempted atomic.Uint64
	_                                   [32]byte // keep responders' counters off each other's cache line
}

// newRRL returns the limiter of c; nil when c turns it off.
func newRRL(c RRLConfig) (*rrl, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.ResponsesPerSecond == 0 {
		return nil, nil
	}
	if c.IPv4PrefixLen == 0 {
		c.IPv4PrefixLen = 24
	}
	if c.IPv6PrefixLen == 0 {
		c.IPv6PrefixLen = 56
	}
	size := c.TableSize
	if size == 0 {
		size = defaultRRLTable
	}
	size = max(2, 1<<bits.Len(uint(size-1)))
	interval := uint64(1_000_000 / c.ResponsesPerSecond)
	return &rrl{
		rate:      c.ResponsesPerSecond,
		slip:      c.Slip,
		v4Len:     c.IPv4PrefixLen,
		v6Len:     c.IPv6PrefixLen,
		exempt:    append([]netip.Prefix(nil), c.Exempt...),
		interval:  interval,
		tolerance: uint64(c.ResponsesPerSecond-1) * interval,
		mask:      uint64(size - 1),
		table:     make([]atomic.Uint64, size),
		seed:      maphash.MakeSeed(),
		epoch:     time.Now(),
	}, nil
}

// logConfig says how responses are limited; l may be nil (off).
func (l *rrl) logConfig(log *slog.Logger) {
	if l == nil {
		log.Warn("dns response rate limiting is off: the server answers any flood from a forged source")
		return
	}
	var exempt []string
	for _, p := range l.exempt {
		exempt = append(exempt, p.String())
	}
	log.Info("dns rate limiting UDP responses", "per_second", l.rate, "slip", l.slip,
		"ipv4_prefix", l.v4Len, "ipv6_prefix", l.v6Len, "exempt", strings.Join(exempt, ","), "budgets", len(l.table))
}

func (l *rrl) newStats() *rrlStats {
	st := &rrlStats{}
	l.mu.Lock()
	l.stats = append(l.stats, st)
	l.mu.Unlock()
	return st
}

// Kinds of response, each with budgets of its own.
const (
	rrlAnswer = iota + 1
	rrlNXDomain
	rrlError
	rrlReferral
	rrlNoData
)

// key hashes what a response is counted against: the client network, the
// kind of response and, for answers, the name (in any case) and type; for
// NODATA (empty, a reply with no answer), the name alone; for a referral,
// the name of the zone cut, from byte cut of the question name (-1 for a
// reply that is none); for NXDOMAIN, the zone.
func (l *rrl) key(q *wire.Query, zone, rcode, cut int, empty bool, src netip.Addr) uint64 {
	var k [16 + 2 + 2 + 255]byte
	src = src.Unmap()
	if src.Is4() {
		p, _ := src.Prefix(l.v4Len)
		a := p.Addr().As4()
		copy(k[:], a[:])
		k[16] = 4
	} else {
		p, _ := src.Prefix(l.v6Len)
		a := p.Addr().As16()
		copy(k[:], a[:])
		k[16] = 6
	}
	n := 20
	switch {
	case rcode == wire.RcodeSuccess && cut >= 0:
		k[17] = rrlReferral
		n += copy(k[n:], q.LowerName()[cut:])
	case rcode == wire.RcodeSuccess && empty:
		k[17] = rrlNoData
		n += copy(k[n:], q.LowerName())
	case rcode == wire.RcodeSuccess:
		k[17] = rrlAnswer
		binary.BigEndian.PutUint16(k[18:], q.Qtype)
		n += copy(k[n:], q.LowerName())
	case rcode == wire.RcodeNXDomain:
		k[17] = rrlNXDomain
		binary.BigEndian.PutUint16(k[18:], uint16(zone))
	default:
		k[17] = rrlError
	}
	return maphash.Bytes(l.seed, k[:n])
}

// now is the table's clock, in microseconds modulo 2^44.
func (l *rrl) now() uint64 { return uint64(time.Since(l.epoch).Microseconds()) & rrlTimeMask }

// ahead is how far an entry's arrival time is ahead of now, 0 when it is
// past or cannot be (an entry idle for longer than the clock wraps). A
// worker whose batch stamp is behind the worker that set the entry sees it
// further ahead than the most a budget allows: within rrlMaxSkew that is
// the most, not a wrapped clock, or the budget would start afresh.
func (l *rrl) ahead(v, now uint64) uint64 {
	d := int64(((v-now)&rrlTimeMask)<<(64-rrlTimeBits)) >> (64 - rrlTimeBits)
	if d <= 0 || uint64(d) > l.tolerance+l.interval+rrlMaxSkew {
		return 0
	}
	return min(uint64(d), l.tolerance+l.interval)
}

// allow takes a response off the budget of key h; false when the budget is
// spent. It is the generic cell rate algorithm: one word per budget.
func (l *rrl) allow(h, now uint64) bool {
	tag := h>>rrlTimeBits | 1
	i := h & l.mask &^ 1
	a, b := &l.table[i], &l.table[i+1]
	for {
		va, vb := a.Load(), b.Load()
		e, v := a, va
		switch {
		case va>>rrlTimeBits == tag:
		case vb>>rrlTimeBits == tag:
			e, v = b, vb
		default:
			// A new budget replaces the one of the pair that is least
			// ahead: a budget being spent stays.
			if l.ahead(vb, now) < l.ahead(va, now) {
				e, v = b, vb
			}
			if e.CompareAndSwap(v, tag<<rrlTimeBits|(now+l.interval)&rrlTimeMask) {
				return true
			}
			continue
		}
		d := l.ahead(v, now)
		if d > l.tolerance {
			return false
		}
		if e.CompareAndSwap(v, tag<<rrlTimeBits|(now+d+l.interval)&rrlTimeMask) {
			return true
		}
	}
}

// exempts says whether src is never limited: in an exempt network or in a
// PoP's cache networks in the index served.
func (l *rrl) exempts(src netip.Addr, ix *index.Index) bool {
	for _, p := range l.exempt {
		if p.Contains(src) {
			return true
		}
	}
	if ix == nil {
		return false
	}
	t := ix.Table()
	return t.Classes()[t.Lookup(src).Class].Pop != ""
}

// limit applies rate limiting to reply, the UDP response to r.q from src:
// it returns reply, a truncated reply made from it in place, or nil.
func (r *responder) limit(reply []byte, src netip.Addr) []byte {
	l := r.rrl
	now := r.rrlNow
	if now == 0 {
		now = l.now()
	}
	cut := -1
	if r.out.Referral {
		cut = r.out.CutOff
	}
	// NODATA: no answer, and not for want of room (TC).
	empty := len(reply) >= 12 && binary.BigEndian.Uint16(reply[6:]) == 0 && reply[2]&byte(wire.FlagTC>>8) == 0
	h := l.key(&r.q, r.zone, r.rcode, cut, empty, src)
	if l.allow(h, now) {
		return reply
	}
	if l.exempts(src, r.s.index.Load()) {
		r.rrlStats.exempted.Add(1)
		return reply
	}
	r.rrlStats.limited.Add(1)
	if l.slip > 0 {
		c := &r.slipCount[(h>>32)%uint64(len(r.slipCount))]
		*c++
		if int(*c) >= l.slip {
			*c = 0
			r.rrlStats.slipped.Add(1)
			return slipReply(reply, &r.q, r.rcode)
		}
	}
	r.rrlStats.dropped.Add(1)
	return nil
}

// slipReply cuts a reply down to its header and question, with TC set and
// the OPT record if the query had one, in place.
func slipReply(reply []byte, q *wire.Query, rcode int) []byte {
	n := 12
	if q.HasQuestion {
		n += q.NameLen + 4
	}
	if len(reply) < n {
		return nil
	}
	b := reply[:n]
	b[2] |= byte(wire.FlagTC >> 8)
	binary.BigEndian.PutUint32(b[6:], 0) // no answer or authority
	binary.BigEndian.PutUint16(b[10:], 0)
	if q.EDNS {
		binary.BigEndian.PutUint16(b[10:], 1)
		b = wire.AppendOPT(b, q, rcode, 0)
	}
	return b
}
