package media

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

var pngSignature = []byte("\x89PNG\r\n\x1a\n")

var errPNG = fmt.Errorf("%w: malformed PNG", ErrNotPicture)

func pngErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errPNG}, args...)...)
}

// pngKept are the chunks a cleaned PNG keeps: the critical ones, and the
// ancillary ones that say how to show the pixels (transparency, colour,
// pixel size, animation). Every other chunk goes — text (tEXt, zTXt,
// iTXt), EXIF (eXIf), time (tIME), and any private chunk, which may hold
// anything.
var pngKept = map[string]bool{
	"IHDR": true, "PLTE": true, "IDAT": true, "IEND": true,
	"tRNS": true, "gAMA": true, "cHRM": true, "sRGB": true, "iCCP": true,
	"sBIT": true, "bKGD": true, "pHYs": true, "cICP": true, "mDCv": true,
	"cLLi": true, "acTL": true, "fcTL": true, "fdAT": true,
}

// pngCost is the memory decoding a PNG takes, from its IHDR chunk (the
// 25 bytes after the signature): a byte a pixel for a palette, eight for
// 16-bit samples, four for the rest (grey becomes colour when a tRNS
// chunk, which comes later, gives it a transparent shade), half as much
// again for an interlaced one (its largest pass).
func pngCost(w, h int, ihdr []byte) int64 {
	depth, colour, interlace := ihdr[16], ihdr[17], ihdr[20]
	bpp := int64(4)
	switch {
	case depth == 16:
		bpp = 8
	case colour == 3:
		bpp = 1
	}
	cost := int64(w) * int64(h) * bpp
	if interlace != 0 {
		cost += cost / 2
	}
	return cost
}

// cleanPNG copies a PNG's chunks that pngKept names, checking each one's
// CRC, and stops at IEND (whatever follows it is dropped).
func cleanPNG(r io.Reader, w io.Writer) error {
	br := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriterSize(w, 64<<10)
	sig := make([]byte, 8)
	if _, err := io.ReadFull(br, sig); err != nil {
		return unexpected(err)
	}
	if string(sig) != string(pngSignature) {
		return pngErr("no signature")
	}
	out.Write(sig)
	var head [8]byte
	idat := false
	buf := make([]byte, 32<<10)
	for first := true; ; first = false {
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return unexpected(err)
		}
		typ, n, keep, err := pngChunkHead(head, first)
		if err != nil {
			return err
		}
		if err := copyPNGChunk(br, out, head, n, keep, buf); err != nil {
			return err
		}
		idat = idat || typ == "IDAT"
		if typ == "IEND" {
			if !idat {
				return pngErr("no IDAT chunk")
			}
			return out.Flush()
		}
	}
}

// pngChunkHead checks a chunk's length and type (IHDR first, letters
// only, no critical chunk this package does not know), and says whether
// cleanPNG keeps it.
func pngChunkHead(head [8]byte, first bool) (typ string, n uint32, keep bool, err error) {
	n = binary.BigEndian.Uint32(head[:4])
	typ = string(head[4:8])
	if n > 1<<31-1 {
		return "", 0, false, pngErr("chunk %q of %d bytes", typ, n)
	}
	for _, c := range head[4:8] {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return "", 0, false, pngErr("a chunk type of %q", typ)
		}
	}
	if first != (typ == "IHDR") {
		return "", 0, false, pngErr("IHDR is not first")
	}
	keep = pngKept[typ]
	if !keep && typ[0] >= 'A' && typ[0] <= 'Z' {
		return "", 0, false, pngErr("unknown critical chunk %q", typ)
	}
	return typ, n, keep, nil
}

// copyPNGChunk reads the n bytes of data and the CRC of the chunk whose
// head is head, checks the CRC, and copies the whole chunk to out when
// keep.
func copyPNGChunk(br *bufio.Reader, out *bufio.Writer, head [8]byte, n uint32, keep bool, buf []byte) error {
	crc := crc32.NewIEEE()
	crc.Write(head[4:8])
	var dst io.Writer = crc
	if keep {
		out.Write(head[:])
		dst = io.MultiWriter(out, crc)
	}
	if k, err := io.CopyBuffer(dst, io.LimitReader(br, int64(n)), buf); err != nil || k < int64(n) {
		return unexpected(cmp.Or(err, io.EOF))
	}
	var sum [4]byte
	if _, err := io.ReadFull(br, sum[:]); err != nil {
		return unexpected(err)
	}
	if binary.BigEndian.Uint32(sum[:]) != crc.Sum32() {
		return pngErr("chunk %q has a bad checksum", string(head[4:8]))
	}
	if keep {
		out.Write(sum[:])
	}
	return nil
}
