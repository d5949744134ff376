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
// directory; with profile set, the process's CPU over the steady-state
// window is profiled into that file.
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
	cp := &controllerProc{name: "controller", inproc: p, addr: c.Addr().String(), exited: make(chan struct{})}
	if err := cp.connect(ctx, dir); err != nil {
		cp.stop()
		return nil, err
	}
	if profile != "" {
		if p.profile, err = os.Create(profile); err != nil {
			cp.stop()
			return nil, err
		}
	}
	return cp, nil
}

// startProfile starts the CPU profile, if there is one to write.
func (p *inProcess) startProfile() error {
	if p == nil || p.profile == nil {
		return nil
	}
	return pprof.StartCPUProfile(p.profile)
}

// stopProfile ends the CPU profile; stop does too.
func (p *inProcess) stopProfile() {
	if p == nil || p.profile == nil {
		return
	}
	pprof.StopCPUProfile()
	p.profile.Close()
	p.profile = nil
}

func (p *inProcess) stop() {
	p.stopProfile()
	p.cancel()
	<-p.done
}
