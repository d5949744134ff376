package lab

import (
	"fmt"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// bgpMessage is one BGP message a PoP sent to a router, decoded by tcpdump.
type bgpMessage struct {
	at   time.Time
	from string // the PoP's session address
	kind string // "open", "update", "withdraw", "eor", "notification", "keepalive"
	// OPEN only: the graceful-restart capability's Restart State bit and
	// the forwarding-state flag of its address family (RFC 4724).
	restartBit, forwarding bool
}

// bgpCapture decodes every BGP message a PoP sends on its links to both
// routers (tcpdump -v), to count what the routers received.
type bgpCapture struct {
	mu    sync.Mutex // guards the fields below
	msgs  []bgpMessage
	links [][]string // by link: the lines of the packet being read
	ready int        // tcpdumps listening
}

// startBGPCapture runs tcpdump on pop's two router links, for the
// segments pop sends to port 179. It returns nil when tcpdump is not
// installed.
func startBGPCapture(t *testing.T, l *labEnv, pop string) *bgpCapture {
	t.Helper()
	if _, err := exec.LookPath("tcpdump"); err != nil {
		t.Logf("tcpdump not installed: the BGP messages %s sends are not counted", pop)
		return nil
	}
	c := &bgpCapture{links: make([][]string, len(upstreams))}
	for i, u := range upstreams {
		filter := fmt.Sprintf("tcp dst port 179 and (src host %s or src host %s)", u.popAddr(ipv4, pop), u.popAddr(ipv6, pop))
		startProc(t, fmt.Sprintf("tcpdump -v in %s (to %s)", pop, u.name), func(line string) { c.line(i, line) },
			"ip", "netns", "exec", l.ns(pop), "tcpdump", "-i", "to-"+u.ns, "-n", "-l", "-tt", "-v",
			"--immediate-mode", "--time-stamp-precision=micro", filter)
	}
	await(t, fmt.Sprintf("tcpdump to listen on %s's two router links", pop), 10*time.Second, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		return c.ready == len(upstreams)
	}, func() string { return "no \"listening on\" line from both" })
	return c
}

// packetStart matches the first line of a packet: "SECONDS.MICROS IP ...".
var packetStart = regexp.MustCompile(`^\d+\.\d{6} IP6? `)

// line takes one line of link i's tcpdump -v: a packet's first line, or
// one of the indented lines that follow it. A packet is decoded once the
// next one starts, or when since reads the capture (tcpdump -l writes a
// packet whole).
func (c *bgpCapture) line(i int, line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case strings.Contains(line, "listening on"):
		c.ready++
	case packetStart.MatchString(line):
		c.msgs = append(c.msgs, decodeBGPPacket(c.links[i])...)
		c.links[i] = []string{line}
	case len(c.links[i]) > 0:
		c.links[i] = append(c.links[i], line)
	}
}

// since returns the messages sent at or after from, in the order each
// link saw them, the packets being read included.
func (c *bgpCapture) since(from time.Time) []bgpMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	all := c.msgs
	for _, lines := range c.links {
		all = append(all[:len(all):len(all)], decodeBGPPacket(lines)...)
	}
	var out []bgpMessage
	for _, m := range all {
		if !m.at.Before(from) {
			out = append(out, m)
		}
	}
	return out
}

var (
	flowAddrs    = regexp.MustCompile(`(\S+)\.\d+ > \S+\.179:`)
	bgpMessages  = regexp.MustCompile(`(Open|Update|Notification|Keepalive) Message \(\d\)`)
	restartFlags = regexp.MustCompile(`Restart Flags: \[([^\]]*)\]`)
)

// decodeBGPPacket reads the BGP messages in one packet's lines, as
// tcpdump -v prints them.
func decodeBGPPacket(lines []string) []bgpMessage {
	if len(lines) == 0 {
		return nil
	}
	at, ok := parseEpochMicros(strings.Fields(lines[0])[0])
	text := strings.Join(lines, "\n")
	flow := flowAddrs.FindStringSubmatch(text)
	if !ok || flow == nil {
		return nil
	}
	var msgs []bgpMessage
	starts := bgpMessages.FindAllStringIndex(text, -1)
	for i, span := range starts {
		end := len(text)
		if i+1 < len(starts) {
			end = starts[i+1][0]
		}
		msg := bgpMessage{at: at, from: flow[1]}
		switch body := text[span[0]:end]; {
		case strings.HasPrefix(body, "Open"):
			msg.kind = "open"
			if f := restartFlags.FindStringSubmatch(body); f != nil {
				msg.restartBit = strings.Contains(f[1], "R")
			}
			msg.forwarding = strings.Contains(body, "Forwarding state preserved: yes")
		case strings.HasPrefix(body, "Notification"):
			msg.kind = "notification"
		case strings.HasPrefix(body, "Keepalive"):
			msg.kind = "keepalive"
		case strings.Contains(body, "End-of-Rib"):
			msg.kind = "eor"
		case !strings.Contains(body, "Updated routes") && !strings.Contains(body, "Multi-Protocol Reach NLRI") &&
			(strings.Contains(body, "Withdrawn routes") || strings.Contains(body, "Multi-Protocol Unreach NLRI")):
			msg.kind = "withdraw"
		default:
			msg.kind = "update"
		}
		msgs = append(msgs, msg)
	}
	return msgs
}

// sessionMessages is what one session carried from the PoP: counts by
// kind, and the last OPEN's graceful-restart flags.
type sessionMessages struct {
	count                  map[string]int
	opens                  int
	restartBit, forwarding bool
	firstEOR               time.Time
}

// bySession groups msgs by the PoP's session address.
func bySession(msgs []bgpMessage) map[string]*sessionMessages {
	out := map[string]*sessionMessages{}
	for _, m := range msgs {
		s := out[m.from]
		if s == nil {
			s = &sessionMessages{count: map[string]int{}}
			out[m.from] = s
		}
		s.count[m.kind]++
		switch m.kind {
		case "open":
			s.opens++
			s.restartBit, s.forwarding = m.restartBit, m.forwarding
		case "eor":
			if s.firstEOR.IsZero() {
				s.firstEOR = m.at
			}
		}
	}
	return out
}

func (s *sessionMessages) String() string {
	if s == nil {
		return "nothing captured"
	}
	return fmt.Sprintf("%d OPEN (Restart State bit %s, forwarding state %s), %d UPDATE announcing, %d withdrawing, %d End-of-RIB, %d NOTIFICATION",
		s.opens, yesNo(s.restartBit), yesNo(s.forwarding), s.count["update"], s.count["withdraw"], s.count["eor"], s.count["notification"])
}

func yesNo(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

// TestDecodeBGPPacket checks the decoder on tcpdump 4.99's output; it
// needs no lab.
func TestDecodeBGPPacket(t *testing.T) {
	open := []string{
		"1796490046.893075 IP (tos 0x0, ttl 1, id 40869, offset 0, flags [DF], proto TCP (6), length 119)",
		"    10.100.1.2.35635 > 10.100.1.1.179: Flags [P.], cksum 0x1734 (incorrect -> 0xf668), seq 1:68, ack 1, win 63, length 67: BGP",
		"\tOpen Message (1), length: 67",
		"\t      Graceful Restart (64), length: 6",
		"\t\tRestart Flags: [R], Restart Time 120s",
		"\t\t  AFI IPv4 (1), SAFI Unicast (1), Forwarding state preserved: yes",
	}
	updates := []string{
		"1796490046.895883 IP6 (flowlabel 0x7b8a4, hlim 1, next-header TCP (6) payload length: 91) 2001:db8:100:1::2.52377 > 2001:db8:100:1::1.179: Flags [P.], length 81: BGP",
		"\tUpdate Message (2), length: 58",
		"\t  Multi-Protocol Reach NLRI (14), length: 30, Flags [OE]: ",
		"\t    2001:db8:53::/48",
		"\tUpdate Message (2), length: 23",
		"\t  End-of-Rib Marker (empty NLRI)",
		"\tUpdate Message (2), length: 36",
		"\t  Multi-Protocol Unreach NLRI (15), length: 10, Flags [OE]: ",
		"\t    2001:db8:53::/48",
	}
	got := append(decodeBGPPacket(open), decodeBGPPacket(updates)...)
	want := []string{"open 10.100.1.2 R=true F=true", "update 2001:db8:100:1::2", "eor 2001:db8:100:1::2", "withdraw 2001:db8:100:1::2"}
	if len(got) != len(want) {
		t.Fatalf("decoded %d messages, want %d: %+v", len(got), len(want), got)
	}
	for i, m := range got {
		s := m.kind + " " + m.from
		if m.kind == "open" {
			s += fmt.Sprintf(" R=%v F=%v", m.restartBit, m.forwarding)
		}
		if s != want[i] {
			t.Errorf("message %d: got %q, want %q", i, s, want[i])
		}
	}
}
