package dnsgslb_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/anyctl/anyctl/dnsgslb"
	"github.com/anyctl/anyctl/dnsgslb/dnssec"
	"github.com/anyctl/anyctl/dnsgslb/gslbtest"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Rollover timing in these tests: TTLs of seconds, so that a whole walk
// takes seconds, and a propagation delay covering the server's build
// (the server acts at each time to the second) with room to spare.
const (
	shortTTL = 2 // every TTL of the child zone, the DNSKEY RRset's too
	dsTTL    = 3 // the DS RRset's TTL in the parent
)

// walkZone is the child zone whose keys roll, delegated from the signed
// parent gslbtest.Zone.
const walkZone = "sub." + gslbtest.Zone

var walkTTLs = dnssec.RolloverTTLs{
	DNSKEY:      shortTTL * time.Second,
	Max:         shortTTL * time.Second,
	DS:          dsTTL * time.Second,
	Propagation: 2 * time.Second,
}

// shortSnapshot is the test snapshot with every TTL shortTTL seconds, for
// the zone walkZone.
func shortSnapshot() *v1.GslbSnapshot {
	snap := gslbtest.Snapshot()
	for _, z := range snap.GetZones() {
		z.Spec.Zone = walkZone
		z.Spec.DefaultTtl = shortTTL
		z.Spec.Soa.Minimum = shortTTL
		for _, r := range z.Spec.Records {
			r.Ttl = 0 // the zone's default
		}
	}
	for _, r := range snap.GetRecords() {
		r.Spec.Ttl = shortTTL
	}
	return snap
}

// rolloverWalk is one rollover walked through with a validating resolver
// (unbound) that trusts the child zone only through the parent's DS and
// keeps its cache from the first step to the last.
type rolloverWalk struct {
	t        *testing.T
	dir      string
	server   *testServer
	parent   *parentZone
	resolver string
	log      string
	watch    *watcher
}

// newRolloverWalk starts the child zone signed with keys of roles (made a
// minute ago, in a new key directory), its parent holding the DS of its
// KSK or CSK with the TTL dsTTL, and unbound with the parent's DS as its
// trust anchor. Unbound is asked from then on, until the test ends, for
// names of each kind (see watcher).
func newRolloverWalk(t *testing.T, dsTTL uint32, roles ...dnssec.Role) (*rolloverWalk, []*dnssec.Key) {
	t.Helper()
	bin, err := exec.LookPath("unbound")
	if err != nil {
		bin = "/usr/sbin/unbound"
		if _, err := os.Stat(bin); err != nil {
			t.Fatal("unbound is not installed (scripts/test-deps.sh installs the Debian package unbound)")
		}
	}
	w := &rolloverWalk{t: t, dir: t.TempDir()}
	var keys, sep []*dnssec.Key
	for _, r := range roles {
		k, err := dnssec.Generate(w.dir, walkZone, dns.ECDSAP256SHA256, r, time.Now().Add(-time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
		if r != dnssec.ZSK {
			sep = append(sep, k)
		}
	}
	w.server = run(t, newServerWith(t, dnsgslb.Config{DNSSECKeyDir: w.dir}, shortSnapshot()))
	w.parent = serveParent(t, walkZone, dsTTL, sep...)
	w.resolver, w.log = startUnboundWith(t, bin, map[string]string{
		gslbtest.Zone: w.parent.server.udp,
		walkZone:      w.server.udp,
	}, w.parent.anchor())
	w.watch = startWatcher(t, w.resolver)
	return w, keys
}

// walkQueries are the names asked of the resolver at each step, and
// without a pause by the watcher: a GSLB answer, a static one, NODATA
// and NXDOMAIN.
var walkQueries = []struct {
	name  string
	qtype uint16
	rcode int
}{
	{"nearest." + walkZone, dns.TypeA, dns.RcodeSuccess},
	{"www." + walkZone, dns.TypeA, dns.RcodeSuccess},
	{"www." + walkZone, dns.TypeTXT, dns.RcodeSuccess},
	{"nope." + walkZone, dns.TypeA, dns.RcodeNameError},
}

// askResolver asks the resolver for q with DO and returns the reply.
func askResolver(addr, name string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(name, qtype)
	m.SetEdns0(1232, true)
	c := &dns.Client{Timeout: 5 * time.Second}
	r, _, err := c.Exchange(m, addr)
	return r, err
}

// verdict says what is wrong with a resolver's reply to a walk query, or
// "" when it validated (AD) with the rcode wanted.
func verdict(r *dns.Msg, rcode int) string {
	if r.Rcode != rcode || !r.AuthenticatedData {
		return fmt.Sprintf("rcode %s AD %v, want %s with AD", dns.RcodeToString[r.Rcode], r.AuthenticatedData, dns.RcodeToString[rcode])
	}
	return ""
}

// step checks, after the step named is done, that the resolver validates
// every walk query.
func (w *rolloverWalk) step(name string) {
	w.t.Helper()
	w.watch.setStep(name)
	for _, q := range walkQueries {
		r := exchangeRetry(w.t, w.resolver, func() *dns.Msg {
			m := new(dns.Msg)
			m.SetQuestion(q.name, q.qtype)
			m.SetEdns0(1232, true)
			return m
		}(), w.log)
		if v := verdict(r, q.rcode); v != "" {
			w.t.Errorf("step %q: %s %s: %s\n%s", name, q.name, dns.TypeToString[q.qtype], v, readLog(w.log))
		}
	}
	w.t.Logf("step %q: every query validated (served: %s)", name, w.served())
}

// hangup is the SIGHUP an operator sends the DNS servers after changing
// the key files (without it they read the files within a minute).
func (w *rolloverWalk) hangup() {
	w.t.Helper()
	if err := w.server.ReloadKeys(context.Background()); err != nil {
		w.t.Fatal(err)
	}
}

// served is what the server shows of its keys.
func (w *rolloverWalk) served() string { return keyView(w.t, w.server.tcp) }

// await waits until the server shows want (see keyView).
func (w *rolloverWalk) await(want string) {
	w.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got := w.served()
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("server shows %q after 30 s, want %q", got, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitUntil waits for a time an operator step is scheduled at (the time
// the rollover printed for it).
func waitUntil(at time.Time) { time.Sleep(time.Until(at)) }

// keyView shows the keys a server signs with: the tags of its DNSKEY
// RRset, of the RRSIGs over it and of those over an A answer, as
// "dnskey 1 2 signed by 1 / A signed by 2".
func keyView(t *testing.T, server string) string {
	t.Helper()
	tags := func(qname string, qtype uint16) (rrs, sigs string) {
		m := new(dns.Msg)
		m.SetQuestion(qname, qtype)
		m.SetEdns0(4096, true)
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		r, _, err := c.Exchange(m, server)
		if err != nil {
			t.Fatalf("%s %s: %v", qname, dns.TypeToString[qtype], err)
		}
		var k, s []string
		for _, rr := range r.Answer {
			switch rr := rr.(type) {
			case *dns.DNSKEY:
				k = append(k, fmt.Sprint(rr.KeyTag()))
			case *dns.RRSIG:
				s = append(s, fmt.Sprint(rr.KeyTag))
			}
		}
		slices.Sort(k)
		slices.Sort(s)
		return strings.Join(k, " "), strings.Join(s, " ")
	}
	keys, keySigs := tags(walkZone, dns.TypeDNSKEY)
	_, aSigs := tags("www."+walkZone, dns.TypeA)
	return fmt.Sprintf("dnskey %s signed by %s / A signed by %s", keys, keySigs, aSigs)
}

// view is keyView's text for keys published, DNSKEY signers and signers.
func view(published, dnskeySigners, signers []*dnssec.Key) string {
	tags := func(ks []*dnssec.Key) string {
		var s []string
		for _, k := range ks {
			s = append(s, fmt.Sprint(k.Tag()))
		}
		slices.Sort(s)
		return strings.Join(s, " ")
	}
	return fmt.Sprintf("dnskey %s signed by %s / A signed by %s", tags(published), tags(dnskeySigners), tags(signers))
}

// watcher asks the resolver the walk queries one after another until the
// test ends, and keeps every reply that did not validate, with the step
// it came in.
type watcher struct {
	mu       sync.Mutex // guards the fields below
	stepName string
	failures []string
	asked    int
}

func startWatcher(t *testing.T, resolver string) *watcher {
	w := &watcher{stepName: "start"}
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			for _, q := range walkQueries {
				select {
				case <-stop:
					return
				default:
				}
				r, err := askResolver(resolver, q.name, q.qtype)
				if err != nil {
					continue // a lost datagram is no verdict
				}
				w.mu.Lock()
				w.asked++
				if v := verdict(r, q.rcode); v != "" {
					w.failures = append(w.failures, fmt.Sprintf("%s (%s %s): %s", w.stepName, q.name, dns.TypeToString[q.qtype], v))
				}
				w.mu.Unlock()
			}
			time.Sleep(50 * time.Millisecond)
		}
	}()
	t.Cleanup(func() { close(stop); <-done })
	return w
}

func (w *watcher) setStep(name string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.stepName = name
}

// result is the count of replies and those that did not validate.
func (w *watcher) result() (int, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.asked, slices.Clone(w.failures)
}

// check fails the test if the watcher saw a reply that did not validate.
func (w *rolloverWalk) check() {
	w.t.Helper()
	asked, failures := w.watch.result()
	if len(failures) > 0 {
		w.t.Errorf("%d of %d replies asked during the walk did not validate, the first: %q\n%s", len(failures), asked, failures[:min(5, len(failures))], readLog(w.log))
	} else {
		w.t.Logf("%d replies asked during the walk, every one validated", asked)
	}
}

// TestRolloverWithValidatingResolver walks each kind of key rollover, as
// the operator steps of anyctl dnssec rollover and checkds (the functions
// they call) and the parent's DS changes, with unbound holding the old
// DNSKEY and DS RRsets in its cache: every query, at each step and in
// between, validates.
func TestRolloverWithValidatingResolver(t *testing.T) {
	t.Run("zsk then ksk", func(t *testing.T) {
		t.Parallel()
		w, keys := newRolloverWalk(t, dsTTL, dnssec.KSK, dnssec.ZSK)
		ksk, zsk := keys[0], keys[1]
		w.await(view(keys, []*dnssec.Key{ksk}, []*dnssec.Key{zsk}))
		w.step("before")

		// ZSK: pre-publish, scheduled whole by one command.
		ro := w.startRollover(dnssec.ZSK)
		zsk2 := ro.Successor
		w.await(view([]*dnssec.Key{ksk, zsk, zsk2}, []*dnssec.Key{ksk}, []*dnssec.Key{zsk}))
		w.step("zsk: new ZSK published")
		w.await(view([]*dnssec.Key{ksk, zsk, zsk2}, []*dnssec.Key{ksk}, []*dnssec.Key{zsk2}))
		w.step("zsk: new ZSK signs")
		w.await(view([]*dnssec.Key{ksk, zsk2}, []*dnssec.Key{ksk}, []*dnssec.Key{zsk2}))
		w.step("zsk: old ZSK removed")

		// KSK: double DS.
		ro = w.startRollover(dnssec.KSK)
		ksk2 := ro.Successor
		w.await(view([]*dnssec.Key{ksk, ksk2, zsk2}, []*dnssec.Key{ksk}, []*dnssec.Key{zsk2}))
		w.step("ksk: new KSK published")
		w.parent.setDS(ksk, ksk2)
		w.step("ksk: new DS at the parent")
		old := w.dsPublished()
		w.await(view([]*dnssec.Key{ksk, ksk2, zsk2}, []*dnssec.Key{ksk2}, []*dnssec.Key{zsk2}))
		w.step("ksk: new KSK signs")
		waitUntil(old.SyncDelete)
		w.parent.setDS(ksk2)
		w.step("ksk: old DS removed from the parent")
		w.await(view([]*dnssec.Key{ksk2, zsk2}, []*dnssec.Key{ksk2}, []*dnssec.Key{zsk2}))
		w.step("ksk: old KSK removed")
		w.check()
	})
	t.Run("csk", func(t *testing.T) {
		t.Parallel()
		w, keys := newRolloverWalk(t, dsTTL, dnssec.CSK)
		csk := keys[0]
		w.await(view(keys, keys, keys))
		w.step("before")
		ro := w.startRollover(dnssec.CSK)
		csk2 := ro.Successor
		both := []*dnssec.Key{csk, csk2}
		w.await(view(both, keys, keys))
		w.step("new CSK published")
		w.parent.setDS(csk, csk2)
		w.step("new DS at the parent")
		old := w.dsPublished()
		w.await(view(both, []*dnssec.Key{csk2}, []*dnssec.Key{csk2}))
		w.step("new CSK signs")
		waitUntil(old.SyncDelete)
		w.parent.setDS(csk2)
		w.step("old DS removed from the parent")
		w.await(view([]*dnssec.Key{csk2}, []*dnssec.Key{csk2}, []*dnssec.Key{csk2}))
		w.step("old CSK removed")
		w.check()
	})
}

// startRollover is anyctl dnssec rollover ZONE --role role.
func (w *rolloverWalk) startRollover(role dnssec.Role) *dnssec.Rollover {
	w.t.Helper()
	keys, err := dnssec.LoadDir(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	ro, err := dnssec.StartRollover(w.dir, walkZone, keys[walkZone], role, walkTTLs, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Logf("anyctl dnssec rollover --role %s: new key %d publish %v activate %v", role, ro.Successor.Tag(), ro.Successor.Publish, ro.Successor.Activate)
	w.hangup()
	return ro
}

// dsPublished is anyctl dnssec checkds ZONE published, once the parent
// serves the new DS; it returns the old key with its new timing.
func (w *rolloverWalk) dsPublished() *dnssec.Key {
	w.t.Helper()
	keys, err := dnssec.LoadDir(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	ro, err := dnssec.DSPublished(walkZone, keys[walkZone], 0, walkTTLs, time.Now())
	if err != nil {
		w.t.Fatal(err)
	}
	if len(ro.Predecessor) != 1 {
		w.t.Fatalf("checkds: %d old keys, want 1", len(ro.Predecessor))
	}
	w.hangup()
	old := ro.Predecessor[0]
	w.t.Logf("anyctl dnssec checkds published: new key %d signs from %v; old key %d inactive %v, its DS leaves the parent at %v, deleted %v",
		ro.Successor.Tag(), ro.Successor.Activate, old.Tag(), old.Inactive, old.SyncDelete, old.Delete)
	return old
}

// TestRolloverTooSoonFails shows the walk can fail: a CSK rollover whose
// switch does not wait for the DS TTL (checkds told a DS TTL of zero)
// while unbound holds the old DS RRset (TTL one minute) makes unbound
// answer SERVFAIL once the DNSKEY RRset it cached expires: the new
// DNSKEY RRset is signed by a key its DS RRset does not name.
func TestRolloverTooSoonFails(t *testing.T) {
	w, keys := newRolloverWalk(t, 60, dnssec.CSK)
	w.await(view(keys, keys, keys))
	w.step("before")
	ro := w.startRollover(dnssec.CSK)
	w.await(view([]*dnssec.Key{keys[0], ro.Successor}, keys, keys))
	w.parent.setDS(keys[0], ro.Successor)
	hasty := walkTTLs
	hasty.DS = 0
	all, err := dnssec.LoadDir(w.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dnssec.DSPublished(walkZone, all[walkZone], 0, hasty, time.Now()); err != nil {
		t.Fatal(err)
	}
	w.hangup()
	w.await(view([]*dnssec.Key{keys[0], ro.Successor}, []*dnssec.Key{ro.Successor}, []*dnssec.Key{ro.Successor}))
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := askResolver(w.resolver, "www."+walkZone, dns.TypeA)
		if err == nil && r.Rcode == dns.RcodeServerFailure {
			t.Logf("unbound answers SERVFAIL once the switch came before the DS TTL: the test of the walk can fail")
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("a switch before the DS TTL passed: unbound still validates after 30 s (last reply %v, %v)", r, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
