package controller

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/store"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// DefaultDrainPeriod is how long a drained PoP's announcements carry
// GRACEFUL_SHUTDOWN before they are withdrawn.
const DefaultDrainPeriod = 30 * time.Second

// The drain periods that make sense: long enough for routers to move
// traffic away on GRACEFUL_SHUTDOWN, short enough that a drain ends.
const (
	MinDrainPeriod = time.Second
	MaxDrainPeriod = time.Hour
)

// CheckDrainPeriod refuses a drain period outside MinDrainPeriod to
// MaxDrainPeriod; the caller names the flag or field.
func CheckDrainPeriod(d time.Duration) error {
	if d < MinDrainPeriod || d > MaxDrainPeriod {
		return fmt.Errorf("must be between %s and %s", MinDrainPeriod, MaxDrainPeriod)
	}
	return nil
}

// drainPeriodOf is the period a drain asks for, 0 for the controller's
// default (drain_period unset or zero).
func drainPeriodOf(req *v1.DrainRequest) (time.Duration, error) {
	p := req.GetDrainPeriod()
	if p == nil {
		return 0, nil
	}
	if err := p.CheckValid(); err != nil {
		return 0, fmt.Errorf("drain_period: invalid duration: %w", err)
	}
	d := p.AsDuration()
	if d == 0 {
		return 0, nil
	}
	if err := CheckDrainPeriod(d); err != nil {
		return 0, fmt.Errorf("drain_period %q: %w (how long announcements carry GRACEFUL_SHUTDOWN before the withdrawal; 0 or unset for the controller's default)", d, err)
	}
	return d, nil
}

// Drain starts taking a PoP out of service. The leader then walks it
// through the steps. A drain that would leave a service with fewer
// announcing PoPs than its minimum is refused unless forced.
func (a *adminServer) Drain(ctx context.Context, req *v1.DrainRequest) (*v1.DrainResponse, error) {
	if _, err := drainPeriodOf(req); err != nil {
		return nil, status.Errorf(codes.InvalidArgument, "drain of Pop %s: %v", resource.Quote(req.GetPop()), err)
	}
	if err := checkWritable(ctx, a.st, a.etcd(), "drain"); err != nil {
		return nil, err
	}
	resp, rev, err := a.drain(ctx, req)
	if errors.Is(err, errFleetMoved) {
		// Another drain, or a step of this PoP's, landed between the check
		// and the write: check again against the fleet as it is now.
		if err := a.fleet.WaitRevision(ctx, rev); err != nil {
			return nil, toStatus(err)
		}
		resp, rev, err = a.drain(ctx, req)
	}
	if errors.Is(err, errFleetMoved) {
		return nil, status.Errorf(codes.Aborted, "drain of Pop %s: other drains changed the fleet while it was checked; try again", resource.Quote(req.GetPop()))
	}
	if err != nil {
		return nil, toStatus(err)
	}
	// Read-your-writes: once Drain returns, this replica's status, configs
	// and GSLB feed show the drain.
	a.awaitOwnWrite(ctx, fmt.Sprintf("drain of Pop %q", req.GetPop()), rev, a.fleet.WaitRevision)
	return resp, nil
}

// errFleetMoved reports that a guarded drain write found the drain guard or
// the PoP's record moved since it read them.
var errFleetMoved = errors.New("the fleet's drains changed meanwhile")

// drain checks and starts one drain, and returns the revision it committed
// at (0 when the PoP was draining already). When the write loses a race it
// returns errFleetMoved and the revision the fleet had moved to.
func (a *adminServer) drain(ctx context.Context, req *v1.DrainRequest) (*v1.DrainResponse, int64, error) {
	s, _ := a.cache.Current()
	pop := req.GetPop()
	if _, ok := s.Pops[pop]; !ok {
		return nil, 0, status.Errorf(codes.NotFound, "Pop %s not found", resource.Quote(pop))
	}
	drains, guardRev := a.fleet.DrainsAndGuard()
	if r, ok := drains[pop]; ok && r.Draining {
		return &v1.DrainResponse{State: drainStateProto(r)}, 0, nil
	}
	if !req.GetForce() {
		reports, _ := a.reports.Reports()
		if err := drainBudget(s, reports, drains, pop); err != nil {
			return nil, 0, status.Error(codes.FailedPrecondition, err.Error())
		}
	}
	period, _ := drainPeriodOf(req) // checked by Drain
	if period == 0 {
		period = a.drainPeriod
	}
	now := time.Now()
	rec, existing := drains[pop]
	if existing {
		rec.Draining, rec.Since, rec.Period = true, now, period
	} else {
		rec = store.DrainRecord{Step: compile.DrainGslb, Since: now, Draining: true, GslbWait: maxRecordTTL(s), Period: period}
	}
	// A forced drain skips the check, so it need not be the one checked
	// against; it still moves the guard, for the drains checked without it.
	if req.GetForce() {
		guardRev = -1
	}
	detail := "pop " + pop
	if req.GetForce() {
		detail += " (forced)"
	}
	rev, err := a.fleet.startDrain(withAuthor(ctx), pop, rec, existing, guardRev, s.Revision, detail)
	if err != nil {
		return nil, rev, err
	}
	return &v1.DrainResponse{State: drainStateProto(rec)}, rev, nil
}

// Undrain starts bringing a drained PoP back, reversing the steps.
func (a *adminServer) Undrain(ctx context.Context, req *v1.UndrainRequest) (*v1.UndrainResponse, error) {
	pop := req.GetPop()
	s, _ := a.cache.Current()
	if _, ok := s.Pops[pop]; !ok {
		return nil, status.Errorf(codes.NotFound, "Pop %s not found", resource.Quote(pop))
	}
	if err := checkWritable(ctx, a.st, a.etcd(), "undrain"); err != nil {
		return nil, err
	}
	rec, ok := a.fleet.Drains()[pop]
	if !ok {
		return nil, status.Errorf(codes.FailedPrecondition, "Pop %s is not drained", resource.Quote(pop))
	}
	if rec.Draining {
		rec.Draining, rec.Since = false, time.Now()
		rev, err := a.fleet.putDrain(withAuthor(ctx), pop, rec, true, s.Revision)
		if err != nil {
			return nil, toStatus(err)
		}
		a.awaitOwnWrite(ctx, fmt.Sprintf("undrain of Pop %q", pop), rev, a.fleet.WaitRevision)
	}
	return &v1.UndrainResponse{State: drainStateProto(rec)}, nil
}

// drainBudget refuses a drain that would leave any service the PoP
// announces with fewer announcing PoPs than its minimum.
func drainBudget(s *resource.State, reports map[string]*v1.PopStatus, drains map[string]store.DrainRecord, pop string) error {
	var problems []string
	for _, name := range resource.SortedNames(s.Services) {
		spec := s.Services[name].GetSpec()
		selected := compile.SelectPops(s, spec.GetPops())
		if spec.GetMinAnnouncingPops() == 0 || !slices.Contains(selected, pop) {
			continue
		}
		var left []string
		for _, p := range selected {
			if r, draining := drains[p]; p == pop || (draining && r.Draining) {
				continue
			}
			if st, ok := reports[p]; ok && announces(st, name) {
				left = append(left, p)
			}
		}
		if len(left) < int(spec.GetMinAnnouncingPops()) {
			problems = append(problems, fmt.Sprintf("AnycastService %q would have %d announcing PoP(s) (%s), below its minAnnouncingPops of %d",
				name, len(left), joinOrNone(left), spec.GetMinAnnouncingPops()))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("drain of Pop %q refused: %s; use --force to drain anyway", pop, strings.Join(problems, "; "))
	}
	return nil
}

func joinOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// maxRecordTTL is the longest TTL any GSLB answer carries: how long a
// resolver may still hand out a PoP after it leaves GSLB answers.
func maxRecordTTL(s *resource.State) time.Duration {
	var ttl uint32
	for _, r := range compile.GslbSnapshot(s, compile.Observed{}).GetRecords() {
		ttl = max(ttl, r.GetSpec().GetTtl())
	}
	return time.Duration(ttl) * time.Second
}

func drainStateProto(r store.DrainRecord) *v1.DrainState {
	return &v1.DrainState{Step: drainStepProto(r.Step), Since: timestamppb.New(r.Since), Draining: r.Draining}
}

// putDrain writes a PoP's drain record, guarded as store.NewDrainWrite
// says, and returns the revision it committed at.
// The write is recorded in the history as an undrain, by the author ctx
// carries; seen is the desired-state revision the caller had seen.
func (f *fleetState) putDrain(ctx context.Context, pop string, r store.DrainRecord, existing bool, seen int64) (int64, error) {
	w, err := store.NewDrainWrite(pop, r, existing)
	if err == nil {
		w, err = w.Audited(ctx, seen, "undrain", "pop "+pop)
	}
	if err != nil {
		return 0, status.Error(codes.Internal, err.Error())
	}
	ok, rev, err := f.st.PutDrain(ctx, w)
	if err != nil {
		return 0, status.Errorf(codes.Unavailable, "writing drain state of Pop %q: %v", pop, err)
	}
	if !ok {
		return 0, status.Errorf(codes.Aborted, "drain state of Pop %q changed meanwhile; try again", pop)
	}
	return rev, nil
}

// startDrain writes a PoP's drain record, guarded like putDrain, with the
// drain guard, and returns the revision it committed at. When guardRev is
// not negative, it also commits only if the guard is still at guardRev, its
// revision when the drain was checked. A write that loses either race
// returns errFleetMoved and the revision it lost at.
//
// The write is recorded in the history as a drain with detail, by the
// author ctx carries; seen is the desired-state revision the caller had
// seen.
func (f *fleetState) startDrain(ctx context.Context, pop string, r store.DrainRecord, existing bool, guardRev, seen int64, detail string) (int64, error) {
	w, err := store.NewDrainWrite(pop, r, existing)
	if err == nil {
		w, err = w.Audited(ctx, seen, "drain", detail)
	}
	if err != nil {
		return 0, status.Error(codes.Internal, err.Error())
	}
	ok, rev, err := f.st.StartDrain(ctx, w, guardRev)
	if err != nil {
		return 0, status.Errorf(codes.Unavailable, "writing drain state of Pop %q: %v", pop, err)
	}
	if !ok {
		return rev, errFleetMoved
	}
	return rev, nil
}
