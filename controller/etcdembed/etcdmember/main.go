// Command etcdmember runs one member of an etcd cluster with the etcd
// server the module already depends on (go.etcd.io/etcd/server/v3/embed),
// for tests that need a real multi-member cluster as separate processes:
// built by the test with `go build`, it is exactly the etcd version the
// controller's client is tested against, with no system package to
// install and no version skew. It is not a production etcd: run the etcd
// release for that.
//
// It serves until SIGTERM or SIGINT; SIGKILL is a member's crash.
package main

import (
	"flag"
	"fmt"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/anyctl/anyctl/controller/etcdembed"
	"go.etcd.io/etcd/server/v3/embed"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "etcdmember:", err)
		os.Exit(1)
	}
}

func run() error {
	ec := embed.NewConfig()
	var clientURL, peerURL string
	flag.StringVar(&ec.Name, "name", "", "member name")
	flag.StringVar(&ec.Dir, "data-dir", "", "data directory")
	flag.StringVar(&clientURL, "client-url", "", "client URL to listen on and advertise (http:// or https://)")
	flag.StringVar(&peerURL, "peer-url", "", "peer URL to listen on and advertise (http:// or https://)")
	flag.StringVar(&ec.InitialCluster, "initial-cluster", "", "name=peer-url,... of every member")
	flag.StringVar(&ec.InitialClusterToken, "initial-cluster-token", "anyctl-test", "cluster token")
	flag.StringVar(&ec.ClientTLSInfo.CertFile, "cert-file", "", "server certificate for clients (PEM)")
	flag.StringVar(&ec.ClientTLSInfo.KeyFile, "key-file", "", "server key for clients (PEM)")
	flag.StringVar(&ec.ClientTLSInfo.TrustedCAFile, "trusted-ca-file", "", "CA that signs client certificates (PEM); requires them")
	flag.StringVar(&ec.PeerTLSInfo.CertFile, "peer-cert-file", "", "certificate for peers (PEM)")
	flag.StringVar(&ec.PeerTLSInfo.KeyFile, "peer-key-file", "", "key for peers (PEM)")
	flag.StringVar(&ec.PeerTLSInfo.TrustedCAFile, "peer-trusted-ca-file", "", "CA that signs peer certificates (PEM)")
	flag.BoolVar(&ec.UnsafeNoFsync, "unsafe-no-fsync", false, "skip fsync (tests only)")
	flag.Parse()
	if ec.Name == "" || ec.Dir == "" || clientURL == "" || peerURL == "" || ec.InitialCluster == "" {
		return fmt.Errorf("--name, --data-dir, --client-url, --peer-url and --initial-cluster are required")
	}
	cu, err := url.Parse(clientURL)
	if err != nil {
		return fmt.Errorf("--client-url %q: %w", clientURL, err)
	}
	pu, err := url.Parse(peerURL)
	if err != nil {
		return fmt.Errorf("--peer-url %q: %w", peerURL, err)
	}
	ec.ListenClientUrls, ec.AdvertiseClientUrls = []url.URL{*cu}, []url.URL{*cu}
	ec.ListenPeerUrls, ec.AdvertisePeerUrls = []url.URL{*pu}, []url.URL{*pu}
	ec.ClientTLSInfo.ClientCertAuth = ec.ClientTLSInfo.TrustedCAFile != ""
	ec.PeerTLSInfo.ClientCertAuth = ec.PeerTLSInfo.TrustedCAFile != ""
	// Timings for loopback: a 100 ms heartbeat and a 1 s election timeout
	// (etcd's defaults), and large requests like the controller's embedded
	// etcd takes.
	ec.TickMs, ec.ElectionMs = 100, 1000
	ec.MaxRequestBytes = etcdembed.MaxRequestBytes
	ec.MaxTxnOps = etcdembed.MaxTxnOps
	ec.LogLevel = "warn"
	ec.Logger = "zap"
	ec.LogOutputs = []string{"stderr"}
	// A restarted member rejoins the cluster its data dir knows.
	if _, err := os.Stat(ec.Dir + "/member"); err == nil {
		ec.ClusterState = embed.ClusterStateFlagExisting
	}
	e, err := embed.StartEtcd(ec)
	if err != nil {
		return err
	}
	defer e.Close()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		// Ready once a majority of the members is up.
		<-e.Server.ReadyNotify()
		fmt.Fprintf(os.Stderr, "etcdmember: %s ready, serving clients on %s\n", ec.Name, cu.String())
	}()
	select {
	case err := <-e.Err():
		return err
	case <-sig:
		return nil
	}
}
