package geo

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"unsafe"

	"github.com/anyctl/anyctl/atomicfile"
)

// A table file holds a Table as built, so that a server restarting with
// the same database, PoP networks and default location answers without
// reading the database or building the table again (seconds for a
// City-sized database). The families are laid out as they are in memory,
// so that reading the file is one copy into memory of the process's own
// (in huge pages where the kernel has them: a hundred megabytes in 4 KiB
// pages costs more in page faults than all the rest), served in place.
//
// Layout, little-endian: tableMagic; the key; the ID of the database the
// table was built from (a server restarting with another version of the
// database answers with this table until it has read that one); the classes (strings are a
// uvarint length and bytes); then per family, from an offset that is a
// multiple of 16: its leaf count (8 bytes) and 8 bytes of zeros, the
// starts (16 bytes each: high, then low 64 bits), the classes (4 bytes
// each) and the prefix lengths (1 byte each); last, the CRC-32C of
// everything before it.
const tableMagic = "anyctl geo table 3\n"

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// littleEndian is true where a []u128 and an []int32 have the file's
// layout in memory, so that a family can be read in place.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// WriteFile writes the table to path atomically: a temporary file in the
// same directory, synced, then renamed over path, and the directory
// synced.
func (t *Table) WriteFile(path string) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write prefix table: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	crc := crc32.New(castagnoli)
	w := bufio.NewWriterSize(io.MultiWriter(f, crc), 1<<20)
	t.encode(w)
	err = w.Flush()
	if err == nil {
		_, err = f.Write(binary.LittleEndian.AppendUint32(nil, crc.Sum32()))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		return fmt.Errorf("write prefix table %q: %w", path, err)
	}
	atomicfile.SyncDir(filepath.Dir(path))
	return nil
}

func (t *Table) encode(w *bufio.Writer) {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = append(b, tableMagic...)
	str(t.key)
	str(t.DBID())
	b = binary.AppendUvarint(b, uint64(len(t.classes)))
	for _, c := range t.classes {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Location.Latitude))
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(c.Location.Longitude))
		str(c.Location.Country)
		str(c.Location.Continent)
		str(c.Location.City)
		str(c.Pop)
		str(c.Source)
	}
	off := len(b)
	w.Write(b)
	for _, f := range []*family{&t.v4, &t.v6} {
		b = make([]byte, pad16(off), pad16(off)+16)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(f.starts)))
		b = binary.LittleEndian.AppendUint64(b, 0)
		w.Write(b)
		for _, s := range f.starts {
			b = binary.LittleEndian.AppendUint64(b[:0], s.hi)
			w.Write(binary.LittleEndian.AppendUint64(b, s.lo))
		}
		for _, c := range f.class {
			w.Write(binary.LittleEndian.AppendUint32(b[:0], uint32(c)))
		}
		w.Write(f.bits)
		off += pad16(off) + 16 + 21*len(f.starts)
	}
}

// pad16 is how many bytes take off to a multiple of 16.
func pad16(off int) int { return (16 - off%16) % 16 }

// ReadTableFile reads a table WriteFile wrote. A file that is cut short,
// damaged or of another layout is an error, never a wrong table. The table
// does not depend on the file once read: the file may then be removed,
// replaced, cut short or written in place.
func ReadTableFile(path string) (*Table, error) {
	// A file that is no table (another tool's) is refused before it is
	// read whole: it may be of any size.
	if err := checkMagic(path); err != nil {
		return nil, fmt.Errorf("read prefix table %q: %w", path, err)
	}
	b, release, err := mapFile(path)
	if err != nil {
		return nil, fmt.Errorf("read prefix table: %w", err)
	}
	t, err := decodeTable(b)
	if err != nil {
		release()
		return nil, fmt.Errorf("read prefix table %q: %w", path, err)
	}
	if t.inPlace {
		// The families live in the copy: it goes with the last family
		// that refers to it, which may be another table's (Patch).
		held := &heldMemory{b}
		t.v4.held, t.v6.held = held, held
		runtime.AddCleanup(held, func(release func()) { release() }, release)
	} else {
		release()
	}
	return t, nil
}

var errDamaged = errors.New("damaged or cut short")

// errNotTable refuses a file that does not start as a table file of this
// version does.
var errNotTable = errors.New("not a prefix table of this version")

// checkMagic reads the start of the file at path: tableMagic.
func checkMagic(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	b := make([]byte, len(tableMagic))
	if _, err := io.ReadFull(f, b); err != nil || string(b) != tableMagic {
		return errNotTable
	}
	return nil
}

func decodeTable(b []byte) (*Table, error) {
	if len(b) < len(tableMagic)+4 || string(b[:len(tableMagic)]) != tableMagic {
		return nil, errNotTable
	}
	body, sum := b[:len(b)-4], binary.LittleEndian.Uint32(b[len(b)-4:])
	// The checksum and the check of the classes' range run at once.
	checked := make(chan bool, 1)
	go func() { checked <- crc32.Checksum(body, castagnoli) == sum }()
	d := decoder{b: body}
	d.take(len(tableMagic))
	t := &Table{key: d.str(), inPlace: littleEndian}
	t.readDBID = d.str()
	n := d.count(8 + 8 + 5)
	t.classes = make([]Class, n)
	interned := map[string]string{}
	intern := func(s string) string {
		if v, ok := interned[s]; ok {
			return v
		}
		interned[s] = s
		return s
	}
	for i := range t.classes {
		c := &t.classes[i]
		c.Location.Latitude = math.Float64frombits(d.u64())
		c.Location.Longitude = math.Float64frombits(d.u64())
		c.Location.Country = intern(d.str())
		c.Location.Continent = intern(d.str())
		c.Location.City = d.str()
		c.Pop = intern(d.str())
		c.Source = intern(d.str())
	}
	var sections [2]familySection
	for i, width := range []int{32, 128} {
		d.take(pad16(len(body) - len(d.b)))
		sec := &sections[i]
		sec.width = width
		n := d.count64(16 + 4 + 1)
		d.take(8)
		sec.starts, sec.class, sec.bits = d.take(16*n), d.take(4*n), d.take(n)
	}
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("%d bytes after the table: %w", len(d.b), errDamaged)
	}
	if d.err != nil {
		<-checked
		return nil, d.err
	}
	var v6err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		t.v6, v6err = sections[1].decode(len(t.classes), t.inPlace)
	}()
	v4, err := sections[0].decode(len(t.classes), t.inPlace)
	<-done
	if !<-checked {
		return nil, fmt.Errorf("checksum mismatch: %w", errDamaged)
	}
	if err == nil {
		err = v6err
	}
	if err != nil {
		return nil, err
	}
	t.v4 = v4
	return t, nil
}

// familySection is the part of a table file holding a family.
type familySection struct {
	width               int
	starts, class, bits []byte
}

// decode makes the family of the section: views of it when inPlace, else
// copies.
func (sec familySection) decode(classes int, inPlace bool) (family, error) {
	n := len(sec.bits)
	if n == 0 {
		return family{}, fmt.Errorf("a family has no leaves: %w", errDamaged)
	}
	f := family{width: sec.width}
	if inPlace {
		f.starts = unsafe.Slice((*u128)(unsafe.Pointer(&sec.starts[0])), n)
		f.class = unsafe.Slice((*int32)(unsafe.Pointer(&sec.class[0])), n)
		f.bits = sec.bits
	} else {
		f.starts, f.class, f.bits = make([]u128, n), make([]int32, n), slices.Clone(sec.bits)
		for i := range f.starts {
			f.starts[i] = u128{binary.LittleEndian.Uint64(sec.starts[16*i:]), binary.LittleEndian.Uint64(sec.starts[16*i+8:])}
			f.class[i] = int32(binary.LittleEndian.Uint32(sec.class[4*i:]))
		}
	}
	bad := false
	for _, c := range f.class {
		bad = bad || c < 0 || int(c) >= classes
	}
	if bad {
		return family{}, fmt.Errorf("a leaf names a class out of %d: %w", classes, errDamaged)
	}
	if f.starts[0] != (u128{}) {
		return family{}, fmt.Errorf("a family does not start at address zero: %w", errDamaged)
	}
	return f, nil
}

// decoder reads the table layout, remembering the first error; after one,
// every read returns zeros.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil || n < 0 || n > len(d.b) {
		if d.err == nil {
			d.err = errDamaged
		}
		return make([]byte, max(n, 0))
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		if d.err == nil {
			d.err = errDamaged
		}
		return 0
	}
	d.b = d.b[n:]
	return v
}

// count64 is count with the count in 8 bytes.
func (d *decoder) count64(size int) int {
	v := d.u64()
	if v > uint64(len(d.b)/size) {
		if d.err == nil {
			d.err = errDamaged
		}
		return 0
	}
	return int(v)
}

// count reads a count of items of at least size bytes each, refusing one
// the rest of the file cannot hold.
func (d *decoder) count(size int) int {
	v := d.uvarint()
	if v > uint64(len(d.b)/size) {
		if d.err == nil {
			d.err = errDamaged
		}
		return 0
	}
	return int(v)
}

func (d *decoder) u64() uint64 { return binary.LittleEndian.Uint64(d.take(8)) }

func (d *decoder) str() string {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		if d.err == nil {
			d.err = errDamaged
		}
		return ""
	}
	return string(d.take(int(n)))
}
