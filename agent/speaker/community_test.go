package speaker_test

import (
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
)

func TestFormatCommunity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   uint32
		want string
	}{
		{65000<<16 | 100, "65000:100"},
		{speaker.GracefulShutdown, "65535:0"},
		{0, "0:0"},
		{0xFFFFFFFF, "65535:65535"},
	}
	for _, tt := range tests {
		if got := speaker.FormatCommunity(tt.in); got != tt.want {
			t.Errorf("FormatCommunity(%#x) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestLargeCommunityString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   speaker.LargeCommunity
		want string
	}{
		{speaker.LargeCommunity{Global: 65000, Local1: 1, Local2: 2}, "65000:1:2"},
		{speaker.LargeCommunity{Global: 4294967295, Local2: 4294967295}, "4294967295:0:4294967295"},
	}
	for _, tt := range tests {
		if got := tt.in.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.in, got, tt.want)
		}
	}
}
