package dnsgslb

import (
	"testing"
)

// TestUDPWorkersDefault checks that a server left to its default has one
// UDP worker per processor the process started with, and that an explicit
// number stays.
func TestUDPWorkersDefault(t *testing.T) {
	for _, tc := range []struct{ set, want int }{{0, startProcs}, {3, 3}} {
		r := testResponderWith(t, Config{UDPWorkers: tc.set})
		if got := r.s.cfg.UDPWorkers; got != tc.want {
			t.Errorf("UDPWorkers %d: server has %d workers, want %d", tc.set, got, tc.want)
		}
	}
}
