package etcdembed

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/anyctl/anyctl/atomicfile"
)

// PortsFile is the file, inside the data directory, that keeps the ports
// chosen on first start so that a restart listens where it did before.
const PortsFile = "etcd-ports.json"

// ports are the loopback TCP ports of one embedded etcd member.
type ports struct {
	Client int `json:"client"`
	Peer   int `json:"peer"`
}

// loadPorts reads the persisted ports; a missing file is the zero ports.
func loadPorts(dir string) (ports, error) {
	path := filepath.Join(dir, PortsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ports{}, nil
	}
	if err != nil {
		return ports{}, fmt.Errorf("read etcd ports: %w", err)
	}
	var p ports
	if err := json.Unmarshal(b, &p); err != nil {
		return ports{}, fmt.Errorf("parse etcd ports file %q: %w; delete it to choose new ports", path, err)
	}
	return p, nil
}

// savePorts writes the ports atomically: a crash leaves the old file or the
// new one, never half of one.
func savePorts(dir string, p ports) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, PortsFile), append(b, '\n')); err != nil {
		return fmt.Errorf("save etcd ports: %w", err)
	}
	return nil
}

// choosePorts keeps each saved port that is free now and replaces the others
// (and zeros) with ports the kernel hands out. The two ports always differ.
//
// A port found free here can still be taken before etcd binds it; Start
// retries on "address in use" for that reason.
func choosePorts(saved ports) (ports, error) {
	// Hold every listener open until both ports are chosen, so that a fresh
	// port cannot be one of the saved ports or the other fresh one.
	var held []net.Listener
	defer func() {
		for _, l := range held {
			l.Close()
		}
	}()
	take := func(port int) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		if err != nil {
			return 0, err
		}
		held = append(held, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	var p ports
	if saved.Peer != 0 {
		p.Peer, _ = take(saved.Peer) // 0 when busy: choose below
	}
	if saved.Client != 0 && saved.Client != p.Peer {
		p.Client, _ = take(saved.Client)
	}
	for _, port := range []*int{&p.Peer, &p.Client} {
		if *port != 0 {
			continue
		}
		fresh, err := take(0)
		if err != nil {
			return ports{}, fmt.Errorf("choose a free loopback port for etcd: %w", err)
		}
		*port = fresh
	}
	return p, nil
}
