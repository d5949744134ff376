package speaker_test

import (
	"testing"

	"github.com/anyctl/anyctl/agent/speaker"
)

func TestParseCommunity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    uint32
		wantErr bool
	}{
		{in: "65000:100", want: 65000<<16 | 100},
		{in: "65535:0", want: speaker.GracefulShutdown},
		{in: "0:0", want: 0},
		{in: "65536:1", wantErr: true},
		{in: "1:65536", wantErr: true},
		{in: "65000", wantErr: true},
		{in: "1:2:3", wantErr: true},
		{in: "a:1", wantErr: true},
		{in: "-1:1", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		got, err := speaker.ParseCommunity(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseCommunity(%q) = %d, %v; want %d, error %v", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil && speaker.FormatCommunity(got) != tt.in {
			t.Errorf("FormatCommunity(%d) = %q, want %q", got, speaker.FormatCommunity(got), tt.in)
		}
	}
}

func TestParseLargeCommunity(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    speaker.LargeCommunity
		wantErr bool
	}{
		{in: "65000:1:2", want: speaker.LargeCommunity{Global: 65000, Local1: 1, Local2: 2}},
		{in: "4294967295:0:4294967295", want: speaker.LargeCommunity{Global: 4294967295, Local2: 4294967295}},
		{in: "4294967296:0:0", wantErr: true},
		{in: "1:2", wantErr: true},
		{in: "1:2:3:4", wantErr: true},
		{in: "1::3", wantErr: true},
	}
	for _, tt := range tests {
		got, err := speaker.ParseLargeCommunity(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseLargeCommunity(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.wantErr)
			continue
		}
		if err == nil && got.String() != tt.in {
			t.Errorf("%v.String() = %q, want %q", got, got.String(), tt.in)
		}
	}
}
