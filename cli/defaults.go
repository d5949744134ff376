package cli

// DefaultServer is where client commands find a controller when nothing else
// says: the controller's default gRPC listen address.
const DefaultServer = "127.0.0.1:7400"

// DefaultMetricsListen is the controller's default Prometheus listener.
const DefaultMetricsListen = "127.0.0.1:7401"
