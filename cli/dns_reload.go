package cli

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/anyctl/anyctl/dnsgslb"
)

// DefaultGeoIPReloadInterval is how often `anyctl dns` checks its GeoIP
// file for a new database.
const DefaultGeoIPReloadInterval = 30 * time.Second

// hangups catches SIGHUP from now on, for reloadOnHangup; one signal
// waits, more coalesce into it.
func hangups() chan os.Signal {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGHUP)
	return sigs
}

// reloadOnHangup reloads the server's GeoIP database, when it has one,
// and reads its DNSSEC keys again on every SIGHUP on sigs (see hangups)
// until ctx ends or the returned stop is called. The outcome is logged by
// the server.
func reloadOnHangup(ctx context.Context, sigs chan os.Signal, srv *dnsgslb.Server, geoip bool, log *slog.Logger) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-sigs:
				log.Info("SIGHUP: reading the GeoIP database and the DNSSEC keys again")
				if geoip {
					// Its refusal is logged by the server, with the file
					// and why; a reload cut short by ctx refuses nothing.
					_ = srv.ReloadGeoIP(ctx)
				}
				if err := srv.ReloadKeys(ctx); err != nil && ctx.Err() == nil {
					log.Error("SIGHUP: cannot read the DNSSEC keys again; signing as before", "err", err)
				}
			}
		}
	}()
	return func() {
		signal.Stop(sigs)
		cancel()
		<-done
	}
}
