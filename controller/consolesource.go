package controller

import (
	"context"
	"crypto/tls"
	"fmt"

	"github.com/anyctl/anyctl/authn"
	"github.com/anyctl/anyctl/compile"
	"github.com/anyctl/anyctl/controller/console"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"github.com/anyctl/anyctl/resource"
)

// consoleSource gives the web console what the Admin API reads and does,
// in process: the console authorises its callers itself, with the same
// roles as the API.
type consoleSource struct {
	admin *adminServer
}

var _ console.Source = consoleSource{}

// Status is the summary with every PoP's entry, all pages joined: in
// process, no message limit applies.
func (s consoleSource) Status(ctx context.Context) (*v1.StatusResponse, error) {
	req := &v1.StatusRequest{Pops: true, PageSize: maxStatusPage}
	resp, err := s.admin.Status(ctx, req)
	for err == nil && resp.GetNextPageToken() != "" {
		req.PageToken = resp.GetNextPageToken()
		var page *v1.StatusResponse
		if page, err = s.admin.Status(ctx, req); err == nil {
			resp.Pops = append(resp.Pops, page.GetPops()...)
			resp.NextPageToken = page.GetNextPageToken()
		}
	}
	return resp, err
}

func (s consoleSource) State() *resource.State {
	st, _ := s.admin.cache.Current()
	return st
}

func (s consoleSource) Snapshot() *v1.GslbSnapshot {
	st, _ := s.admin.cache.Current()
	obs, _ := s.admin.observed.Current()
	return compile.GslbSnapshot(st, obs)
}

// Changed returns channels of which one is closed at the next change of
// the desired state, the observed state, the PoPs' reports or the fleet
// state (drains and holds).
func (s consoleSource) Changed() []<-chan struct{} {
	_, cache := s.admin.cache.Current()
	_, obs := s.admin.observed.Current()
	_, reports := s.admin.reports.Reports()
	return []<-chan struct{}{cache, obs, reports, s.admin.fleet.Changed()}
}

// History is the newest history records, newest first.
func (s consoleSource) History(ctx context.Context, limit int) ([]*v1.HistoryEntry, error) {
	resp, err := s.admin.History(ctx, &v1.HistoryRequest{Limit: int32(limit)})
	return resp.GetEntries(), err
}

func (s consoleSource) Drain(ctx context.Context, req *v1.DrainRequest) (*v1.DrainResponse, error) {
	return s.admin.Drain(ctx, req)
}

func (s consoleSource) Undrain(ctx context.Context, req *v1.UndrainRequest) (*v1.UndrainResponse, error) {
	return s.admin.Undrain(ctx, req)
}

// listenConsole binds the web console's address, nil when it is off. With
// the APIs' mutual TLS the console requires client certificates from the
// same CA.
func (c *Controller) listenConsole(admin *adminServer) (*console.Server, error) {
	if c.cfg.ConsoleListen == "" {
		return nil, nil
	}
	cs, err := console.Listen(console.Config{Listen: c.cfg.ConsoleListen, TLS: consoleTLS(c.apiTLS), Source: consoleSource{admin: admin}, Logger: c.log})
	if err != nil {
		return nil, fmt.Errorf("--console-listen %q: %w", c.cfg.ConsoleListen, err)
	}
	return cs, nil
}

// consoleTLS is the console's server TLS over the APIs' files (HTTP/2 and
// HTTP/1.1), nil for plain text.
func consoleTLS(r *authn.Reloader) *tls.Config {
	if r == nil {
		return nil
	}
	return r.ServerConfig("h2", "http/1.1")
}
