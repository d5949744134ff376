package dnsgslb

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	dnstap "github.com/dnstap/golang-dnstap"
	"google.golang.org/protobuf/proto"
)

// DnstapConfig is query logging in dnstap (protobuf messages in Frame
// Streams, as BIND, Knot, Unbound and CoreDNS write them and dnstap
// readers take them). Each query logged gives an AUTH_QUERY message and,
// unless it was not answered (e.g. dropped by rate limiting), an
// AUTH_RESPONSE message. Both carry the client's address and port, the
// server's (its address when the socket is bound to one or the system
// reports the datagram's destination) and the time the query was taken;
// the response adds the time its reply was ready.
//
// Messages go from the answer path to a writer goroutine through a bounded
// queue: when the queue is full (the output is slow, or down), the query is
// not logged and counted, and the answer never waits.
type DnstapConfig struct {
	// Output is where messages go: "unix:PATH" (a collector's socket, e.g.
	// `dnstap -u PATH`; reconnected when lost), "tcp:HOST:PORT", or a file
	// path (created, truncated). Empty turns logging off.
	Output string
	// Sample logs one query in Sample; 0 and 1 log every query.
	Sample int
	// Identity and Version fill the messages' identity and version fields.
	Identity, Version string
	// QueueSize is the number of queries waiting to be written; 0 is 4096.
	QueueSize int
}

const (
	defaultTapQueue = 4096
	maxTapQueue     = 1 << 20
	// tapEntryCap is an entry's initial room for a query and its reply;
	// a longer pair grows the entry once.
	tapEntryCap = 1536
)

// tapOutput is a parsed DnstapConfig.Output.
type tapOutput struct {
	network, addr string // "unix" or "tcp", or "file"
}

func parseTapOutput(s string) (tapOutput, error) {
	switch {
	case strings.HasPrefix(s, "unix:"):
		if len(s) == len("unix:") {
			return tapOutput{}, fmt.Errorf("Dnstap.Output %q: want unix:PATH", s)
		}
		return tapOutput{"unix", s[len("unix:"):]}, nil
	case strings.HasPrefix(s, "tcp:"):
		if _, _, err := net.SplitHostPort(s[len("tcp:"):]); err != nil {
			return tapOutput{}, fmt.Errorf("Dnstap.Output %q: want tcp:HOST:PORT: %w", s, err)
		}
		return tapOutput{"tcp", s[len("tcp:"):]}, nil
	}
	return tapOutput{"file", s}, nil
}

// check validates c, naming the field and value.
func (c DnstapConfig) check() error {
	switch {
	case c.Sample < 0:
		return fmt.Errorf("Dnstap.Sample %d: want 1 or more (0 for every query)", c.Sample)
	case c.QueueSize < 0 || c.QueueSize > maxTapQueue:
		return fmt.Errorf("Dnstap.QueueSize %d: want 0 (default) to %d", c.QueueSize, maxTapQueue)
	}
	if c.Output != "" {
		if _, err := parseTapOutput(c.Output); err != nil {
			return err
		}
	}
	return nil
}

// tapEntry is one query logged, with its reply, on its way to the writer.
type tapEntry struct {
	// qat is when the answer path took the query, rat when the reply was
	// ready.
	qat, rat time.Time
	src      netip.Addr
	port     uint16
	local    netip.AddrPort
	tcp      bool
	// buf holds the query, then the reply; qlen is the query's length,
	// answered whether there was a reply.
	buf      []byte
	qlen     int
	answered bool
}

// tap is the logging shared by the responders: the queue and the writer's
// state. A nil *tap is off.
type tap struct {
	cfg    DnstapConfig
	out    tapOutput
	sample int
	// free holds the entries not in use; full those waiting to be
	// written. Both have room for every entry, so a send never blocks.
	free, full chan *tapEntry

	// sent counts messages written, dropped queries not logged, errors
	// failures to open or write the output.
	sent, dropped, errors atomic.Uint64
}

// newTap returns the logging of c; nil when c turns it off.
func newTap(c DnstapConfig) (*tap, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.Output == "" {
		return nil, nil
	}
	out, _ := parseTapOutput(c.Output)
	n := c.QueueSize
	if n == 0 {
		n = defaultTapQueue
	}
	t := &tap{cfg: c, out: out, sample: max(1, c.Sample), free: make(chan *tapEntry, n), full: make(chan *tapEntry, n)}
	for range n {
		t.free <- &tapEntry{buf: make([]byte, 0, tapEntryCap)}
	}
	return t, nil
}

// tapSampled says whether the query being answered is logged: one in
// the sample.
func (r *responder) tapSampled() bool {
	if r.tap.sample > 1 {
		if r.tapCount++; r.tapCount < r.tap.sample {
			return false
		}
		r.tapCount = 0
	}
	return true
}

// tapLog logs the query pkt, taken at qat, and its reply (nil: none was
// sent). It never blocks and, once the queue's entries have grown to the
// longest messages, never allocates.
func (r *responder) tapLog(pkt, reply []byte, src netip.Addr, tcp bool, qat time.Time) {
	t := r.tap
	var e *tapEntry
	select {
	case e = <-t.free:
	default:
		t.dropped.Add(1)
		return
	}
	e.qat, e.rat, e.src, e.port, e.local, e.tcp = qat, time.Now(), src, r.port, r.local, tcp
	e.buf = append(append(e.buf[:0], pkt...), reply...)
	e.qlen, e.answered = len(pkt), reply != nil
	t.full <- e
}

// tapEncoder turns entries into dnstap messages, reusing one message and
// its fields: the writer allocates nothing per query either.
type tapEncoder struct {
	d   dnstap.Dnstap
	m   dnstap.Message
	buf []byte

	dtype          dnstap.Dnstap_Type
	mtype          dnstap.Message_Type
	family         dnstap.SocketFamily
	proto          dnstap.SocketProtocol
	port, rport    uint32
	qsec, rsec     uint64
	qnsec, rnsec   uint32
	addr, raddr    [16]byte
	identity, vers []byte
}

func newTapEncoder(c DnstapConfig) *tapEncoder {
	enc := &tapEncoder{dtype: dnstap.Dnstap_MESSAGE}
	if c.Identity != "" {
		enc.identity = []byte(c.Identity)
	}
	if c.Version != "" {
		enc.vers = []byte(c.Version)
	}
	enc.d.Identity, enc.d.Version, enc.d.Type, enc.d.Message = enc.identity, enc.vers, &enc.dtype, &enc.m
	enc.m.Type, enc.m.SocketFamily, enc.m.SocketProtocol = &enc.mtype, &enc.family, &enc.proto
	enc.m.QueryPort, enc.m.QueryTimeSec, enc.m.QueryTimeNsec = &enc.port, &enc.qsec, &enc.qnsec
	return enc
}

// ipBytes writes a into buf and returns its bytes: 4 for IPv4, 16 for
// IPv6.
func ipBytes(buf *[16]byte, a netip.Addr) []byte {
	if a.Is4() {
		b := a.As4()
		return buf[:copy(buf[:], b[:])]
	}
	*buf = a.As16()
	return buf[:]
}

// encode returns the Frame Streams data frame (length and message) of an
// entry's query (AUTH_QUERY) or reply (AUTH_RESPONSE) message, valid
// until the next call.
func (enc *tapEncoder) encode(e *tapEntry, typ dnstap.Message_Type) ([]byte, error) {
	m := &enc.m
	enc.mtype = typ
	enc.family, enc.proto = dnstap.SocketFamily_INET, dnstap.SocketProtocol_UDP
	if e.src.Is6() {
		enc.family = dnstap.SocketFamily_INET6
	}
	m.QueryAddress = ipBytes(&enc.addr, e.src)
	// The server's side: its address when known and of the client's
	// family (a dual-stack socket's IPv4 clients reach an IPv4 address).
	m.ResponseAddress, m.ResponsePort = nil, nil
	if la := e.local.Addr(); la.IsValid() && la.Is6() == e.src.Is6() {
		m.ResponseAddress = ipBytes(&enc.raddr, la)
	}
	if e.local.Port() != 0 {
		enc.rport = uint32(e.local.Port())
		m.ResponsePort = &enc.rport
	}
	if e.tcp {
		enc.proto = dnstap.SocketProtocol_TCP
	}
	enc.port, enc.qsec, enc.qnsec = uint32(e.port), uint64(e.qat.Unix()), uint32(e.qat.Nanosecond())
	if typ == dnstap.Message_AUTH_QUERY {
		m.QueryMessage = e.buf[:e.qlen]
		m.ResponseTimeSec, m.ResponseTimeNsec, m.ResponseMessage = nil, nil, nil
	} else {
		m.QueryMessage = nil
		enc.rsec, enc.rnsec = uint64(e.rat.Unix()), uint32(e.rat.Nanosecond())
		m.ResponseTimeSec, m.ResponseTimeNsec, m.ResponseMessage = &enc.rsec, &enc.rnsec, e.buf[e.qlen:]
	}
	var err error
	enc.buf, err = proto.MarshalOptions{}.MarshalAppend(append(enc.buf[:0], 0, 0, 0, 0), &enc.d)
	binary.BigEndian.PutUint32(enc.buf, uint32(len(enc.buf)-4))
	return enc.buf, err
}

// startTap starts the dnstap writer, if logging is on, and returns what
// stops it once the answers have stopped: it writes what is queued and
// closes the output. A file that cannot be created is an error; a socket
// is dialled in the background, again and again while it cannot be
// reached.
func (s *Server) startTap() (stop func(), err error) {
	if s.tap == nil {
		return func() {}, nil
	}
	// A file is opened now, a socket by the writer: a collector that is
	// slow to accept must not hold up the answers.
	var w *tapWriter
	if s.tap.out.network == "file" {
		if w, err = s.tap.open(context.Background()); err != nil {
			return nil, err
		}
	}
	s.log.Info("dns logging queries in dnstap", "output", s.tap.cfg.Output, "sample", s.tap.sample)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.tap.run(ctx, w, s.log)
	}()
	return func() {
		cancel()
		<-done
	}, nil
}
