package media

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

var errWebP = fmt.Errorf("%w: malformed WebP", ErrNotPicture)

func webpErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errWebP}, args...)...)
}

// VP8X flags.
const (
	vp8xAnimation = 1 << 1
	vp8xXMP       = 1 << 2
	vp8xEXIF      = 1 << 3
)

// webpKept are the chunks a cleaned WebP keeps; EXIF, XMP and unknown
// chunks go.
var webpKept = map[string]bool{
	"VP8X": true, "ICCP": true, "ANIM": true, "ANMF": true,
	"ALPH": true, "VP8 ": true, "VP8L": true,
}

type webpChunk struct {
	id   string
	size int64 // without the pad byte
}

// webpChunks reads the RIFF header and the chunks' headers of a WebP,
// skipping their data. It needs to seek, to know the cleaned file's size
// before copying it.
func webpChunks(r io.ReadSeeker) ([]webpChunk, error) {
	start, err := r.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, err
	}
	end, err := r.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, err
	}
	if _, err := r.Seek(start, io.SeekStart); err != nil {
		return nil, err
	}
	var head [12]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return nil, unexpected(err)
	}
	if string(head[:4]) != "RIFF" || string(head[8:]) != "WEBP" {
		return nil, webpErr("no RIFF WEBP header")
	}
	riff := int64(binary.LittleEndian.Uint32(head[4:8]))
	if riff%2 != 0 || riff < 4+8 {
		return nil, webpErr("RIFF size %d", riff)
	}
	if start+8+riff > end {
		return nil, io.ErrUnexpectedEOF
	}
	var chunks []webpChunk
	for left := riff - 4; left > 0; {
		var ch [8]byte
		if left < 8 {
			return nil, webpErr("a chunk header past the RIFF size")
		}
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, unexpected(err)
		}
		c := webpChunk{string(ch[:4]), int64(binary.LittleEndian.Uint32(ch[4:]))}
		padded := c.size + c.size&1
		if 8+padded > left {
			return nil, webpErr("chunk %q past the RIFF size", c.id)
		}
		if _, err := r.Seek(padded, io.SeekCurrent); err != nil {
			return nil, err
		}
		left -= 8 + padded
		chunks = append(chunks, c)
		if len(chunks) > 1<<16 {
			return nil, webpErr("too many chunks")
		}
	}
	if len(chunks) == 0 {
		return nil, webpErr("no chunks")
	}
	return chunks, nil
}

// cleanWebP copies the chunks webpKept names, with the RIFF size made to
// fit and the EXIF and XMP flags of VP8X cleared. r is read twice (its
// chunks' headers, then the copy) when it can seek; otherwise it is held
// in memory whole, which the caller bounds.
func cleanWebP(r io.Reader, w io.Writer) error {
	rs, err := seekable(r)
	if err != nil {
		return err
	}
	start, err := rs.Seek(0, io.SeekCurrent)
	if err != nil {
		return err
	}
	chunks, err := webpChunks(rs)
	if err != nil {
		return err
	}
	if _, err := rs.Seek(start, io.SeekStart); err != nil {
		return err
	}
	size, err := webpKeptSize(chunks)
	if err != nil {
		return err
	}
	br := bufio.NewReaderSize(rs, 64<<10)
	out := bufio.NewWriterSize(w, 64<<10)
	if _, err := br.Discard(12); err != nil {
		return unexpected(err)
	}
	var head [12]byte
	copy(head[:], "RIFF")
	binary.LittleEndian.PutUint32(head[4:], uint32(size))
	copy(head[8:], "WEBP")
	out.Write(head[:])
	if err := copyWebPChunks(br, out, chunks); err != nil {
		return err
	}
	return out.Flush()
}

// seekable is r when it can seek (from where it is); otherwise a reader
// of all of r, read into memory.
func seekable(r io.Reader) (io.ReadSeeker, error) {
	if rs, ok := r.(io.ReadSeeker); ok {
		if _, err := rs.Seek(0, io.SeekCurrent); err == nil {
			return rs, nil
		}
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	return bytes.NewReader(data), nil
}

// webpKeptSize is the RIFF size of the copy that keeps webpKept's chunks
// of chunks; a VP8X chunk other than a first one of 10 bytes, or no
// picture chunk, is a malformed WebP.
func webpKeptSize(chunks []webpChunk) (int64, error) {
	size := int64(4)
	picture := false
	for i, c := range chunks {
		if c.id == "VP8X" && (i != 0 || c.size != 10) {
			return 0, webpErr("a VP8X chunk out of place")
		}
		picture = picture || c.id == "VP8 " || c.id == "VP8L" || c.id == "ANMF"
		if webpKept[c.id] {
			size += 8 + c.size + c.size&1
		}
	}
	if !picture {
		return 0, webpErr("no picture in it")
	}
	return size, nil
}

// copyWebPChunks copies chunks from br, which is at the first of them,
// to out: those webpKept names, VP8X with its EXIF and XMP flags cleared;
// the others are skipped.
func copyWebPChunks(br *bufio.Reader, out *bufio.Writer, chunks []webpChunk) error {
	for _, c := range chunks {
		var ch [8]byte
		if _, err := io.ReadFull(br, ch[:]); err != nil {
			return unexpected(err)
		}
		padded := c.size + c.size&1
		if !webpKept[c.id] {
			if _, err := br.Discard(int(padded)); err != nil {
				return unexpected(err)
			}
			continue
		}
		out.Write(ch[:])
		if c.id == "VP8X" {
			var x [10]byte
			if _, err := io.ReadFull(br, x[:]); err != nil {
				return unexpected(err)
			}
			x[0] &^= vp8xEXIF | vp8xXMP
			out.Write(x[:])
			continue
		}
		if err := copyN(out, br, padded); err != nil {
			return err
		}
	}
	return nil
}
