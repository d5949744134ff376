package controller

import v1 "github.com/anyctl/anyctl/proto/anycast/v1"

// silenceTold is what one agent or feed stream has told its client of
// etcd's silence (etcdHealth.silence). While etcd does not answer the
// replica, the stream sends a FeedFreshness that is not confirmed, after
// the stream's first: the replica cannot confirm, so a client that waits
// longer on replicas while none confirms (controlconn.Patience) holds it
// to its plain limit instead, as a replica cut off from etcd it is. When
// etcd answers again, the stream sends the replica's last confirmation
// again, and the client waits as before. Clients from before this take a
// FeedFreshness that is not confirmed, or not newer, as nothing new.
type silenceTold struct {
	// silent is set once the client was told that etcd is silent.
	silent bool
}

// next returns what the stream must send for the client to know whether
// etcd is silent, besides a new confirmation; nil when it knows, or when
// there is no confirmation to send again.
func (t *silenceTold) next(f *freshness, silent bool, last confirmation) *v1.FeedFreshness {
	switch {
	case silent && !t.silent:
		return f.proto(confirmation{})
	case !silent && t.silent && !last.at.IsZero():
		return f.proto(last)
	}
	return nil
}

// sent records a FeedFreshness sent on the stream; first says it is the
// stream's first, where an unconfirmed one means only that the replica
// has not confirmed yet.
func (t *silenceTold) sent(p *v1.FeedFreshness, first bool) {
	t.silent = !first && !p.GetConfirmed()
}
