package dnsgslb

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
	"github.com/prometheus/client_golang/prometheus"
)

const (
	maxZones   = 256
	maxOrigins = 1024
	// noZone is the zone slot of queries outside every zone.
	noZone = maxZones
)

// typeSlots are the query types counted by name; the last slot is "other".
var typeSlots = []uint16{dns.TypeA, dns.TypeAAAA, dns.TypeNS, dns.TypeSOA, dns.TypeCNAME, dns.TypeTXT, dns.TypeANY}

// rcodeSlots are the rcodes counted by name; the last slot is "other".
var rcodeSlots = []int{dns.RcodeSuccess, dns.RcodeFormatError, dns.RcodeServerFailure, dns.RcodeNameError, dns.RcodeNotImplemented, dns.RcodeRefused, dns.RcodeBadVers}

func typeSlot(t uint16) int {
	for i, v := range typeSlots {
		if v == t {
			return i
		}
	}
	return len(typeSlots)
}

func rcodeSlot(r int) int {
	for i, v := range rcodeSlots {
		if v == r {
			return i
		}
	}
	return len(rcodeSlots)
}

// shard is one reader's counters: no two goroutines share a cache line in
// the common case, and each add is one uncontended atomic.
type shard struct {
	queries [maxZones + 1][8][8]atomic.Uint64
	answers [maxOrigins]atomic.Uint64

	// A UDP worker's batches after which it waited (coalescer), and
	// whether it is coalescing now.
	coalesced  atomic.Uint64
	coalescing atomic.Bool
}

func (sh *shard) count(zone, qtype, rcode int, origins []int) {
	if zone < 0 || zone > maxZones {
		zone = noZone
	}
	sh.queries[zone][typeSlot(uint16(qtype))][rcodeSlot(rcode)].Add(1)
	for _, o := range origins {
		sh.answers[o].Add(1)
	}
}

// metrics holds the server's counters and the names of their slots.
type metrics struct {
	mu          sync.Mutex // guards zoneSlots, zoneNames, originSlots, originNames, shards
	zoneSlots   map[string]int
	zoneNames   []string
	originSlots map[string]int
	originNames []string
	shards      []*shard

	revision   atomic.Int64
	compiledAt atomic.Int64 // unix nanoseconds
	// persistedRefused: the persisted snapshot was refused at start and no
	// snapshot from the controller has replaced it yet.
	persistedRefused atomic.Bool
	// rejected: the last snapshot given to Update was not compiled, and
	// the server answers from an older one.
	rejected atomic.Bool
	// notPersisted: the snapshot served could not be written to the
	// state directory.
	notPersisted atomic.Bool
	// resignAt is when the served signatures are refreshed (unix seconds);
	// 0 when no zone is signed.
	resignAt atomic.Int64
	// tcpOpen is the TCP connections open; tcpRefused counts those closed
	// at once, by reason (tcpFull, tcpClientFull); tcpClosedIdle those
	// closed to make room for a new one.
	tcpOpen       atomic.Int64
	tcpRefused    [2]atomic.Uint64
	tcpClosedIdle atomic.Uint64

	queriesDesc, answersDesc, revisionDesc, ageDesc, refusedDesc, rejectedDesc, notPersistedDesc, resignDesc *prometheus.Desc
	tcpOpenDesc, tcpRefusedDesc, tcpClosedIdleDesc                                                           *prometheus.Desc
	coalescedDesc, coalescingDesc, starvedDesc                                                               *prometheus.Desc
}

// Reasons a TCP connection is refused, and their label values.
const (
	tcpFull       = iota // the server has TCP.MaxConnections open, each closing
	tcpClientFull        // the client has TCP.MaxPerClient open
)

var tcpRefusedReasons = [...]string{tcpFull: "server_full", tcpClientFull: "client_full"}

func newMetrics() *metrics {
	return &metrics{
		zoneSlots:        map[string]int{},
		originSlots:      map[string]int{},
		queriesDesc:      prometheus.NewDesc("anyctl_dns_queries_total", "DNS queries answered, by zone, query type and rcode.", []string{"zone", "type", "rcode"}, nil),
		answersDesc:      prometheus.NewDesc("anyctl_dns_answers_total", "GSLB answers, by origin or PoP answered with.", []string{"origin"}, nil),
		revisionDesc:     prometheus.NewDesc("anyctl_dns_snapshot_revision", "Revision of the GSLB snapshot being served.", nil, nil),
		refusedDesc:      prometheus.NewDesc("anyctl_dns_persisted_snapshot_refused", "1 when the persisted snapshot was refused at start (damaged, or from an older version) and the controller has sent none since.", nil, nil),
		rejectedDesc:     prometheus.NewDesc("anyctl_dns_snapshot_rejected", "1 when the last snapshot the controller sent was rejected (the log says why): the server answers from an older one, anyctl_dns_snapshot_revision, until it accepts one.", nil, nil),
		notPersistedDesc: prometheus.NewDesc("anyctl_dns_snapshot_persist_failing", "1 when the snapshot served could not be written to the state directory (the log says why): a restart without a controller would answer from an older one.", nil, nil),
		ageDesc:          prometheus.NewDesc("anyctl_dns_snapshot_age_seconds", "Time since the controller compiled the snapshot being served.", nil, nil),
		resignDesc:       prometheus.NewDesc("anyctl_dns_dnssec_resign_timestamp_seconds", "When the signatures being served are due to be made again (they stay valid for the refresh period after it); absent when no zone is signed.", nil, nil),
		tcpOpenDesc:      prometheus.NewDesc("anyctl_dns_tcp_connections", "TCP connections open.", nil, nil),
		coalescedDesc: prometheus.NewDesc("anyctl_dns_udp_coalesced_batches_total",
			"UDP batches after which a busy worker waited --udp-coalesce before reading again, to read more datagrams at once.", nil, nil),
		coalescingDesc: prometheus.NewDesc("anyctl_dns_udp_workers_coalescing",
			"UDP workers busy enough to wait --udp-coalesce between batches.", nil, nil),
		starvedDesc: prometheus.NewDesc("anyctl_dns_background_starved_total",
			"Background builds, reads and writes begun in SCHED_IDLE, with CPU to spare, that the machine's load then starved of CPU, moved to niceness 10 in the normal class (counted for the process).", nil, nil),
		tcpRefusedDesc: prometheus.NewDesc("anyctl_dns_tcp_connections_refused_total",
			"TCP connections closed as soon as accepted: server_full at --tcp-max-connections open and none left to close, client_full at --tcp-max-per-client open from one client (an IPv4 address, an IPv6 /64).", []string{"reason"}, nil),
		tcpClosedIdleDesc: prometheus.NewDesc("anyctl_dns_tcp_connections_closed_idle_total",
			"TCP connections closed, at --tcp-max-connections open, to make room for a new one: the one waiting longest for its next query.", nil, nil),
	}
}

func (m *metrics) newShard() *shard {
	sh := &shard{}
	m.mu.Lock()
	m.shards = append(m.shards, sh)
	m.mu.Unlock()
	return sh
}

// slot returns the stable slot of a name, allocating one while there is
// room; past the limit every new name shares the last slot.
func slot(slots map[string]int, names *[]string, name string, limit int) int {
	if s, ok := slots[name]; ok {
		return s
	}
	if len(*names) == limit-1 {
		*names = append(*names, "other")
	}
	if len(*names) >= limit {
		return limit - 1
	}
	s := len(*names)
	*names = append(*names, name)
	slots[name] = s
	return s
}

func (m *metrics) zoneSlot(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slot(m.zoneSlots, &m.zoneNames, name, maxZones)
}

func (m *metrics) originSlot(name string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slot(m.originSlots, &m.originNames, name, maxOrigins)
}

// Describe implements prometheus.Collector.
func (m *metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.queriesDesc
	ch <- m.answersDesc
	ch <- m.revisionDesc
	ch <- m.ageDesc
	ch <- m.refusedDesc
	ch <- m.rejectedDesc
	ch <- m.notPersistedDesc
	ch <- m.resignDesc
	ch <- m.tcpOpenDesc
	ch <- m.tcpRefusedDesc
	ch <- m.tcpClosedIdleDesc
	ch <- m.coalescedDesc
	ch <- m.coalescingDesc
	ch <- m.starvedDesc
}

// Collect implements prometheus.Collector.
func (m *metrics) Collect(ch chan<- prometheus.Metric) {
	m.mu.Lock()
	shards := append([]*shard(nil), m.shards...)
	zones := append([]string(nil), m.zoneNames...)
	origins := append([]string(nil), m.originNames...)
	m.mu.Unlock()
	typeName := func(i int) string {
		if i < len(typeSlots) {
			return dns.TypeToString[typeSlots[i]]
		}
		return "other"
	}
	rcodeName := func(i int) string {
		if i < len(rcodeSlots) {
			return dns.RcodeToString[rcodeSlots[i]]
		}
		return "other"
	}
	for z := 0; z <= maxZones; z++ {
		name := "-"
		if z < len(zones) {
			name = zones[z]
		} else if z != noZone {
			continue
		}
		for t := range 8 {
			for r := range 8 {
				var n uint64
				for _, sh := range shards {
					n += sh.queries[z][t][r].Load()
				}
				if n > 0 {
					ch <- prometheus.MustNewConstMetric(m.queriesDesc, prometheus.CounterValue, float64(n), name, typeName(t), rcodeName(r))
				}
			}
		}
	}
	for o, name := range origins {
		var n uint64
		for _, sh := range shards {
			n += sh.answers[o].Load()
		}
		ch <- prometheus.MustNewConstMetric(m.answersDesc, prometheus.CounterValue, float64(n), name)
	}
	ch <- prometheus.MustNewConstMetric(m.revisionDesc, prometheus.GaugeValue, float64(m.revision.Load()))
	refused := 0.0
	if m.persistedRefused.Load() {
		refused = 1
	}
	ch <- prometheus.MustNewConstMetric(m.refusedDesc, prometheus.GaugeValue, refused)
	rejected := 0.0
	if m.rejected.Load() {
		rejected = 1
	}
	ch <- prometheus.MustNewConstMetric(m.rejectedDesc, prometheus.GaugeValue, rejected)
	notPersisted := 0.0
	if m.notPersisted.Load() {
		notPersisted = 1
	}
	ch <- prometheus.MustNewConstMetric(m.notPersistedDesc, prometheus.GaugeValue, notPersisted)
	if at := m.resignAt.Load(); at > 0 {
		ch <- prometheus.MustNewConstMetric(m.resignDesc, prometheus.GaugeValue, float64(at))
	}
	if at := m.compiledAt.Load(); at != 0 {
		ch <- prometheus.MustNewConstMetric(m.ageDesc, prometheus.GaugeValue, time.Since(time.Unix(0, at)).Seconds())
	}
	ch <- prometheus.MustNewConstMetric(m.tcpOpenDesc, prometheus.GaugeValue, float64(m.tcpOpen.Load()))
	for reason, name := range tcpRefusedReasons {
		ch <- prometheus.MustNewConstMetric(m.tcpRefusedDesc, prometheus.CounterValue, float64(m.tcpRefused[reason].Load()), name)
	}
	ch <- prometheus.MustNewConstMetric(m.tcpClosedIdleDesc, prometheus.CounterValue, float64(m.tcpClosedIdle.Load()))
	var coalesced uint64
	coalescing := 0
	for _, sh := range shards {
		coalesced += sh.coalesced.Load()
		if sh.coalescing.Load() {
			coalescing++
		}
	}
	ch <- prometheus.MustNewConstMetric(m.coalescedDesc, prometheus.CounterValue, float64(coalesced))
	ch <- prometheus.MustNewConstMetric(m.coalescingDesc, prometheus.GaugeValue, float64(coalescing))
	ch <- prometheus.MustNewConstMetric(m.starvedDesc, prometheus.CounterValue, float64(BackgroundStarved()))
}
