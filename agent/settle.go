package agent

import (
	"net/netip"

	"github.com/anyctl/anyctl/agent/speaker"
)

// settle makes the prefix statuses say what the speaker really announces,
// after it did not take the desired set (cause says why): a prefix is
// announced exactly when it is in announced. A prefix meant to be announced
// but missing is reported "not announced: cause"; one meant to be withdrawn
// but still announced is reported "still announced: cause", on the first
// status of that prefix.
func settle(states []prefixState, announced []speaker.Announcement, cause string) {
	held := make(map[netip.Prefix]bool, len(announced))
	for _, a := range announced {
		held[a.Prefix] = true
	}
	claimed := map[netip.Prefix]bool{}
	for _, s := range states {
		st, pfx := s.status, s.prefix
		if !pfx.IsValid() || !st.GetAnnounced() {
			continue
		}
		if !held[pfx] {
			st.Announced = false
			st.Reason = "not announced: " + cause
			continue
		}
		claimed[pfx] = true
	}
	for _, s := range states {
		st, pfx := s.status, s.prefix
		if !pfx.IsValid() || !held[pfx] || claimed[pfx] {
			continue
		}
		st.Announced = true
		st.Reason = "still announced: " + cause
		claimed[pfx] = true
	}
}

// countAnnounced counts the prefixes reported announced.
func countAnnounced(states []prefixState) int {
	n := 0
	for _, s := range states {
		if s.status.GetAnnounced() {
			n++
		}
	}
	return n
}
