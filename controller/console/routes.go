package console

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"
)

func (s *Server) routes(key csrfKey) http.Handler {
	mux := http.NewServeMux()
	static := http.FileServerFS(staticFS())
	gm := &gslbMap{}
	// The pages hold no data, but only viewers and admins get even them.
	mux.HandleFunc("GET /", s.viewer(func(w http.ResponseWriter, r *http.Request, _ caller) { static.ServeHTTP(w, r) }))
	// One explain at a time: each compiles an index of the whole snapshot.
	explaining := make(chan struct{}, 1)
	mux.HandleFunc("GET /api/session", s.viewer(func(w http.ResponseWriter, r *http.Request, c caller) {
		writeJSON(w, http.StatusOK, map[string]any{"caller": c, "csrf": key.token(c)})
	}))
	mux.HandleFunc("GET /api/stream", s.viewer(s.stream))
	mux.HandleFunc("GET /api/gslb", s.viewer(func(w http.ResponseWriter, r *http.Request, _ caller) {
		snap := s.cfg.Source.Snapshot()
		a, err := gm.answers(snap, r.URL.Query().Get("name"), r.URL.Query().Get("type"))
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"revision": snap.GetRevision(), "gslbKey": snapshotKey(snap), "regions": a})
	}))
	mux.HandleFunc("GET /api/explain", s.viewer(func(w http.ResponseWriter, r *http.Request, _ caller) {
		select {
		case explaining <- struct{}{}:
			defer func() { <-explaining }()
		case <-r.Context().Done():
			return
		}
		q := r.URL.Query()
		snap := s.cfg.Source.Snapshot()
		ex, err := explain(snap, explainRequest{Name: q.Get("name"), Type: q.Get("type"), Client: q.Get("client"), Location: q.Get("location")})
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"revision": snap.GetRevision(), "explanation": ex})
	}))
	mux.HandleFunc("POST /api/pops/{pop}/drain", s.action(key, s.drain))
	mux.HandleFunc("POST /api/pops/{pop}/undrain", s.action(key, s.undrain))
	return securityHeaders(mux)
}

// securityHeaders keeps the pages from being framed or loading anything
// from elsewhere.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Referrer-Policy", "same-origin")
		h.ServeHTTP(w, r)
	})
}

type handler func(http.ResponseWriter, *http.Request, caller)

// viewer admits callers whose role may read the status (viewer, admin).
func (s *Server) viewer(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, err := callerOf(r)
		if err != nil {
			writeError(w, http.StatusForbidden, err)
			return
		}
		if !c.CanView {
			writeError(w, http.StatusForbidden, fmt.Errorf("caller %q has role %s; the console needs role viewer or admin", c.Name, c.Role))
			return
		}
		h(w, r, c)
	}
}

// action admits callers whose role may drain, on requests that pass the
// CSRF checks.
func (s *Server) action(key csrfKey, h handler) http.HandlerFunc {
	return s.viewer(func(w http.ResponseWriter, r *http.Request, c caller) {
		if !c.CanDrain {
			s.cfg.Logger.Warn("console: action refused", "caller", c.Name, "role", c.Role, "path", r.URL.Path)
			writeError(w, http.StatusForbidden, fmt.Errorf("caller %q has role %s; this action needs role admin", c.Name, c.Role))
			return
		}
		if err := key.checkAction(r, c); err != nil {
			s.cfg.Logger.Warn("console: action refused", "caller", c.Name, "path", r.URL.Path, "err", err)
			writeError(w, http.StatusForbidden, fmt.Errorf("refused: %w", err))
			return
		}
		h(w, r, c)
	})
}

type drainBody struct {
	Force bool `json:"force"`
	// PeriodSeconds is the GRACEFUL_SHUTDOWN period; 0 is the default.
	PeriodSeconds float64 `json:"periodSeconds"`
}

func (s *Server) drain(w http.ResponseWriter, r *http.Request, c caller) {
	var body drainBody
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&body); err != nil {
		writeError(w, http.StatusBadRequest, fmt.Errorf("drain body: %w", err))
		return
	}
	pop := r.PathValue("pop")
	req := &v1.DrainRequest{Pop: pop, Force: body.Force}
	if body.PeriodSeconds != 0 {
		req.DrainPeriod = durationpb.New(time.Duration(body.PeriodSeconds * float64(time.Second)))
	}
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	resp, err := s.cfg.Source.Drain(ctx, req)
	if err != nil {
		writeGRPCError(w, err)
		return
	}
	word := "drain"
	if body.Force {
		word = "forced drain"
	}
	s.cfg.Logger.Info("console: drain", "pop", pop, "caller", c.Name, "force", body.Force)
	s.hub.record(event{At: time.Now().UTC(), Kind: "action", Pop: pop, Text: fmt.Sprintf("%s of %s by %s (console)", word, pop, c.Name)})
	writeJSON(w, http.StatusOK, map[string]any{"step": resp.GetState().GetStep().String()})
}

func (s *Server) undrain(w http.ResponseWriter, r *http.Request, c caller) {
	pop := r.PathValue("pop")
	ctx, cancel := context.WithTimeout(r.Context(), 15*time.Second)
	defer cancel()
	resp, err := s.cfg.Source.Undrain(ctx, &v1.UndrainRequest{Pop: pop})
	if err != nil {
		writeGRPCError(w, err)
		return
	}
	s.cfg.Logger.Info("console: undrain", "pop", pop, "caller", c.Name)
	s.hub.record(event{At: time.Now().UTC(), Kind: "action", Pop: pop, Text: fmt.Sprintf("undrain of %s by %s (console)", pop, c.Name)})
	writeJSON(w, http.StatusOK, map[string]any{"step": resp.GetState().GetStep().String()})
}

// stream is the server-sent event stream of views.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, _ caller) {
	fl, ok := w.(http.Flusher)
	if !ok {
		writeError(w, http.StatusInternalServerError, fmt.Errorf("streaming unsupported"))
		return
	}
	ch, cancel, ok := s.hub.subscribe()
	if !ok {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("the console is stopping, or has %d pages open already", maxStreams))
		return
	}
	defer cancel()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	fmt.Fprint(w, "retry: 1000\n\n")
	fl.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case b, ok := <-ch:
			if !ok {
				return
			}
			if _, err := fmt.Fprintf(w, "event: view\ndata: %s\n\n", b); err != nil {
				return
			}
			fl.Flush()
		}
	}
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, err error) {
	writeJSON(w, code, map[string]string{"error": err.Error()})
}

// writeGRPCError answers with the Admin API's message and a matching HTTP
// status: a refused drain says why, as anyctl drain does.
func writeGRPCError(w http.ResponseWriter, err error) {
	st, _ := status.FromError(err)
	code := http.StatusInternalServerError
	switch st.Code().String() {
	case "InvalidArgument":
		code = http.StatusBadRequest
	case "NotFound":
		code = http.StatusNotFound
	case "FailedPrecondition", "Aborted", "AlreadyExists":
		code = http.StatusConflict
	case "DeadlineExceeded", "Unavailable":
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, map[string]string{"error": st.Message(), "code": st.Code().String()})
}
