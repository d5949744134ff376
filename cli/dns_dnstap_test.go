package cli

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	dnstap "github.com/dnstap/golang-dnstap"
	"github.com/miekg/dns"
	"google.golang.org/protobuf/proto"

	"github.com/anyctl/anyctl/controller/controllertest"
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
		o, err := dnsOptions(t, tc.args...)
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

// TestDNSDnstapEndToEnd runs `anyctl dns --dnstap FILE` against a
// controller and reads the file back with the dnstap library once the
// server stops: each query asked is there, as asked, with its reply, under
// the server's name.
func TestDNSDnstapEndToEnd(t *testing.T) {
	ctl := controllertest.Start(t)
	rev := applyExampleDeployment(t, ctl)
	path := filepath.Join(t.TempDir(), "queries.dnstap")
	d := startDNS(t, "--controller", ctl.Addr, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--state-dir", t.TempDir(),
		"--name", "ns-e2e", "--dnstap", path)
	rev = d.awaitRevision(t, rev)
	var asked []string
	for _, tc := range exampleCases(rev) {
		exchangeDNS(t, "udp", d.udp, query(tc.name, tc.qtype, tc.client))
		asked = append(asked, tc.name+" "+dns.TypeToString[tc.qtype])
	}
	d.stop(t)
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := dnstap.NewReader(f, nil)
	if err != nil {
		t.Fatalf("%s is not a dnstap file: %v", path, err)
	}
	var got []string
	buf := make([]byte, 1<<16)
	for {
		n, err := r.ReadFrame(buf)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var m dnstap.Dnstap
		if err := proto.Unmarshal(buf[:n], &m); err != nil {
			t.Fatal(err)
		}
		if string(m.GetIdentity()) != "ns-e2e" || !strings.HasPrefix(string(m.GetVersion()), "anyctl ") {
			t.Errorf("identity %q version %q, want ns-e2e and anyctl's version", m.GetIdentity(), m.GetVersion())
		}
		if m.GetMessage().GetType() != dnstap.Message_AUTH_QUERY {
			continue
		}
		var q dns.Msg
		if err := q.Unpack(m.GetMessage().GetQueryMessage()); err != nil {
			t.Fatal(err)
		}
		got = append(got, q.Question[0].Name+" "+dns.TypeToString[q.Question[0].Qtype])
	}
	// The log holds exactly what was asked, in order.
	if strings.Join(got, "|") != strings.Join(asked, "|") {
		t.Errorf("queries logged\n%q\nwant\n%q", got, asked)
	}
}
