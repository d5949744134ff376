package dnsgslb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/dnssec"
)

// signing holds a server's DNSSEC keys (Config.DNSSECKeyDir) and what the
// index being served was signed with.
type signing struct {
	dir string
	mu  sync.Mutex // guards keys, state and published
	// keys are the keys by canonical zone name, as last read.
	keys map[string][]*dnssec.Key
	// state sums up which keys were published and active at the last
	// build, to notice a key's scheduled change.
	state string
	// reread wakes resignLoop when the keys were read again outside it
	// (ReloadKeys), to schedule their next event.
	reread chan struct{}
	// published are the DNSKEY RRsets the index served answers.
	published []KeySet
	// failing is set while the last reading of the keys, or signing
	// with them, failed, or a zone is signed with held keys (see
	// resignIfDue).
	failing atomic.Bool
	// held are, by zone, the signers of the zones the index served
	// signs, holding the keys as they were when it was built (see
	// dnssec.Hold).
	held map[string]*dnssec.Signer
}

// resignCheck is how often the server looks for signatures to refresh and
// for keys added, removed or reaching a scheduled time.
const resignCheck = time.Minute

func newSigning(dir string) (*signing, error) {
	keys, err := dnssec.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	sg := &signing{dir: dir, keys: keys, reread: make(chan struct{}, 1)}
	now := time.Now()
	signers, _, _, _, err := sg.signers(now)
	if err != nil {
		return nil, err
	}
	sg.published = keySets(signers, now)
	return sg, nil
}

// signers are the zones' signers at now, and the state they sum up to.
// A zone none of whose keys has reached its activation (keys published
// ahead, for a zone to be signed or one not served here) is left
// unsigned, without DNSKEY, RRSIG or NSEC, and does not keep the other
// zones from being built: its error is in waiting. A zone the index
// served signs whose keys all stopped signing, or wait (the signing key's
// files removed during a rollover), would fail every resolver holding its
// DS if answered unsigned: it goes on being signed with the keys it was
// signed with, and its error is in held, so that the other zones' updates
// (health changes) still reach answers. Any other zone with no key that
// signs is an error.
func (sg *signing) signers(now time.Time) (_ map[string]*dnssec.Signer, state string, waiting, held []error, _ error) {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	out := map[string]*dnssec.Signer{}
	var states []string
	for _, zone := range slices.Sorted(maps.Keys(sg.keys)) {
		s, err := dnssec.NewSigner(zone, sg.keys[zone], now)
		switch {
		case errors.Is(err, dnssec.ErrNoKeys) && dnssec.Waiting(sg.keys[zone], now) && !sg.signsLocked(zone):
			waiting = append(waiting, err)
		case errors.Is(err, dnssec.ErrNoKeys) && sg.held[zone] != nil:
			out[zone] = sg.held[zone]
			var tags []string
			for _, k := range out[zone].Keys {
				tags = append(tags, fmt.Sprint(k.Tag()))
			}
			held = append(held, fmt.Errorf("DNSSEC key directory %q: %w; signing the zone with the keys it was signed with (%s) until one of its keys signs", sg.dir, err, strings.Join(tags, ", ")))
			states = append(states, zone+"/held")
		case err != nil:
			return nil, "", nil, nil, fmt.Errorf("DNSSEC key directory %q: %w", sg.dir, err)
		default:
			out[zone] = s
		}
		for _, k := range sg.keys[zone] {
			states = append(states, fmt.Sprintf("%s/%d/%t/%t/%t", zone, k.TagAt(now), k.Published(now), k.Active(now), k.Revoked(now)))
		}
	}
	return out, strings.Join(states, ","), waiting, held, nil
}

// errKeysHeld wraps the errors of zones signed with held keys (signers).
var errKeysHeld = errors.New("signed zones with no key that signs")

// hold keeps the signers of the zones an index just served signs, as
// they are at now, for signers.
func (sg *signing) hold(signers map[string]*dnssec.Signer, signed []string, now time.Time) {
	held := map[string]*dnssec.Signer{}
	for _, zone := range signed {
		if s := signers[zone]; s != nil {
			held[zone] = dnssec.Hold(s, now)
		}
	}
	sg.mu.Lock()
	sg.held = held
	sg.mu.Unlock()
}

// signsLocked says whether the index served signs zone. The caller holds
// mu.
func (sg *signing) signsLocked(zone string) bool {
	return slices.ContainsFunc(sg.published, func(set KeySet) bool { return set.Zone == zone })
}

// resignLoop builds the served snapshot's index again when its signatures
// are due for refresh or the keys changed, until ctx ends. It wakes at the
// next key event (a key published, activated, made inactive or deleted),
// at the signatures' refresh time, and every resignCheck to read the key
// directory again, whichever comes first: a key's timing takes effect
// within the build's time of the second its file names.
func (s *Server) resignLoop(ctx context.Context) {
	t := time.NewTimer(resignCheck)
	defer t.Stop()
	for {
		now := time.Now()
		t.Reset(s.nextResign(now).Sub(now))
		select {
		case <-ctx.Done():
			return
		case <-s.signing.reread:
			continue
		case <-t.C:
		}
		switch err := s.resignIfDue(ctx, time.Now()); {
		case errors.Is(err, errKeysHeld):
			s.log.Error("dns: a signed zone has no key that signs; it is signed with the keys it was signed with", "err", err)
		case err != nil:
			s.log.Error("dns: cannot sign again; serving the signatures made before until they expire", "err", err)
		}
	}
}

// nextResign is when resignLoop next looks at the keys: the next key
// event, the served signatures' refresh time, or resignCheck after now,
// whichever comes first.
func (s *Server) nextResign(now time.Time) time.Time {
	next := now.Add(resignCheck)
	if ev := s.signing.nextEvent(now); !ev.IsZero() && ev.Before(next) {
		next = ev
	}
	if ix := s.index.Load(); ix != nil {
		if at := ix.ResignAt(); !at.IsZero() && at.Before(next) {
			next = at
		}
	}
	return next
}

// nextEvent is the first time after now at which one of the keys changes
// state (its Revoke time included); zero when none does.
func (sg *signing) nextEvent(now time.Time) time.Time {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	var next time.Time
	for _, keys := range sg.keys {
		for _, k := range keys {
			if ev := k.NextEvent(now); !ev.IsZero() && (next.IsZero() || ev.Before(next)) {
				next = ev
			}
		}
	}
	return next
}

// ReloadKeys reads the DNSSEC key directory again now, and signs the zones
// again if a key was added, removed or reached a time in its timing, or
// the signatures are due for refresh; the server also does this every
// minute. Without a key directory it does nothing.
func (s *Server) ReloadKeys(ctx context.Context) error {
	if s.signing == nil {
		return nil
	}
	return s.resignIfDue(ctx, time.Now())
}

// resignIfDue re-reads the keys and builds the index again if its
// signatures must be refreshed, or were made after now, or the keys
// changed. Its failure is kept for anyctl_dns_dnssec_keys_failing.
func (s *Server) resignIfDue(ctx context.Context, now time.Time) (err error) {
	sg := s.signing
	defer func() { sg.failing.Store(err != nil) }()
	keys, err := dnssec.LoadDir(sg.dir)
	if err != nil {
		return err
	}
	sg.mu.Lock()
	sg.keys = keys
	sg.mu.Unlock()
	select {
	case sg.reread <- struct{}{}:
	default:
	}
	_, state, _, held, err := sg.signers(now)
	if err != nil {
		return err
	}
	if len(held) > 0 {
		defer func() { err = cmp.Or(err, fmt.Errorf("%w: %w", errKeysHeld, errors.Join(held...))) }()
	}
	// Due at the refresh time, or when the clock is before the time the
	// signatures were made at (set back): their inception may be ahead of
	// every validator's. Both are on the wall clock.
	ix := s.index.Load()
	now = now.Round(0)
	due := ix != nil && !ix.ResignAt().IsZero() && (!now.Before(ix.ResignAt()) || now.Before(ix.SignedAt()))
	if !due && state == sg.currentState() {
		return nil
	}
	s.updateMu.Lock()
	defer s.updateMu.Unlock()
	snap := s.snap
	if snap == nil {
		return nil
	}
	if err := s.swap(ctx, snap, nil); err != nil {
		return fmt.Errorf("snapshot revision %d: %w", snap.GetRevision(), err)
	}
	s.log.Info("dns signed the zones again", "revision", snap.GetRevision(), "keys", state, "refresh_due", due)
	return nil
}

func (sg *signing) currentState() string {
	sg.mu.Lock()
	defer sg.mu.Unlock()
	return sg.state
}
