package dnsgslb

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/anyctl/anyctl/dnsgslb/geo"
)

// tableFile holds, in the state directory, the prefix table of the index
// served, so that a restart answers without reading the GeoIP database or
// building a table from it (see geo.Table.WriteFile).
const tableFile = "gslb-table.bin"

// loadTable reads the persisted prefix table; nil when there is none or it
// cannot be read (logged: the table is then built again).
func (s *Server) loadTable() *geo.Table {
	path := filepath.Join(s.cfg.StateDir, tableFile)
	t, err := geo.ReadTableFile(path)
	if err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			s.log.Warn("dns: ignoring the persisted prefix table; building it again", "err", err)
		}
		return nil
	}
	return t
}

// saveTableLocked writes the served index's prefix table to the state
// directory unless it is there already. The caller holds updateMu.
func (s *Server) saveTableLocked() error {
	ix := s.index.Load()
	if ix == nil || ix.Table().Key() == s.savedTable {
		return nil
	}
	t := ix.Table()
	err := InBackground(func() error { return t.WriteFile(filepath.Join(s.cfg.StateDir, tableFile)) })
	if err != nil {
		return err
	}
	s.savedTable = t.Key()
	return nil
}

// removeTemporaries removes from dir the temporary files that writes of the
// named files, cut short by a crash, left behind (".NAME.*"). It lists dir
// rather than globbing: a glob would read a "[" in dir's own name as a
// pattern and find nothing.
func removeTemporaries(dir string, names ...string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		for _, name := range names {
			if strings.HasPrefix(e.Name(), "."+name+".") {
				os.Remove(filepath.Join(dir, e.Name()))
			}
		}
	}
}
