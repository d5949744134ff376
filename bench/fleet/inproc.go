//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/validation"
)

// inProcess is a controller running in this process (-inprocess), for a
// CPU profile of it; its CPU and RSS are then this whole process's,
// simulated agents included.
type inProcess struct {
	cancel  context.CancelFunc
	done    chan error
	profile *os.File
}

// startInProcess runs a controller in this process on a fresh data
// directory, profiling the process's CPU into profile when it is set.
func startInProcess(ctx context.Context, work string, agents int, profile string) (*controllerProc, error) {
	dir := filepath.Join(work, "controller-inproc-"+strconv.Itoa(agents))
	c, err := controller.New(controller.Config{
		Listen: "127.0.0.1:0", DataDir: dir, AllowedPrefixes: validation.DefaultAllowedPrefixes(),
		LocalConnections: agents + 200, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return nil, err
	}
	p := &inProcess{done: make(chan error, 1)}
	rctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	go func() { p.done <- c.Run(rctx) }()
	select {
	case <-c.Ready():
	case err := <-p.done:
		cancel()
		return nil, fmt.Errorf("the controller stopped: %v", err)
	case <-ctx.Done():
		cancel()
		return nil, ctx.Err()
	}
	cp := &controllerProc{inproc: p, addr: c.Addr().String(), exited: make(chan struct{})}
	if err := cp.connect(ctx, dir); err != nil {
		cp.stop()
		return nil, err
	}
	if profile != "" {
		if p.profile, err = os.Create(profile); err != nil {
			cp.stop()
			return nil, err
		}
		if err := pprof.StartCPUProfile(p.profile); err != nil {
			cp.stop()
			return nil, err
		}
	}
	return cp, nil
}

func (p *inProcess) stop() {
	if p.profile != nil {
		pprof.StopCPUProfile()
		p.profile.Close()
	}
	p.cancel()
	<-p.done
}
