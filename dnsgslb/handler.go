package dnsgslb

import (
	"net/netip"

	"github.com/miekg/dns"

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

	rrl       *rrl // nil when off
	rrlStats  *rrlStats
	slipCount int

	tap      *tap // nil when off
	tapCount int
	// port is the source port of the request being answered.
	port uint16
}

func (s *Server) newResponder(sh *shard) *responder {
	r := &responder{s: s, shard: sh, rrl: s.rrl, tap: s.tap}
	if s.rrl != nil {
		r.rrlStats = s.rrl.newStats()
	}
	return r
}

// handle writes the reply to the request pkt from src into dst (from
// dst[:0], which needs room for maxReply bytes) and returns it, or nil
// when the request deserves no reply. tcp lifts the UDP size limit.
func (r *responder) handle(dst, pkt []byte, src netip.Addr, tcp bool) []byte {
	q := &r.q
	switch wire.Parse(pkt, q) {
	case wire.Drop:
		return nil
	case wire.Fallback:
		var m dns.Msg
		if err := m.Unpack(pkt); err != nil {
			// Answer what can be read of the header with FORMERR.
			*q = wire.Query{ID: q.ID, Flags: q.Flags, Opcode: q.Opcode, FormErr: true}
		} else {
			wire.FromMsg(&m, q)
		}
	}
	reply := r.respond(dst, src, tcp)
	if r.rrl != nil && !tcp {
		reply = r.limit(reply, src)
	}
	if r.tap != nil {
		r.tapLog(pkt, reply, src, tcp)
	}
	return reply
}

// respond answers the parsed query in r.q.
func (r *responder) respond(dst []byte, src netip.Addr, tcp bool) []byte {
	q := &r.q
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
	out, o := ix.Respond(dst, q, src, limit)
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
