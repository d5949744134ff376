package cli

import (
	"fmt"
	"io"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// etcdSlowRoundTrip is the etcd probe round trip beyond which the
// replica's etcd answers slowly, as the controller's metric help says: a
// healthy cluster answers in milliseconds.
const etcdSlowRoundTrip = time.Second

// writeEtcdAnswers warns when etcd answers the replica that answered
// slowly, or not at all: its confirmations come late, or it tells its
// agents and DNS servers that it cannot confirm its state, and refuses
// writes, before it is degraded.
func writeEtcdAnswers(w io.Writer, c *v1.ControllerState) {
	rtt := c.GetEtcdRoundTrip().AsDuration()
	switch {
	case c.GetEtcdSilent():
		fmt.Fprintf(w, "CONTROLLER ETCD SILENT: etcd silent for %s: this replica's agents and DNS servers are told that it cannot confirm its state, and it refuses writes\n\n",
			c.GetEtcdAnswerAge().AsDuration().Round(time.Second))
	case rtt >= etcdSlowRoundTrip:
		fmt.Fprintf(w, "CONTROLLER ETCD SLOW: etcd answers this replica in %s (slow): its confirmations come late, and agents and DNS servers may leave it\n\n",
			rtt.Round(100*time.Millisecond))
	}
}
