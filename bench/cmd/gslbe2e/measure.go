//go:build linux

package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// sample is one change timed: from its start (the Apply's return, the
// tipping report sent) to the first answer showing it, with the stages.
type sample struct {
	// call is how long the change's call (the Apply, the report's Send)
	// took; the times below are from its return.
	call   time.Duration
	answer time.Duration
	// tap is when the snapshot frame reached the tap (before the Apply
	// returned when negative), applied when the DNS server logged it
	// applied; seen and logged say whether they were.
	tap, applied time.Duration
	seen, logged bool
	// CPU of the controller and the DNS server from before the change to
	// the answer, and to when both are quiet again.
	ctlCPU, dnsCPU, ctlSettled, dnsSettled time.Duration
	// frame is the snapshot frame's size.
	frame int
}

// measure starts a change with do and awaits the answer ok accepts.
func (b *bench) measure(ctx context.Context, do func() (time.Time, error), ok func(answer) bool) (sample, error) {
	ctl0, dns0 := b.ctl.cpu(), b.dns.cpu()
	before := time.Now()
	t0, err := do()
	if err != nil {
		return sample{}, err
	}
	a, err := b.res.await(ctx, b.o.poll, b.o.limit, ok)
	if err != nil {
		return sample{}, err
	}
	s := sample{call: t0.Sub(before), answer: a.at.Sub(t0), ctlCPU: b.ctl.cpu() - ctl0, dnsCPU: b.dns.cpu() - dns0}
	if err := b.settle(ctx); err != nil {
		return s, err
	}
	s.ctlSettled, s.dnsSettled = b.ctl.cpu()-ctl0, b.dns.cpu()-dns0
	// The controller may send the snapshot before the Apply's answer is
	// back: its watch sees the write as soon as etcd has it.
	if f, ok := b.tap.after(before); ok {
		s.tap, s.frame, s.seen = f.at.Sub(t0), f.size, true
	}
	if t, _, ok := b.dns.logged("gslb snapshot applied", before); ok {
		s.applied, s.logged = t.Sub(t0), true
	}
	return s, nil
}

// apply applies one object and returns when the Apply returned.
func (b *bench) apply(ctx context.Context, m proto.Message) (time.Time, error) {
	actx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := b.ctl.admin.Apply(actx, &v1.ApplyRequest{Objects: []*v1.Object{resource.Wrap(m)}}); err != nil {
		return time.Time{}, fmt.Errorf("apply: %w", err)
	}
	return time.Now(), nil
}

// ttlChanges changes the record's TTL by an Apply.
func (b *bench) ttlChanges(ctx context.Context) error {
	fmt.Printf("\nApply: record %s's TTL changed; from the Apply's return\n", b.record.GetMetadata().GetName())
	var out []sample
	for range b.o.reps {
		rec := proto.CloneOf(b.record)
		rec.Spec.Ttl++
		s, err := b.measure(ctx, func() (time.Time, error) { return b.apply(ctx, rec) },
			func(a answer) bool { return a.rcode == 0 && len(a.addrs) > 0 && a.ttl == rec.GetSpec().GetTtl() })
		if err != nil {
			return fmt.Errorf("TTL change: %w", err)
		}
		b.record = rec
		out = append(out, s)
		fmt.Printf("  %s\n", s)
	}
	fmt.Printf("  median: %s\n", median(out))
	return nil
}

// addressChanges changes the first address of the origin answered by an
// Apply: every record of that origin changes.
func (b *bench) addressChanges(ctx context.Context) error {
	a, err := b.res.ask()
	if err != nil {
		return err
	}
	o := b.origin(b.originOf(a))
	if o == nil {
		return fmt.Errorf("the answer %s gives none of the origins", a)
	}
	users := 0
	for _, r := range b.decl.Records {
		if slices.Contains(r.GetSpec().GetOrigins(), o.GetMetadata().GetName()) {
			users++
		}
	}
	fmt.Printf("\nApply: origin %s's address changed (%d records use it); from the Apply's return\n", o.GetMetadata().GetName(), users)
	var out []sample
	for i := range b.o.reps {
		next := proto.CloneOf(o)
		addr := fmt.Sprintf("198.19.250.%d", i+1)
		next.Spec.Addresses[0] = addr
		s, err := b.measure(ctx, func() (time.Time, error) { return b.apply(ctx, next) },
			func(a answer) bool { return slices.Contains(a.addrs, addr) })
		if err != nil {
			return fmt.Errorf("address change: %w", err)
		}
		o.Spec = next.Spec
		out = append(out, s)
		fmt.Printf("  %s\n", s)
	}
	fmt.Printf("  median: %s\n", median(out))
	return nil
}

// healthChanges takes the origin answered down as the fleet sees it, then
// back up: one agent short of the quorum reports it down, then the
// measured report tips the quorum; up again, the measured report ends it.
func (b *bench) healthChanges(ctx context.Context) error {
	a, err := b.res.ask()
	if err != nil {
		return err
	}
	name := b.originOf(a)
	if name == "" {
		return fmt.Errorf("the answer %s gives none of the origins", a)
	}
	gives := func(a answer) bool { return b.originOf(a) == name }
	// Down when more than half of the reporting PoPs see it down.
	need := len(b.agents)/2 + 1
	tipping := b.agents[need-1]
	fmt.Printf("\nHealth: origin %s down at %d of %d PoPs (agent reports), from the tipping report sent; then up, from the report ending the quorum\n",
		name, need, len(b.agents))
	var down, up []sample
	for range b.o.reps {
		for _, ag := range b.agents[:need-1] {
			if _, err := ag.set(ctx, name, true); err != nil {
				return err
			}
		}
		if err := b.settle(ctx); err != nil {
			return err
		}
		if a, err := b.res.ask(); err != nil || !gives(a) {
			return fmt.Errorf("origin %s down at %d PoPs, short of the quorum: the answer is %v (%v)", name, need-1, a, err)
		}
		s, err := b.measure(ctx, func() (time.Time, error) { return tipping.set(ctx, name, true) },
			func(a answer) bool { return a.rcode == 0 && len(a.addrs) > 0 && !gives(a) })
		if err != nil {
			return fmt.Errorf("origin down: %w", err)
		}
		down = append(down, s)
		fmt.Printf("  down: %s\n", s)
		s, err = b.measure(ctx, func() (time.Time, error) { return tipping.set(ctx, name, false) }, gives)
		if err != nil {
			return fmt.Errorf("origin up: %w", err)
		}
		up = append(up, s)
		fmt.Printf("  up:   %s\n", s)
		for _, ag := range b.agents[:need-1] {
			if _, err := ag.set(ctx, name, false); err != nil {
				return err
			}
		}
		if err := b.settle(ctx); err != nil {
			return err
		}
	}
	fmt.Printf("  median down: %s\n  median up:   %s\n", median(down), median(up))
	return nil
}

func (b *bench) origin(name string) *v1.Origin {
	for _, o := range b.decl.Origins {
		if o.GetMetadata().GetName() == name {
			return o
		}
	}
	return nil
}

func (s sample) String() string {
	stage := func(d time.Duration, ok bool) string {
		if !ok {
			return "-"
		}
		return ms(d)
	}
	return fmt.Sprintf("answer %s (call %s; frame at the tap %s, %.1f MiB; DNS server applied %s); CPU to the answer: controller %s, DNS server %s; until quiet: controller %s, DNS server %s",
		ms(s.answer), ms(s.call), stage(s.tap, s.seen), float64(s.frame)/(1<<20), stage(s.applied, s.logged), ms(s.ctlCPU), ms(s.dnsCPU), ms(s.ctlSettled), ms(s.dnsSettled))
}

// median is the median of each field of samples.
func median(samples []sample) sample {
	pick := func(f func(sample) time.Duration) time.Duration {
		v := make([]time.Duration, len(samples))
		for i, s := range samples {
			v[i] = f(s)
		}
		slices.Sort(v)
		return v[len(v)/2]
	}
	return sample{
		call:       pick(func(s sample) time.Duration { return s.call }),
		answer:     pick(func(s sample) time.Duration { return s.answer }),
		tap:        pick(func(s sample) time.Duration { return s.tap }),
		applied:    pick(func(s sample) time.Duration { return s.applied }),
		ctlCPU:     pick(func(s sample) time.Duration { return s.ctlCPU }),
		dnsCPU:     pick(func(s sample) time.Duration { return s.dnsCPU }),
		ctlSettled: pick(func(s sample) time.Duration { return s.ctlSettled }),
		dnsSettled: pick(func(s sample) time.Duration { return s.dnsSettled }),
		frame:      samples[len(samples)/2].frame,
		seen:       !slices.ContainsFunc(samples, func(s sample) bool { return !s.seen }),
		logged:     !slices.ContainsFunc(samples, func(s sample) bool { return !s.logged }),
	}
}
