package speakertest

import (
	"fmt"
	"sync/atomic"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// routerLogger drops what GoBGP logs (a test reads the router's state, not
// its log), except that it notes a listener that refused a TCP MD5 key.
type routerLogger struct {
	md5Failed atomic.Bool
	// notification is the last NOTIFICATION received, as "CODE/SUBCODE
	// COMMUNICATION".
	notification atomic.Pointer[string]
}

func (l *routerLogger) Warn(msg string, f gobgplog.Fields) {
	switch msg {
	case "failed to set md5":
		l.md5Failed.Store(true)
	case "received notification":
		s := fmt.Sprintf("%v/%v %v", f["Code"], f["Subcode"], f["Communicated-Reason"])
		l.notification.Store(&s)
	}
}

// LastNotification is the last NOTIFICATION the router received, as
// "CODE/SUBCODE COMMUNICATION", or "" when none.
func (r *Router) LastNotification() string {
	if s := r.log.notification.Load(); s != nil {
		return *s
	}
	return ""
}

func (*routerLogger) Panic(msg string, _ gobgplog.Fields) { panic("gobgp: " + msg) }
func (*routerLogger) Fatal(string, gobgplog.Fields)       {}
func (*routerLogger) Error(string, gobgplog.Fields)       {}
func (*routerLogger) Info(string, gobgplog.Fields)        {}
func (*routerLogger) Debug(string, gobgplog.Fields)       {}
func (*routerLogger) SetLevel(gobgplog.LogLevel)          {}
func (*routerLogger) GetLevel() gobgplog.LogLevel         { return gobgplog.WarnLevel }
