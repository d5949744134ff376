package speaker_test

import (
	"context"
	"net/netip"
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
)

// BenchmarkAnnounce10k measures how long 10,000 prefixes take from
// SetAnnouncements until both of two upstream routers hold all of them.
// Each iteration withdraws everything (untimed) and announces afresh.
func BenchmarkAnnounce10k(b *testing.B) {
	const n = 10_000
	r1, p1 := peeredRouter(b, addr("127.0.0.12"), loopback4)
	r2, p2 := peeredRouter(b, addr("127.0.0.13"), loopback4)
	s := startSpeaker(b, p1, p2)
	r1.AwaitEstablished(b, loopback4)
	r2.AwaitEstablished(b, loopback4)

	anns := make([]speaker.Announcement, n)
	for i := range anns {
		a := netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0})
		anns[i] = speaker.Announcement{
			Prefix:      netip.PrefixFrom(a, 24),
			Communities: []uint32{localASN<<16 | 1},
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		if err := s.SetAnnouncements(ctx, anns); err != nil {
			b.Fatalf("announcing %d prefixes: %v", n, err)
		}
		r1.AwaitCount(b, speaker.IPv4Unicast, n)
		r2.AwaitCount(b, speaker.IPv4Unicast, n)

		b.StopTimer()
		set(b, s)
		r1.AwaitCount(b, speaker.IPv4Unicast, 0)
		r2.AwaitCount(b, speaker.IPv4Unicast, 0)
		b.StartTimer()
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "prefixes/s")
}
