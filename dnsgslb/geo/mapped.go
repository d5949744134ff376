package geo

import (
	"fmt"
	"runtime/debug"
)

// readMapped runs read, which reads the GeoIP database at path through a
// memory mapping (maxminddb.Open maps the file). A tool that truncates
// the file in place while it is read takes the mapped pages past the new
// end away, and reading them faults (SIGBUS): that is an error saying the
// file changed, not the end of the process.
func readMapped(path string, read func() error) (err error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if _, fault := r.(interface{ Addr() uintptr }); !fault {
			panic(r)
		}
		err = fmt.Errorf("GeoIP database %q changed while it was read: it was cut short (%v)", path, r)
	}()
	return read()
}
