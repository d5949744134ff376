package upstream

import (
	"fmt"
	"sync/atomic"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// logger drops what GoBGP logs (its users read the router's state, not its
// log), except that it notes a listener that refused a TCP MD5 key and the
// last NOTIFICATION received.
type logger struct {
	md5Failed atomic.Bool
	// notification is the last NOTIFICATION received, as "CODE/SUBCODE
	// COMMUNICATION".
	notification atomic.Pointer[string]
}

func (l *logger) Warn(msg string, f gobgplog.Fields) {
	switch msg {
	case "failed to set md5":
		l.md5Failed.Store(true)
	case "received notification":
		s := fmt.Sprintf("%v/%v %v", f["Code"], f["Subcode"], f["Communicated-Reason"])
		l.notification.Store(&s)
	}
}

func (*logger) Panic(msg string, _ gobgplog.Fields) { panic("gobgp: " + msg) }
func (*logger) Fatal(string, gobgplog.Fields)       {}
func (*logger) Error(string, gobgplog.Fields)       {}
func (*logger) Info(string, gobgplog.Fields)        {}
func (*logger) Debug(string, gobgplog.Fields)       {}
func (*logger) SetLevel(gobgplog.LogLevel)          {}
func (*logger) GetLevel() gobgplog.LogLevel         { return gobgplog.WarnLevel }
