package health

import (
	"time"

	"google.golang.org/protobuf/types/known/durationpb"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// Status is a check's state as an operator sees it.
type Status struct {
	// Healthy is whether the service is announced.
	Healthy bool
	// Since is when Healthy last changed (or when checking started).
	Since time.Time
	// Observed is whether any result has been seen yet.
	Observed bool
	// LastOK is the last result; Streak counts identical results ending
	// with it.
	LastOK bool
	Streak int
	// Flaps is the damping penalty: recent flaps, each doubling the next
	// hold-down, minus those earned back by staying up.
	Flaps int
	// HoldDownLeft is how long a re-announcement must still wait.
	HoldDownLeft time.Duration

	// LastResult is "ok" or what the last probe found wrong; empty before
	// the first probe.
	LastResult string
	// LastDuration is how long the last probe took; LastProbe when it began.
	LastDuration time.Duration
	LastProbe    time.Time
	// Probes counts the probes run.
	Probes uint64
}

// Proto converts the status into its wire form for the named service.
func (s Status) Proto(service string) *v1.CheckStatus {
	return &v1.CheckStatus{
		Service:      service,
		Healthy:      s.Healthy,
		LastResult:   s.LastResult,
		LastDuration: durationpb.New(s.LastDuration),
		Streak:       uint32(s.Streak),
		Flaps:        uint32(s.Flaps),
		HoldDownLeft: durationpb.New(s.HoldDownLeft),
	}
}
