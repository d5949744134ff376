package cli

import (
	"io"
	"testing"

	"github.com/spf13/pflag"

	"github.com/anyctl/anyctl/dnsgslb"
)

func TestDNSDnstapOptions(t *testing.T) {
	for _, tc := range []struct {
		args    []string
		want    dnsgslb.DnstapConfig
		wantErr string
	}{
		{args: []string{"--name", "ns1"}, want: dnsgslb.DnstapConfig{Sample: 1, Identity: "ns1", Version: "anyctl " + Version, QueueSize: 4096}},
		{args: []string{"--name", "ns1", "--dnstap", "unix:/run/dnstap.sock", "--dnstap-sample", "100", "--dnstap-identity", "pop-tyo-1", "--dnstap-queue", "64"},
			want: dnsgslb.DnstapConfig{Output: "unix:/run/dnstap.sock", Sample: 100, Identity: "pop-tyo-1", Version: "anyctl " + Version, QueueSize: 64}},
		{args: []string{"--dnstap", "/var/log/anyctl/queries.dnstap"},
			want: dnsgslb.DnstapConfig{Output: "/var/log/anyctl/queries.dnstap", Sample: 1, Version: "anyctl " + Version, QueueSize: 4096}},
		{args: []string{"--dnstap-sample", "0"}, wantErr: "--dnstap-sample 0: want 1 or more"},
		{args: []string{"--dnstap-queue", "0"}, wantErr: "--dnstap-queue 0: want 1 to 1048576"},
		{args: []string{"--dnstap", "unix:"}, wantErr: `--dnstap "unix:": want unix:PATH`},
		{args: []string{"--dnstap", "tcp:collector"}, wantErr: `--dnstap "tcp:collector": want tcp:HOST:PORT: address collector: missing port in address`},
	} {
		var f dnsFlags
		fs := pflag.NewFlagSet("dns", pflag.ContinueOnError)
		f.register(fs)
		if err := fs.Parse(tc.args); err != nil {
			t.Fatal(err)
		}
		o, err := f.options(io.Discard)
		if tc.wantErr != "" {
			checkErr(t, err, tc.wantErr, true)
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", tc.args, err)
		}
		got := o.Server.Dnstap
		if tc.want.Identity == "" {
			tc.want.Identity = o.Feed.ServerName
		}
		if got != tc.want {
			t.Errorf("%q: %+v, want %+v", tc.args, got, tc.want)
		}
	}
}
