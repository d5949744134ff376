package etcdembed

// For the tests in package etcdembed_test, which start members through
// etcdembedtest (an import cycle from inside package etcdembed).
type Ports = ports

var (
	LoadPorts   = loadPorts
	TestContext = testContext
	DataDir     = dataDir
	Occupy      = occupy
)
