package authn

import "os"

// fileSet is the identities of a set of files at one moment: a file
// renamed over, rewritten in place or swapped behind a symbolic link (as
// Kubernetes updates a mounted Secret) gets another.
type fileSet []fileState

// fileState is one file's identity, or why it could not be had.
type fileState struct {
	info os.FileInfo
	err  error
}

// statFiles stats each path, following symbolic links.
func statFiles(paths []string) fileSet {
	s := make(fileSet, len(paths))
	for i, p := range paths {
		s[i].info, s[i].err = os.Stat(p)
	}
	return s
}

// same reports whether s and o are the same files, unchanged: the same
// device and inode, size and modification time, or the same stat error.
func (s fileSet) same(o fileSet) bool {
	if len(s) != len(o) {
		return false
	}
	for i := range s {
		a, b := s[i], o[i]
		if a.err != nil || b.err != nil {
			if a.err == nil || b.err == nil || a.err.Error() != b.err.Error() {
				return false
			}
			continue
		}
		if !os.SameFile(a.info, b.info) || a.info.Size() != b.info.Size() || !a.info.ModTime().Equal(b.info.ModTime()) {
			return false
		}
	}
	return true
}
