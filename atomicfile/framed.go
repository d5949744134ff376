package atomicfile

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
)

// A framed file is a header and the payload:
//
//	magic    4 bytes, chosen by the caller for the kind of file
//	version  1 byte, frameVersion
//	length   8 bytes, big-endian, of the payload
//	checksum 4 bytes, big-endian, CRC-32C (Castagnoli) of the payload
//	payload  length bytes
//
// so that a truncated file, a changed byte or a file of another kind is
// refused instead of being decoded into something else.
const (
	frameVersion = 1
	headerLen    = 4 + 1 + 8 + 4
)

// ErrCorrupt is wrapped by ReadFramed's errors for a file that is there
// but cannot be trusted: not framed (for instance written by a version
// before framing), of another kind or version, truncated, or with a
// checksum that does not match.
var ErrCorrupt = errors.New("corrupt state file")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WriteFramed replaces the file at path, as WriteFile does, with payload
// framed by magic (4 bytes), a version, its length and its CRC-32C.
func WriteFramed(path string, magic string, payload []byte) error {
	if len(magic) != 4 {
		return fmt.Errorf("write %q: magic %q: want 4 bytes", path, magic)
	}
	b := make([]byte, headerLen, headerLen+len(payload))
	copy(b, magic)
	b[4] = frameVersion
	binary.BigEndian.PutUint64(b[5:], uint64(len(payload)))
	binary.BigEndian.PutUint32(b[13:], crc32.Checksum(payload, castagnoli))
	return WriteFile(path, append(b, payload...))
}

// ReadFramed reads a file WriteFramed wrote with the same magic and
// returns its payload. An error wrapping os.ErrNotExist means there is no
// file; one wrapping ErrCorrupt says what is wrong with the file.
func ReadFramed(path string, magic string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read %q: %w", path, err)
	}
	payload, err := Unframe(b, magic)
	if err != nil {
		return nil, fmt.Errorf("%q: %w", path, err)
	}
	return payload, nil
}

// Unframe checks a framed file's contents and returns its payload; its
// errors wrap ErrCorrupt.
func Unframe(b []byte, magic string) ([]byte, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: the file is empty", ErrCorrupt)
	case len(b) < headerLen:
		return nil, fmt.Errorf("%w: %d bytes, shorter than the %d-byte header (truncated)", ErrCorrupt, len(b), headerLen)
	case string(b[:4]) != magic:
		return nil, fmt.Errorf("%w: starts with %q, want %q (not this kind of file, or written by a version before state files were checksummed)", ErrCorrupt, b[:4], magic)
	case b[4] != frameVersion:
		return nil, fmt.Errorf("%w: format version %d, want %d", ErrCorrupt, b[4], frameVersion)
	}
	want := binary.BigEndian.Uint64(b[5:])
	if got := uint64(len(b) - headerLen); got != want {
		return nil, fmt.Errorf("%w: payload of %d bytes, the header says %d (truncated or damaged)", ErrCorrupt, got, want)
	}
	payload := b[headerLen:]
	if got, want := crc32.Checksum(payload, castagnoli), binary.BigEndian.Uint32(b[13:]); got != want {
		return nil, fmt.Errorf("%w: checksum %08x, the header says %08x (damaged)", ErrCorrupt, got, want)
	}
	return payload, nil
}
