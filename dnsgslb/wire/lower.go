package wire

import "encoding/binary"

// Lower copies a wire-format name (or any bytes) into dst in ASCII lower
// case and returns dst[:len(name)]; dst must hold len(name) bytes. It
// turns eight bytes at a time, for the name of every query.
func Lower(dst, name []byte) []byte {
	dst = dst[:len(name)]
	i := 0
	for ; i+8 <= len(name); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], lower8(binary.LittleEndian.Uint64(name[i:])))
	}
	for ; i < len(name); i++ {
		c := name[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst[i] = c
	}
	return dst
}

// lower8 lowers the ASCII capitals among eight bytes. Per byte with the
// top bit cleared (so that no sum carries into the next byte), adding
// 0x80-'A' sets the top bit from 'A' up and adding 0x80-'Z'-1 from past
// 'Z'; a byte that had its top bit set is no ASCII letter and stays.
func lower8(x uint64) uint64 {
	const (
		ones = 0x0101010101010101
		high = 0x8080808080808080
	)
	low := x &^ high
	fromA := low + (0x80-'A')*ones
	pastZ := low + (0x80-'Z'-1)*ones
	upper := fromA &^ pastZ &^ x & high
	return x | upper>>2
}
