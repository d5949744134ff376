package speakertest

import (
	"sync/atomic"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
)

// routerLogger drops what GoBGP logs (a test reads the router's state, not
// its log), except that it notes a listener that refused a TCP MD5 key.
type routerLogger struct {
	md5Failed atomic.Bool
}

func (l *routerLogger) Warn(msg string, _ gobgplog.Fields) {
	if msg == "failed to set md5" {
		l.md5Failed.Store(true)
	}
}

func (*routerLogger) Panic(msg string, _ gobgplog.Fields) { panic("gobgp: " + msg) }
func (*routerLogger) Fatal(string, gobgplog.Fields)       {}
func (*routerLogger) Error(string, gobgplog.Fields)       {}
func (*routerLogger) Info(string, gobgplog.Fields)        {}
func (*routerLogger) Debug(string, gobgplog.Fields)       {}
func (*routerLogger) SetLevel(gobgplog.LogLevel)          {}
func (*routerLogger) GetLevel() gobgplog.LogLevel         { return gobgplog.WarnLevel }
