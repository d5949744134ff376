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
}
