//go:build unix

package geo

import (
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// mapFile reads the file at path into an anonymous private mapping, made
// read-only once filled; release unmaps it. The table is served from
// that copy, not from the file's pages: a file mapped shared and then cut
// short or written in place by another tool (cp over it, a restore from
// a backup) would take the pages away under the serving threads (SIGBUS)
// or change the table they answer from after its checksum was checked.
func mapFile(path string) (b []byte, release func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	size := fi.Size()
	if size == 0 || size != int64(int(size)) {
		return nil, nil, fmt.Errorf("%s: size %d cannot be read", path, size)
	}
	b, err = unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: memory for %d bytes: %w", path, size, err)
	}
	release = func() { unix.Munmap(b) }
	// Huge pages make the copy cost a few page faults rather than one per
	// 4 KiB.
	adviseHugePages(b)
	if _, err := io.ReadFull(io.NewSectionReader(f, 0, size), b); err != nil {
		release()
		return nil, nil, fmt.Errorf("read %s: %w (cut short while read?)", path, err)
	}
	if err := unix.Mprotect(b, unix.PROT_READ); err != nil {
		release()
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, release, nil
}
