package geo

import "golang.org/x/sys/unix"

// adviseHugePages asks for b to be backed by transparent huge pages,
// where the kernel allows it.
func adviseHugePages(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
