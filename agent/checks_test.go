package agent

import (
	"testing"

	v1 "github.com/anyctl/anyctl/proto/anycast/v1"
	"google.golang.org/protobuf/types/known/durationpb"
)

func TestSameCheck(t *testing.T) {
	target := func(tg string) func(*v1.ServiceAssignment) {
		return func(s *v1.ServiceAssignment) { s.HealthCheck.Target = tg }
	}
	tests := []struct {
		name string
		a, b *v1.ServiceAssignment
		same bool
	}{
		{"unchanged", service("edge", v4v6), service("edge", v4v6), true},
		{"a hostless target and a new first prefix: a new host to probe",
			service("edge", []string{"192.0.2.0/24"}), service("edge", []string{"198.51.100.0/24", "192.0.2.0/24"}), false},
		{"a hostless target and only later prefixes changed",
			service("edge", v4), service("edge", v4v6), true},
		{"a target naming its host ignores the prefixes",
			service("edge", v4, target("192.0.2.53:53")), service("edge", []string{"198.51.100.0/24"}, target("192.0.2.53:53")), true},
		{"a host without a port is a host too",
			service("edge", v4, target("192.0.2.53")), service("edge", []string{"198.51.100.0/24"}, target("192.0.2.53")), true},
		{"the check changed",
			service("edge", v4), service("edge", v4, target(":54")), false},
		{"the damping changed",
			service("edge", v4), service("edge", v4, func(s *v1.ServiceAssignment) { s.HoldDown = durationpb.New(1) }), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sameCheck(acceptAssignment(tt.a).check, acceptAssignment(tt.b).check); got != tt.same {
				t.Errorf("sameCheck = %v, want %v", got, tt.same)
			}
		})
	}
}
