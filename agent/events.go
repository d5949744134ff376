package agent

import (
	"log/slog"

	"github.com/anyctl/anyctl/agent/health"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// The lines an operator greps for: one per check transition, hold-down,
// announcement change and drain step, at info, each naming the service and
// the prefix or the reason. Session changes are logged by the speaker.

// logCheck logs a damped health transition of service's check.
func logCheck(log *slog.Logger, service string, up bool, st health.Status) {
	if up {
		log.Info("health check up", "service", service, "streak", st.Streak, "last", st.LastResult)
		return
	}
	log.Info("health check down", "service", service, "streak", st.Streak, "reason", st.LastResult)
	if st.HoldDownLeft > 0 {
		log.Info("hold-down started: re-announcing waits", "service", service, "holdDown", st.HoldDownLeft, "flaps", st.Flaps)
	}
}

// noteAnnouncements logs each prefix whose announcement changed: announced,
// withdrawn, or announced with other attributes (a drain step, say).
func (l *loop) noteAnnouncements(states []prefixState) {
	was := make(map[string]*v1.PrefixStatus, len(l.states))
	for _, s := range l.states {
		was[s.status.GetService()+"/"+s.status.GetPrefix()] = s.status
	}
	for _, s := range states {
		st := s.status
		old := was[st.GetService()+"/"+st.GetPrefix()]
		switch {
		case st.GetAnnounced() && (old == nil || !old.GetAnnounced()):
			l.a.log.Info("prefix announced", "service", st.GetService(), "prefix", st.GetPrefix(), "reason", st.GetReason())
		case !st.GetAnnounced() && old != nil && old.GetAnnounced():
			l.a.log.Info("prefix withdrawn", "service", st.GetService(), "prefix", st.GetPrefix(), "reason", st.GetReason())
		case st.GetAnnounced() && old.GetReason() != st.GetReason():
			l.a.log.Info("prefix announced differently", "service", st.GetService(), "prefix", st.GetPrefix(), "reason", st.GetReason(), "was", old.GetReason())
		}
	}
}

// noteDrainSteps logs each service whose mode the controller changed.
func (l *loop) noteDrainSteps(cfg *accepted) {
	was := map[string]v1.AnnounceMode{}
	if l.prev != nil {
		for _, svc := range l.prev.services {
			was[svc.name] = svc.mode
		}
	}
	for _, svc := range cfg.services {
		old, ok := was[svc.name]
		if ok && old != svc.mode {
			l.a.log.Info("drain step", "service", svc.name, "mode", modeName(svc.mode), "was", modeName(old))
		}
	}
}

// modeName is how logs name an announce mode.
func modeName(m v1.AnnounceMode) string {
	switch m {
	case v1.AnnounceMode_ANNOUNCE_MODE_NORMAL:
		return "normal"
	case v1.AnnounceMode_ANNOUNCE_MODE_DRAINING:
		return "draining (GRACEFUL_SHUTDOWN and prepends)"
	case v1.AnnounceMode_ANNOUNCE_MODE_WITHDRAWN:
		return "withdrawn"
	}
	return m.String()
}
