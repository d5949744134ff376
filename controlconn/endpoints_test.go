package controlconn

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParseList(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "10.0.0.1:7400", want: "10.0.0.1:7400"},
		{in: " 10.0.0.1:7400, ctl.example:7400 ,unix:/run/anyctl.sock,", want: "10.0.0.1:7400 ctl.example:7400 unix:/run/anyctl.sock"},
		{in: "10.0.0.1:7400,10.0.0.2", err: `controller address "10.0.0.2": want host:port or unix:PATH`},
		{in: " , ", err: "want host:port or unix:PATH (several separated by commas)"},
		{in: "10.0.0.2", err: `want host:port or unix:PATH`},
	} {
		got, err := ParseList(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseList(%q) = %q, %v; want an error containing %q", c.in, got, err, c.err)
			}
			continue
		}
		if err != nil || strings.Join(got, " ") != c.want {
			t.Errorf("ParseList(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// TestRotationGoesThroughEveryReplica: every address of every configured
// endpoint comes up once a round, a name as each of its addresses (with
// the name as authority), and each round resolves the names again and
// starts elsewhere than where the last one ended.
func TestRotationGoesThroughEveryReplica(t *testing.T) {
	answers := [][]string{{"192.0.2.2", "192.0.2.1"}, {"192.0.2.3"}}
	lookups := 0
	r := NewRotation([]string{"198.51.100.1:7400", "ctl.example:7400", "unix:/run/a.sock", "gone.example:7400"})
	r.lookup = func(_ context.Context, host string) ([]string, error) {
		if host == "gone.example" {
			return nil, errors.New("no such host")
		}
		a := answers[min(lookups, len(answers)-1)]
		lookups++
		return slices.Clone(a), nil
	}
	round := func() []string {
		out := []string{r.Next(context.Background()).String()}
		for r.next < len(r.round) {
			out = append(out, r.Next(context.Background()).String())
		}
		return out
	}
	first := round()
	got := slices.Sorted(slices.Values(first))
	want := []string{"192.0.2.1:7400 (ctl.example:7400)", "192.0.2.2:7400 (ctl.example:7400)", "198.51.100.1:7400", "gone.example:7400", "unix:/run/a.sock"}
	if !slices.Equal(got, want) {
		t.Fatalf("first round %q; want each of %q once", got, want)
	}
	// The second round resolves ctl.example again, to its new address.
	second := round()
	if second[0] == first[len(first)-1] {
		t.Errorf("the second round starts with %q, where the first ended", second[0])
	}
	got = slices.Sorted(slices.Values(second))
	want = []string{"192.0.2.3:7400 (ctl.example:7400)", "198.51.100.1:7400", "gone.example:7400", "unix:/run/a.sock"}
	if !slices.Equal(got, want) {
		t.Fatalf("second round %q; want each of %q once", got, want)
	}
}

// TestRotationSpreadsClients: clients of one replica that goes do not all
// move to the same other replica.
func TestRotationSpreadsClients(t *testing.T) {
	addrs := []string{"192.0.2.1:7400", "192.0.2.2:7400", "192.0.2.3:7400"}
	moved := map[string]int{}
	for range 60 {
		r := NewRotation(addrs)
		for r.Next(context.Background()).Addr != addrs[0] {
		}
		moved[r.Next(context.Background()).Addr]++
	}
	if moved[addrs[1]] == 0 || moved[addrs[2]] == 0 {
		t.Errorf("clients leaving %s moved to %v; want both others", addrs[0], moved)
	}
}

// TestRotationResolvesLocalhost resolves a real name through the system
// resolver: every address of localhost, dialled with the name as authority.
func TestRotationResolvesLocalhost(t *testing.T) {
	r := NewRotation([]string{"localhost:7400"})
	tg := r.Next(context.Background())
	if tg.Authority != "localhost:7400" || !(strings.HasPrefix(tg.Addr, "127.") || strings.HasPrefix(tg.Addr, "[::1]")) {
		t.Fatalf("localhost:7400 gave target %+v; want a loopback address with authority localhost:7400", tg)
	}
}
