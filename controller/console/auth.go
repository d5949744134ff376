package console

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"

	"github.com/anyctl/anyctl/authn"
	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
)

// caller is who makes a request and what the API's roles let them do.
type caller struct {
	Name string     `json:"name"`
	Role authn.Role `json:"role"`
	// CanView and CanDrain follow the API's roles for Status and Drain.
	CanView  bool `json:"canView"`
	CanDrain bool `json:"canDrain"`
}

// callerOf identifies a request: by its verified client certificate over
// TLS; over plain HTTP (loopback only) every caller is the local admin, as
// on the plain-text API.
func callerOf(r *http.Request) (caller, error) {
	if r.TLS == nil {
		return caller{Name: "local", Role: authn.RoleAdmin, CanView: true, CanDrain: true}, nil
	}
	if len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return caller{}, fmt.Errorf("no verified client certificate")
	}
	id, err := authn.IdentityOf(r.TLS.VerifiedChains[0][0])
	if err != nil {
		return caller{}, err
	}
	return caller{
		Name:     id.Name,
		Role:     id.Role,
		CanView:  authn.Allowed(v1.AdminService_Status_FullMethodName, id.Role),
		CanDrain: authn.Allowed(v1.AdminService_Drain_FullMethodName, id.Role),
	}, nil
}

// csrfKey signs the per-caller tokens that actions must carry.
type csrfKey []byte

func newCSRFKey() (csrfKey, error) {
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// token is the caller's CSRF token: only a page of this console can read
// it (it is served as JSON without CORS headers).
func (k csrfKey) token(c caller) string {
	m := hmac.New(sha256.New, k)
	fmt.Fprintf(m, "%s\x00%s", c.Name, c.Role)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// checkAction refuses a state-changing request that does not come from a
// page of this console: it must be a POST from the same origin (Origin
// header, or Referer, matching the Host), with JSON content and the
// caller's token in X-Anyctl-CSRF.
func (k csrfKey) checkAction(r *http.Request, c caller) error {
	if r.Method != http.MethodPost {
		return fmt.Errorf("method %s: actions are POSTs", r.Method)
	}
	origin := r.Header.Get("Origin")
	if origin == "" {
		origin = r.Header.Get("Referer")
	}
	u, err := url.Parse(origin)
	if origin == "" || err != nil || u.Host != r.Host {
		return fmt.Errorf("origin %q is not this console (%s)", origin, r.Host)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		return fmt.Errorf("content type %q: want application/json", ct)
	}
	want := k.token(c)
	if !hmac.Equal([]byte(r.Header.Get("X-Anyctl-CSRF")), []byte(want)) {
		return fmt.Errorf("missing or wrong X-Anyctl-CSRF token")
	}
	return nil
}
