package speaker

import (
	"context"
	"fmt"
	"net/netip"

	api "github.com/osrg/gobgp/v3/api"
)

// SetAnnouncements makes anns, the full desired set, what the speaker
// announces. nil means no change; an empty, non-nil slice withdraws
// everything. Prefixes that are gone are withdrawn first, then new prefixes
// and prefixes whose attributes changed are announced; a changed prefix is
// re-advertised in place (an implicit withdraw on the wire), without touching
// the sessions.
//
// An invalid announcement, or a set that would exceed some peer's
// MaxPrefixes (a *PrefixLimitError), is refused whole and the previous set
// stays announced. If ctx ends or GoBGP fails part-way, the call returns the
// error with the set partly applied; Announced tells what is announced, and
// the next call diffs from there.
func (s *Speaker) SetAnnouncements(ctx context.Context, anns []Announcement) error {
	if anns == nil {
		select {
		case <-s.done:
			return ErrStopped
		default:
			return nil
		}
	}
	want, err := normalizeAnnouncements(anns)
	if err != nil {
		return err
	}
	return s.do(ctx, false, func() error {
		if err := checkLimits(s.peers, want); err != nil {
			return err
		}
		defer s.publish()
		return s.reconcilePaths(ctx, want)
	})
}

// reconcilePaths withdraws, then announces, recording each step as GoBGP
// takes it. It runs on the owner goroutine.
func (s *Speaker) reconcilePaths(ctx context.Context, want map[netip.Prefix]Announcement) error {
	for _, pfx := range sortedPrefixes(s.paths) {
		if _, keep := want[pfx]; keep {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("speaker: withdrawing: %w", err)
		}
		if err := s.withdraw(ctx, s.paths[pfx]); err != nil {
			return err
		}
		delete(s.paths, pfx)
	}
	for _, pfx := range sortedPrefixes(want) {
		a := want[pfx]
		if old, ok := s.paths[pfx]; ok && old.equal(a) {
			continue
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("speaker: announcing: %w", err)
		}
		if err := s.announce(ctx, a); err != nil {
			return err
		}
		s.paths[pfx] = a
	}
	return nil
}

func (s *Speaker) announce(ctx context.Context, a Announcement) error {
	p, err := apiPath(a, s.asn, false)
	if err != nil {
		return err
	}
	if _, err := s.bgp.AddPath(ctx, &api.AddPathRequest{TableType: api.TableType_GLOBAL, Path: p}); err != nil {
		return fmt.Errorf("announcement %q: announcing: %w", a.Prefix.String(), err)
	}
	return nil
}

func (s *Speaker) withdraw(ctx context.Context, a Announcement) error {
	p, err := apiPath(a, s.asn, true)
	if err != nil {
		return err
	}
	if err := s.bgp.DeletePath(ctx, &api.DeletePathRequest{TableType: api.TableType_GLOBAL, Family: p.Family, Path: p}); err != nil {
		return fmt.Errorf("announcement %q: withdrawing: %w", a.Prefix.String(), err)
	}
	return nil
}
