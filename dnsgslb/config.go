package dnsgslb

import (
	"log/slog"

	"github.com/anyctl/anyctl/dnsgslb/geo"
	"github.com/anyctl/anyctl/dnsgslb/index"
)

// Location is where a client is placed when nothing else knows.
type Location = geo.Location

// Index is a compiled snapshot; see package index.
type Index = index.Index

// Explanation is the result of Index.Explain.
type Explanation = index.Explanation

// Config configures a Server.
type Config struct {
	// Listen is the UDP and TCP address, "127.0.0.1:0" for any free port.
	Listen string
	// StateDir holds the last snapshot; empty keeps nothing on disk.
	StateDir string
	// GeoIPPath is a MaxMind City or Country database; empty locates every
	// client that is not a PoP at DefaultLocation.
	GeoIPPath       string
	DefaultLocation Location
	Logger          *slog.Logger
	// UDPWorkers is the number of UDP sockets (SO_REUSEPORT), each with its
	// own reading goroutine; default 1.
	UDPWorkers int
	// UDPBlocking makes each UDP worker own an OS thread and block in
	// recvmmsg through a raw system call, outside the Go scheduler: the
	// least CPU per query at moderate load, as a C server. A blocked worker
	// keeps its processor, so the other goroutines (TCP, the controller
	// feed) wait for it to yield, at most the 5 ms receive timeout; keep
	// UDPWorkers below GOMAXPROCS, or at 1. Linux on amd64 and arm64 only.
	UDPBlocking bool
}
