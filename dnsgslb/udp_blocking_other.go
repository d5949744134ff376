//go:build !(linux && (amd64 || arm64))

package dnsgslb

import (
	"errors"
	"net"
	"sync/atomic"
)

const blockingSupported = false

type rawUDP struct{ addr *net.UDPAddr }

func listenRawUDP(string) (*rawUDP, error) {
	return nil, errors.New("blocking UDP is not supported here")
}

func (r *rawUDP) Close() error { return nil }

func (r *rawUDP) interrupt() {}

func (s *Server) serveUDPBlocking(*rawUDP, *udpWorker, *atomic.Bool) {}
