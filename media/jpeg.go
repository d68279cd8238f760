package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// JPEG markers this package tells apart.
const (
	mSOI   = 0xd8
	mEOI   = 0xd9
	mSOS   = 0xda
	mAPP0  = 0xe0
	mAPP1  = 0xe1
	mAPP2  = 0xe2
	mAPP14 = 0xee
	mCOM   = 0xfe
)

// jpegReader walks a JPEG's markers from a buffered stream.
type jpegReader struct {
	br *bufio.Reader
	// marked: the 0xff of the next marker was already read (the end of
	// a scan is only known when its marker is seen).
	marked bool
}

var errJPEG = fmt.Errorf("%w: malformed JPEG", ErrNotPicture)

func jpegErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errJPEG}, args...)...)
}

// unexpected turns an end of input inside a structure into an
// ErrUnexpectedEOF: a truncated file.
func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// start reads the SOI marker.
func (j *jpegReader) start() error {
	var b [2]byte
	if _, err := io.ReadFull(j.br, b[:]); err != nil {
		return unexpected(err)
	}
	if b[0] != 0xff || b[1] != mSOI {
		return jpegErr("no start of image")
	}
	return nil
}

// next reads the next marker, past fill bytes.
func (j *jpegReader) next() (byte, error) {
	if !j.marked {
		b, err := j.br.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		if b != 0xff {
			return 0, jpegErr("0x%02x where a marker should be", b)
		}
	}
	j.marked = false
	for {
		m, err := j.br.ReadByte()
		if err != nil {
			return 0, unexpected(err)
		}
		if m != 0xff {
			if m < 0xc0 && m != 0x01 || m >= 0xd0 && m <= 0xd7 || m == mSOI {
				return 0, jpegErr("marker 0x%02x out of place", m)
			}
			return m, nil
		}
	}
}

// hasSegment: every marker but SOI, EOI, TEM and RSTn has a length and a
// segment.
func hasSegment(m byte) bool {
	return !(m == mSOI || m == mEOI || m == 0x01 || m >= 0xd0 && m <= 0xd7)
}

// segment reads a marker's segment into buf (a segment is at most 65533
// bytes) and returns it.
func (j *jpegReader) segment(buf []byte) ([]byte, error) {
	var l [2]byte
	if _, err := io.ReadFull(j.br, l[:]); err != nil {
		return nil, unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < 2 {
		return nil, jpegErr("segment length %d", n)
	}
	if cap(buf) < n-2 {
		buf = make([]byte, n-2, 1<<16)
	}
	buf = buf[:n-2]
	if _, err := io.ReadFull(j.br, buf); err != nil {
		return nil, unexpected(err)
	}
	return buf, nil
}

// skipSegment passes over a marker's segment.
func (j *jpegReader) skipSegment() error {
	var l [2]byte
	if _, err := io.ReadFull(j.br, l[:]); err != nil {
		return unexpected(err)
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n < 2 {
		return jpegErr("segment length %d", n)
	}
	if _, err := j.br.Discard(n - 2); err != nil {
		return unexpected(err)
	}
	return nil
}

// scan copies a scan's entropy-coded data to w (nil: drops it), up to
// the next marker that is neither a stuffed 0xff nor a restart.
func (j *jpegReader) scan(w *bufio.Writer) error {
	for {
		chunk, err := j.br.Peek(max(1, min(j.br.Buffered(), 4096)))
		if err != nil {
			return unexpected(err)
		}
		i := bytes.IndexByte(chunk, 0xff)
		if i < 0 {
			i = len(chunk)
		}
		if w != nil {
			w.Write(chunk[:i])
		}
		j.br.Discard(i)
		if i == len(chunk) {
			continue
		}
		// At a 0xff: look at what follows.
		pair, err := j.br.Peek(2)
		if err != nil {
			return unexpected(err)
		}
		if m := pair[1]; m == 0x00 || m >= 0xd0 && m <= 0xd7 {
			if w != nil {
				w.Write(pair)
			}
			j.br.Discard(2)
			continue
		}
		j.br.Discard(1)
		j.marked = true
		return nil
	}
}

// jpegHeader is what the markers before (and, for a whole walk, after)
// the frame header say.
type jpegHeader struct {
	w, h        int
	comps       []jpegComponent
	progressive bool
	adobeRGB    bool // an Adobe marker saying "no transform"
	orientation int  // EXIF orientation, 1..8; 1 when none
	scans       int
}

type jpegComponent struct {
	id   byte
	h, v int
}

// readJPEGHeader walks a JPEG's markers to its frame header or, when
// whole, to its end (counting scans, without decoding them). Only
// baseline, extended and progressive Huffman frames of 8-bit samples are
// taken: the ones a decoder here can read.
func readJPEGHeader(br *bufio.Reader, whole bool) (jpegHeader, error) {
	hd := jpegHeader{orientation: 1}
	j := jpegReader{br: br}
	if err := j.start(); err != nil {
		return hd, err
	}
	var buf []byte
	seenExif, seenFrame := false, false
	for {
		m, err := j.next()
		if err != nil {
			return hd, err
		}
		switch {
		case m == mEOI:
			if !seenFrame || hd.scans == 0 {
				return hd, jpegErr("ends before its picture")
			}
			return hd, nil
		case m == 0xc0 || m == 0xc1 || m == 0xc2:
			if seenFrame {
				return hd, jpegErr("two frames")
			}
			seenFrame = true
			if buf, err = j.segment(buf); err != nil {
				return hd, err
			}
			if err := hd.frame(m, buf); err != nil {
				return hd, err
			}
			if !whole {
				return hd, nil
			}
		case m >= 0xc3 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
			return hd, jpegErr("a lossless, hierarchical or arithmetic-coded frame (0x%02x) is not read here", m)
		case m == mAPP1 && !seenExif && !seenFrame:
			if buf, err = j.segment(buf); err != nil {
				return hd, err
			}
			seenExif = hd.exif(buf)
		case m == mAPP14:
			if buf, err = j.segment(buf); err != nil {
				return hd, err
			}
			hd.adobe(buf)
		case m == mSOS:
			if !seenFrame {
				return hd, jpegErr("a scan before the frame header")
			}
			hd.scans++
			if err := j.skipScan(); err != nil {
				return hd, err
			}
		case hasSegment(m):
			if err := j.skipSegment(); err != nil {
				return hd, err
			}
		}
	}
}

// exif takes the orientation of an APP1 segment, and reports whether the
// segment is an EXIF that says one.
func (hd *jpegHeader) exif(seg []byte) bool {
	o, ok := exifOrientation(seg)
	if ok {
		hd.orientation = o
	}
	return ok
}

// adobe notes whether an APP14 segment is Adobe's, saying that the
// colours are stored with no transform (RGB, not YCbCr).
func (hd *jpegHeader) adobe(seg []byte) {
	if len(seg) >= 12 && string(seg[:5]) == "Adobe" && seg[11] == 0 {
		hd.adobeRGB = true
	}
}

// skipScan skips a scan, whose SOS marker j has just read: its header
// and its entropy-coded data.
func (j *jpegReader) skipScan() error {
	if err := j.skipSegment(); err != nil {
		return err
	}
	return j.scan(nil)
}

// frame reads a frame header (SOFn segment).
func (hd *jpegHeader) frame(m byte, seg []byte) error {
	if len(seg) < 6 {
		return jpegErr("short frame header")
	}
	if seg[0] != 8 {
		return jpegErr("%d-bit samples are not read here", seg[0])
	}
	hd.h = int(binary.BigEndian.Uint16(seg[1:3]))
	hd.w = int(binary.BigEndian.Uint16(seg[3:5]))
	n := int(seg[5])
	if n != 1 && n != 3 && n != 4 {
		return jpegErr("%d components", n)
	}
	if len(seg) < 6+3*n {
		return jpegErr("short frame header")
	}
	if hd.w == 0 || hd.h == 0 {
		return jpegErr("no width or height")
	}
	hd.progressive = m == 0xc2
	for c := seg[6 : 6+3*n]; len(c) >= 3; c = c[3:] {
		h, v := int(c[1]>>4), int(c[1]&15)
		if h < 1 || h > 4 || v < 1 || v > 4 {
			return jpegErr("sampling factors %dx%d", h, v)
		}
		hd.comps = append(hd.comps, jpegComponent{c[0], h, v})
	}
	return nil
}

// cost is the memory decoding takes, in bytes: each component's samples
// (rounded up to whole blocks), four bytes more a sample for a
// progressive JPEG's coefficients, and for CMYK or RGB the picture made
// of them.
func (hd *jpegHeader) cost() int64 {
	hmax, vmax := 1, 1
	for _, c := range hd.comps {
		hmax, vmax = max(hmax, c.h), max(vmax, c.v)
	}
	mxx := (int64(hd.w) + 8*int64(hmax) - 1) / (8 * int64(hmax))
	myy := (int64(hd.h) + 8*int64(vmax) - 1) / (8 * int64(vmax))
	var samples int64
	for _, c := range hd.comps {
		samples += 8 * int64(c.h) * mxx * 8 * int64(c.v) * myy
	}
	cost := samples
	if hd.progressive {
		cost += 4 * samples
	}
	n := len(hd.comps)
	named := n == 3 && hd.comps[0].id == 'R' && hd.comps[1].id == 'G' && hd.comps[2].id == 'B'
	if n == 4 || n == 3 && (hd.adobeRGB || named) {
		cost += 4 * int64(hd.w) * int64(hd.h)
	}
	return cost
}

// exifOrientation reads the Orientation tag (0x0112) of IFD0 from an APP1
// segment; ok is false when the segment is not EXIF. An orientation out
// of 1..8 counts as 1.
func exifOrientation(seg []byte) (orientation int, ok bool) {
	if !bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
		return 1, false
	}
	tiff := seg[6:]
	if len(tiff) < 8 {
		return 1, true
	}
	var bo binary.ByteOrder
	switch string(tiff[:4]) {
	case "II*\x00":
		bo = binary.LittleEndian
	case "MM\x00*":
		bo = binary.BigEndian
	default:
		return 1, true
	}
	off := int64(bo.Uint32(tiff[4:8]))
	if off < 8 || off+2 > int64(len(tiff)) {
		return 1, true
	}
	n := int64(bo.Uint16(tiff[off:]))
	for i := int64(0); i < n; i++ {
		e := off + 2 + 12*i
		if e+12 > int64(len(tiff)) {
			break
		}
		if bo.Uint16(tiff[e:]) != 0x0112 {
			continue
		}
		// SHORT, one value, held in the entry itself.
		if bo.Uint16(tiff[e+2:]) != 3 || bo.Uint32(tiff[e+4:]) != 1 {
			return 1, true
		}
		o := int(bo.Uint16(tiff[e+8:]))
		if o < 1 || o > 8 {
			return 1, true
		}
		return o, true
	}
	return 1, true
}

// orientationSegment is a whole APP1 marker holding a minimal EXIF: IFD0
// with the Orientation tag and nothing else.
func orientationSegment(o int) []byte {
	seg := []byte{
		0xff, mAPP1, 0, 34,
		'E', 'x', 'i', 'f', 0, 0,
		'M', 'M', 0, '*', 0, 0, 0, 8, // big-endian TIFF, IFD0 at 8
		0, 1, // one entry
		0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, byte(o), 0, 0, // Orientation, SHORT, 1, o
		0, 0, 0, 0, // no next IFD
	}
	return seg
}

// cleanJPEG copies a JPEG without its metadata: of the APPn segments only
// JFIF (APP0), ICC profiles (APP2 "ICC_PROFILE") and Adobe's colour
// transform (APP14, without which CMYK and RGB JPEGs decode to other
// colours) stay; comments go; an EXIF orientation other than 1 is kept as
// a minimal EXIF of its own. Nothing after the end of image is copied
// (phones put more pictures, with their own EXIF, there).
func cleanJPEG(r io.Reader, w io.Writer) error {
	j := jpegReader{br: bufio.NewReaderSize(r, 64<<10)}
	c := jpegCopy{out: bufio.NewWriterSize(w, 64<<10)}
	if err := j.start(); err != nil {
		return err
	}
	c.out.Write([]byte{0xff, mSOI})
	var buf []byte
	scans := 0
	for {
		m, err := j.next()
		if err != nil {
			return err
		}
		switch {
		case m == mEOI:
			if !c.seenFrame || scans == 0 {
				return jpegErr("ends before its picture")
			}
			c.out.Write([]byte{0xff, mEOI})
			return c.out.Flush()
		case m == mSOS:
			if !c.seenFrame {
				return jpegErr("a scan before the frame header")
			}
			scans++
			if buf, err = j.segment(buf); err != nil {
				return err
			}
			writeSegment(c.out, m, buf)
			if err := j.scan(c.out); err != nil {
				return err
			}
			continue
		case !hasSegment(m):
			c.out.Write([]byte{0xff, m}) // TEM: no segment
			continue
		}
		if buf, err = j.segment(buf); err != nil {
			return err
		}
		if err := c.segment(m, buf); err != nil {
			return err
		}
	}
}

// jpegCopy is cleanJPEG's copy, and what it has seen so far.
type jpegCopy struct {
	out                 *bufio.Writer
	seenExif, seenFrame bool
}

// segment copies, rewrites or drops a segment other than a scan's, by
// cleanJPEG's rules; a second frame header is a malformed JPEG.
func (c *jpegCopy) segment(m byte, seg []byte) error {
	switch {
	case m >= 0xc0 && m <= 0xcf && m != 0xc4 && m != 0xc8 && m != 0xcc:
		if c.seenFrame {
			return jpegErr("two frames")
		}
		c.seenFrame = true
		writeSegment(c.out, m, seg)
	case m == mAPP1:
		// The first EXIF before the frame is the one readers go by.
		if o, ok := exifOrientation(seg); ok && !c.seenExif && !c.seenFrame {
			c.seenExif = true
			if o != 1 {
				c.out.Write(orientationSegment(o))
			}
		}
	case m == mAPP0 && bytes.HasPrefix(seg, []byte("JFIF\x00")),
		m == mAPP2 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")),
		m == mAPP14 && bytes.HasPrefix(seg, []byte("Adobe")):
		writeSegment(c.out, m, seg)
	case m >= mAPP0 && m <= 0xef, m == mCOM:
		// metadata: dropped
	default:
		writeSegment(c.out, m, seg) // tables, restart interval, ...
	}
	return nil
}

func writeSegment(w *bufio.Writer, m byte, seg []byte) {
	n := len(seg) + 2
	w.Write([]byte{0xff, m, byte(n >> 8), byte(n)})
	w.Write(seg)
}
