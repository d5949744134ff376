//go:build unix && !linux

package geo

// adviseHugePages does nothing: transparent huge pages are Linux's.
func adviseHugePages([]byte) {}
