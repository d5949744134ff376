package etcdembed

import (
	"net"
	"testing"
)

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

func TestChoosePorts(t *testing.T) {
	free1, free2 := freePort(t), freePort(t)
	busy := freePort(t)
	occupy(t, busy)
	tests := []struct {
		name       string
		saved      ports
		keepClient bool
		keepPeer   bool
	}{
		{"nothing saved", ports{}, false, false},
		{"both free", ports{Client: free1, Peer: free2}, true, true},
		{"client busy", ports{Client: busy, Peer: free2}, false, true},
		{"peer busy", ports{Client: free1, Peer: busy}, true, false},
		{"same port twice", ports{Client: free1, Peer: free1}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := choosePorts(tt.saved)
			if err != nil {
				t.Fatal(err)
			}
			if got.Client == 0 || got.Peer == 0 || got.Client == got.Peer {
				t.Fatalf("choosePorts(%+v) = %+v, want two distinct ports", tt.saved, got)
			}
			if (got.Client == tt.saved.Client) != tt.keepClient {
				t.Errorf("choosePorts(%+v) = %+v: kept client port = %v, want %v", tt.saved, got, got.Client == tt.saved.Client, tt.keepClient)
			}
			if (got.Peer == tt.saved.Peer) != tt.keepPeer {
				t.Errorf("choosePorts(%+v) = %+v: kept peer port = %v, want %v", tt.saved, got, got.Peer == tt.saved.Peer, tt.keepPeer)
			}
			if got.Client == busy || got.Peer == busy {
				t.Errorf("choosePorts(%+v) = %+v uses busy port %d", tt.saved, got, busy)
			}
		})
	}
}

func TestPortsFileRoundTrip(t *testing.T) {
	dir := t.TempDir()
	got, err := loadPorts(dir)
	if err != nil || got != (ports{}) {
		t.Fatalf("loadPorts on an empty dir = %+v, %v; want zero, nil", got, err)
	}
	want := ports{Client: 12345, Peer: 23456}
	if err := savePorts(dir, want); err != nil {
		t.Fatal(err)
	}
	if got, err = loadPorts(dir); err != nil || got != want {
		t.Fatalf("loadPorts after save = %+v, %v; want %+v", got, err, want)
	}
}
