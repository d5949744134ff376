//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"

	"github.com/anyctl/anyctl/controller"
	"github.com/anyctl/anyctl/validation"
)

// inProcess is a controller running in this process (-inprocess), for a
// CPU profile of it; its CPU and RSS are then this whole process's,
// simulated agents included.
type inProcess struct {
	cancel context.CancelFunc
	done   chan error
	// profile and fanoutProfile receive the CPU profiles of the
	// steady-state window and of the fan-outs; nil when not asked for.
	profile, fanoutProfile *os.File
}

// startInProcess runs a controller in this process on a fresh data
// directory; with profile set, the process's CPU over the steady-state
// window is profiled into that file.
func startInProcess(ctx context.Context, work string, agents int, profile, fanoutProfile string) (*controllerProc, error) {
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
	for _, f := range []struct {
		path string
		file **os.File
	}{{profile, &p.profile}, {fanoutProfile, &p.fanoutProfile}} {
		if f.path == "" {
			continue
		}
		if *f.file, err = os.Create(f.path); err != nil {
			cp.stop()
			return nil, err
		}
	}
	return cp, nil
}

// startProfile starts the steady-state window's CPU profile, if there is
// one to write.
func (p *inProcess) startProfile() error {
	if p == nil {
		return nil
	}
	return startProfile(p.profile)
}

// stopProfile ends the steady-state window's CPU profile; stop does too.
func (p *inProcess) stopProfile() {
	if p != nil {
		stopProfile(&p.profile)
	}
}

// startFanoutProfile starts the fan-outs' CPU profile, if there is one to
// write.
func (p *inProcess) startFanoutProfile() error {
	if p == nil {
		return nil
	}
	return startProfile(p.fanoutProfile)
}

// stopFanoutProfile ends the fan-outs' CPU profile; stop does too.
func (p *inProcess) stopFanoutProfile() {
	if p != nil {
		stopProfile(&p.fanoutProfile)
	}
}

// writeHeapProfile writes the live heap, after a collection, to path.
func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	runtime.GC()
	return pprof.Lookup("heap").WriteTo(f, 0)
}

func startProfile(f *os.File) error {
	if f == nil {
		return nil
	}
	return pprof.StartCPUProfile(f)
}

// stopProfile ends the profile written to *f, if any, and closes the file.
func stopProfile(f **os.File) {
	if *f == nil {
		return
	}
	pprof.StopCPUProfile()
	(*f).Close()
	*f = nil
}

func (p *inProcess) stop() {
	p.stopProfile()
	p.stopFanoutProfile()
	p.cancel()
	<-p.done
}
