package speaker

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"

	gobgplog "github.com/osrg/gobgp/v3/pkg/log"
	"github.com/osrg/gobgp/v3/pkg/packet/bgp"
)

// sessionProblem turns one of GoBGP's log lines about a neighbour into why
// its session is not up, or "" when the line says nothing of the kind:
// a failed connection attempt, a NOTIFICATION sent or received, a session
// that went down, a prefix limit reached.
func sessionProblem(msg string, fields gobgplog.Fields) (netip.Addr, string) {
	key, _ := fields["Key"].(string)
	addr, err := netip.ParseAddr(key)
	if err != nil {
		return netip.Addr{}, ""
	}
	switch msg {
	case "failed to connect":
		err, _ := fields["Error"].(error)
		return addr, connectProblem(err)
	case "received notification", "sent notification":
		dir := "received"
		if msg == "sent notification" {
			dir = "sent"
		}
		code, cok := fields["Code"].(uint8)
		sub, sok := fields["Subcode"].(uint8)
		if !cok || !sok {
			return addr, fmt.Sprintf("%s NOTIFICATION: %v", dir, fields["Data"])
		}
		text := fmt.Sprintf("%s NOTIFICATION %s", dir, bgp.NewNotificationErrorCode(code, sub).String())
		if c, _ := fields["Communicated-Reason"].(string); c != "" {
			text += fmt.Sprintf(": %q", c)
		}
		return addr, text
	case "Peer Down":
		return addr, fmt.Sprintf("session went down: %v", fields["Reason"])
	case "Administrative shutdown(Prefix limit reached)":
		return addr, "closed: the neighbour sent more prefixes than its inbound cap (maxPrefixesIn); it is retried after the idle hold time"
	}
	return netip.Addr{}, ""
}

// connectProblem explains a failed TCP connection to a neighbour.
func connectProblem(err error) string {
	if err == nil {
		return "connect failed"
	}
	var nerr net.Error
	if errors.Is(err, os.ErrDeadlineExceeded) || (errors.As(err, &nerr) && nerr.Timeout()) {
		return fmt.Sprintf("connect: %v: no answer: the neighbour is unreachable, does not expect a session from this address, or its TCP MD5 password differs (a wrong password is dropped silently)", err)
	}
	return fmt.Sprintf("connect: %v", err)
}
