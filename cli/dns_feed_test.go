package cli

import (
	"testing"
	"time"

	"github.com/anyctl/anyctl/dnsgslb/feed"
)

func TestDNSFeedStaleAfterFlag(t *testing.T) {
	const bad = ": want at least 1s: the time a replica may go without confirming its state before the feed moves to another one"
	for _, tc := range []struct {
		args    []string
		want    time.Duration
		wantErr string
	}{
		{args: nil, want: feed.DefaultStaleAfter},
		{args: []string{"--feed-stale-after", "1m"}, want: time.Minute},
		{args: []string{"--feed-stale-after", "0"}, wantErr: "--feed-stale-after 0s" + bad},
		{args: []string{"--feed-stale-after", "-5s"}, wantErr: "--feed-stale-after -5s" + bad},
		{args: []string{"--feed-stale-after", "500ms"}, wantErr: "--feed-stale-after 500ms" + bad},
	} {
		o, err := dnsOptions(t, tc.args...)
		if tc.wantErr != "" {
			checkErr(t, err, tc.wantErr, true)
			continue
		}
		if err != nil || o.Feed.StaleAfter != tc.want {
			t.Errorf("%q: stale after %v, %v; want %v", tc.args, o.Feed.StaleAfter, err, tc.want)
		}
	}
}
