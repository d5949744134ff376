package store

import (
	"fmt"
	"strings"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// The key layout: every key the controller reads or writes in etcd is
// defined here.
const (
	// root is the prefix of every key.
	root = "/anyctl/v1/"

	// DesiredPrefix is the prefix of every desired-state object's key:
	// DesiredPrefix + <plural>/<name> (Key).
	DesiredPrefix = root + "desired/"
	// GuardKey is written by every desired-state transaction; its mod
	// revision is the revision of the last desired-state write.
	GuardKey = root + "meta/desired-rev"

	// StatusPrefix is the prefix of the PoPs' leased reports:
	// StatusPrefix + <pop> (StatusKey).
	StatusPrefix = root + "status/pops/"
	// HeldPrefix is the prefix of the replicas' records of the config
	// revisions their agents hold beyond their stored reports, each under
	// its replica's lease: HeldPrefix + <replica> (HeldKey).
	HeldPrefix = root + "status/held/"

	// AgentClaimPrefix is the prefix of the PoPs' live-agent claims,
	// each under its stream's lease: AgentClaimPrefix + <pop>
	// (AgentClaimKey).
	AgentClaimPrefix = root + "agents/live/"
	// AgentRefusedPrefix is the prefix of each PoP's last refused second
	// agent, under a lease: AgentRefusedPrefix + <pop> (AgentRefusedKey).
	AgentRefusedPrefix = root + "agents/refused/"

	// FleetPrefix is the prefix of the fleet state the leader (and drain
	// calls) write and every replica mirrors: drain records, the
	// withdrawal budget's holds and the drain guard.
	FleetPrefix = root + "fleet/"
	// DrainPrefix is the prefix of the PoPs' drain records:
	// DrainPrefix + <pop> (DrainKey).
	DrainPrefix = FleetPrefix + "drain/"
	// HoldsKey holds the withdrawal budget's holds.
	HoldsKey = FleetPrefix + "holds"
	// DrainGuardKey is written with every drain that starts. A drain
	// checked against the minimum number of announcing PoPs commits only
	// if the guard has not moved since the check, so two drains checked
	// against the same fleet cannot both start.
	DrainGuardKey = FleetPrefix + "drain-guard"

	// HistoryPrefix is the prefix of the history records, one per
	// desired-state write, written in that write's transaction:
	// HistoryPrefix + <revision of the state the write was planned on,
	// 20 digits> (historyKey), so keys sort in the order of the writes.
	HistoryPrefix = root + "history/"
	// HistoryFloorKey holds the revision after which history is complete:
	// the revision when recording began, raised when old records are
	// pruned. A rollback reaches back to it, no further.
	HistoryFloorKey = root + "meta/history-floor"

	// ElectionPrefix is where replicas campaign for leadership.
	ElectionPrefix = root + "leader"
)

// kindPrefix is the prefix of one kind's keys, or of every kind's for
// KIND_UNSPECIFIED.
func kindPrefix(k v1.Kind) string {
	if k == v1.Kind_KIND_UNSPECIFIED {
		return DesiredPrefix
	}
	return DesiredPrefix + resource.KindPlural(k) + "/"
}

// Key is the etcd key of an object.
func Key(r resource.Ref) string { return kindPrefix(r.Kind) + r.Name }

// StatusKey is the etcd key of a PoP's report.
func StatusKey(pop string) string { return StatusPrefix + pop }

// HeldKey is the etcd key of a replica's held-revisions record.
func HeldKey(replica string) string { return HeldPrefix + replica }

// AgentClaimKey is the etcd key of a PoP's live-agent claim.
func AgentClaimKey(pop string) string { return AgentClaimPrefix + pop }

// AgentRefusedKey is the etcd key of a PoP's last refused agent.
func AgentRefusedKey(pop string) string { return AgentRefusedPrefix + pop }

// DrainKey is the etcd key of a PoP's drain record.
func DrainKey(pop string) string { return DrainPrefix + pop }

// historyKey is the key of the history record of a write planned on the
// state at revision rev. Two writes cannot be planned on one revision: a
// write commits only if no desired-state write came after the state it was
// planned on, so the next one is planned on a later state.
func historyKey(rev int64) string { return fmt.Sprintf("%s%020d", HistoryPrefix, rev) }

// refOfKey parses a key written by Key.
func refOfKey(key string) (resource.Ref, error) {
	rest, ok := strings.CutPrefix(key, DesiredPrefix)
	plural, name, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || name == "" {
		return resource.Ref{}, fmt.Errorf("key %q is not %s<kind>/<name>", key, DesiredPrefix)
	}
	for _, k := range resource.Kinds() {
		if resource.KindPlural(k) == plural {
			return resource.Ref{Kind: k, Name: name}, nil
		}
	}
	return resource.Ref{}, fmt.Errorf("key %q: unknown kind %q", key, plural)
}

// checkKind accepts a known kind, and KIND_UNSPECIFIED when all is true.
func checkKind(k v1.Kind, all bool) error {
	if k == v1.Kind_KIND_UNSPECIFIED && all {
		return nil
	}
	for _, known := range resource.Kinds() {
		if k == known {
			return nil
		}
	}
	return requestErrorf("unknown kind %q", k)
}

// checkRef accepts a reference that makes a well-formed key.
func checkRef(r resource.Ref) error {
	if err := checkKind(r.Kind, false); err != nil {
		return err
	}
	switch {
	case r.Name == "":
		return requestErrorf("%s: metadata.name is empty", resource.KindName(r.Kind))
	case strings.Contains(r.Name, "/"):
		return requestErrorf("%s: metadata.name %s must not contain \"/\"", r, resource.Quote(r.Name))
	}
	return nil
}
