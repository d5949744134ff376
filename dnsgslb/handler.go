package dnsgslb

import (
	"net/netip"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb/cookie"
	"github.com/anyctl/anyctl/dnsgslb/index"
	"github.com/anyctl/anyctl/dnsgslb/wire"
)

// responder turns request bytes into reply bytes. Each reading goroutine
// owns one; it is not safe for concurrent use.
type responder struct {
	s     *Server
	q     wire.Query
	shard *shard
	// zone and rcode are the metrics slot of the zone and the rcode of
	// the last response.
	zone, rcode int

	rrl      *rrl // nil when off
	rrlStats *rrlStats
	// slipCount counts limited replies towards the next slip, one counter
	// per slot of budgets (by key hash), so that what else a flood asks
	// does not decide which budget's replies are truncated.
	slipCount [64]uint8
	// cookieValid says the request carried a valid server cookie: its
	// source address is proven and its reply is not rate limited.
	cookieValid bool

	tap      *tap // nil when off
	tapCount int
	// rrlNow is the rate limiter's time for a batch of datagrams read
	// together (see stampBatch), 0 to read the clock per reply.
	rrlNow uint64
	// port is the source port of the request being answered.
	port uint16
	// local is the address and port the request was sent to, for query
	// logging: the socket's, or on a socket bound to a wildcard address
	// the datagram's destination (the zero Addr when unknown).
	local netip.AddrPort
	// out is the outcome of the last reply from the index, kept so that
	// its fixed array is not cleared and copied for every query.
	out index.Outcome
}

// newResponder returns a responder that counts its replies in sh and, for
// UDP, rate limits them. A TCP responder has no limiter: TCP replies are
// never limited, and the limiter keeps each responder's counters for good
// while TCP's responders come and go with their pool.
func (s *Server) newResponder(sh *shard, udp bool) *responder {
	r := &responder{s: s, shard: sh, tap: s.tap}
	if udp && s.rrl != nil {
		r.rrl, r.rrlStats = s.rrl, s.rrl.newStats()
	}
	return r
}

// stampBatch reads the rate limiter's clock once for the datagrams of one
// receive, which arrived within microseconds of each other; endBatch goes
// back to reading it per reply.
func (r *responder) stampBatch() {
	if r.rrl != nil {
		r.rrlNow = r.rrl.now() | 1 // never 0, which means unset
	}
}

func (r *responder) endBatch() { r.rrlNow = 0 }

// handle writes the reply to the request pkt from src into dst (from
// dst[:0], which needs room for maxReply bytes, or dns.MaxMsgSize over
// TCP) and returns it, or nil when the request deserves no reply. tcp
// lifts the UDP size limit.
func (r *responder) handle(dst, pkt []byte, src netip.Addr, tcp bool) []byte {
	q := &r.q
	res := wire.Parse(pkt, q)
	if res == wire.Fallback {
		res = wire.ParseAny(pkt, q)
	}
	if res == wire.Drop {
		return nil
	}
	logged := r.tap != nil && r.tapSampled()
	var at time.Time
	if logged {
		at = time.Now()
	}
	r.cookieValid = false
	r.options(src, tcp)
	reply := r.respond(dst, src, tcp)
	if r.rrl != nil && !tcp && !r.cookieValid {
		reply = r.limit(reply, src)
	}
	if logged {
		r.tapLog(pkt, reply, src, tcp, at)
	}
	return reply
}

// options sets the EDNS options of the reply to r.q, whatever its rcode
// but BADVERS: edns-tcp-keepalive
// over TCP (a query carrying a timeout is a FORMERR, RFC 7828 section
// 3.2.1; over UDP the option is ignored), NSID, and a fresh server cookie,
// with BADCOOKIE over UDP for a stale or invalid one (RFC 7873 section
// 5.2.3; over TCP the client's address is proven and the query answered).
func (r *responder) options(src netip.Addr, tcp bool) {
	q := &r.q
	if !q.EDNS {
		return
	}
	s := r.s
	if tcp && q.Keepalive {
		if q.KeepaliveLen != 0 {
			q.FormErr = true
			return
		}
		q.Reply.Keepalive, q.Reply.Timeout = true, uint16(s.cfg.TCP.IdleTimeout/(100*time.Millisecond))
	}
	if q.NSID && s.nsid != nil {
		q.Reply.NSID = s.nsid
	}
	if q.Cookie && s.jar != nil {
		now := s.clock.Now()
		if !tcp {
			switch s.jar.Check(&q.ClientCookie, q.ServerCookie[:q.ServerCookieLen], src, now) {
			case cookie.Valid:
				r.cookieValid = true
			case cookie.Invalid:
				q.Reply.BadCookie = true
			}
		}
		q.Reply.Cookie = true
		q.Reply.ServerCookie = s.jar.Make(&q.ClientCookie, src, now)
	}
}

// respond answers the parsed query in r.q.
func (r *responder) respond(dst []byte, src netip.Addr, tcp bool) []byte {
	q := &r.q
	r.out.Referral = false // of the last reply, which the rate limiter reads
	if q.Qclass == dns.ClassCHAOS && r.s.chaos != nil && index.Reject(q) < 0 {
		if out := r.s.chaos.reply(dst, q); out != nil {
			r.zone, r.rcode = -1, dns.RcodeSuccess
			r.shard.count(-1, int(q.Qtype), dns.RcodeSuccess, nil)
			return out
		}
	}
	ix := r.s.index.Load()
	if ix == nil {
		r.zone, r.rcode = -1, dns.RcodeServerFailure
		r.shard.count(-1, int(q.Qtype), dns.RcodeServerFailure, nil)
		return index.ErrorReply(dst, q, wire.RcodeServFail)
	}
	limit := dns.MaxMsgSize
	if !tcp {
		limit = index.UDPLimit(q)
	}
	o := &r.out
	out := ix.RespondTo(dst, q, src, limit, o)
	r.zone, r.rcode = o.ZoneSlot, o.Rcode
	r.shard.count(o.ZoneSlot, int(q.Qtype), o.Rcode, o.Slots)
	for _, slot := range o.LiveSlots() {
		r.shard.answers[slot].Add(1)
	}
	return out
}

// maxReply is the buffer a UDP reply needs: the largest answer sent, or a
// truncated reply with the longest question and an OPT record.
const maxReply = 4096
