package media

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"io"
	"testing"
)

func seeds(f *testing.F) {
	for _, fx := range sizedFixtures(f, 48, 36) { // small: fast to run
		f.Add(fx.raw)
		f.Add(fx.raw[:len(fx.raw)/2])
	}
	f.Add(pngHeader(50_000, 50_000, 8))
	f.Add(encodeGIF(f, paletted(20, 10, true)))
	f.Add(webpFile(riffChunk("VP8L", vp8l(9, 7, 1, 2, 3, 4, 5, 255))))
	f.Add([]byte("\x89PNG\r\n\x1a\n<html>"))
}

// FuzzClean: whatever Clean copies is a picture of the same header,
// without metadata, that Clean copies again unchanged.
func FuzzClean(f *testing.F) {
	seeds(f)
	p := NewPictures(1, 1<<30)
	f.Fuzz(func(t *testing.T, data []byte) {
		typ := Sniff(data)
		var out bytes.Buffer
		err := Clean(typ, bytes.NewReader(data), &out)
		if !IsPicture(typ) {
			if !errors.Is(err, ErrNotPicture) {
				t.Fatalf("Clean of %s: %v", typ, err)
			}
			return
		}
		if err != nil {
			return
		}
		// At most a minimal EXIF (36 bytes) for a shorter one (10).
		if out.Len() > len(data)+26 {
			t.Fatalf("the copy grew from %d to %d bytes", len(data), out.Len())
		}
		assertNoMetadata(t, typ, out.Bytes())
		var again bytes.Buffer
		if err := Clean(typ, bytes.NewReader(out.Bytes()), &again); err != nil || !bytes.Equal(again.Bytes(), out.Bytes()) {
			t.Fatalf("cleaning the copy: %v, the same: %v", err, bytes.Equal(again.Bytes(), out.Bytes()))
		}
		if t1, w1, h1, err := p.Info(bytes.NewReader(data)); err == nil {
			t2, w2, h2, err := p.Info(bytes.NewReader(out.Bytes()))
			if err != nil || t1 != t2 || w1 != w2 || h1 != h2 {
				t.Fatalf("Info: %s %d×%d, of the copy %s %d×%d %v", t1, w1, h1, t2, w2, h2, err)
			}
		}
	})
}

// assertNoMetadata walks a cleaned picture whole and fails on any part
// that holds metadata.
func assertNoMetadata(t *testing.T, typ string, data []byte) {
	t.Helper()
	switch typ {
	case JPEG:
		j := jpegReader{br: bufio.NewReader(bytes.NewReader(data))}
		if err := j.start(); err != nil {
			t.Fatal(err)
		}
		for {
			m, err := j.next()
			if err != nil {
				t.Fatalf("the copy: %v", err)
			}
			if m == mEOI {
				return
			}
			if !hasSegment(m) {
				continue
			}
			seg, err := j.segment(nil)
			if err != nil {
				t.Fatalf("the copy: %v", err)
			}
			whole := append([]byte{0xff, m, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
			o, _ := exifOrientation(seg)
			switch {
			case m == mAPP1 && o != 1 && bytes.Equal(whole, orientationSegment(o)):
			case m == mAPP0 && bytes.HasPrefix(seg, []byte("JFIF\x00")),
				m == mAPP2 && bytes.HasPrefix(seg, []byte("ICC_PROFILE\x00")),
				m == mAPP14 && bytes.HasPrefix(seg, []byte("Adobe")):
			case m >= mAPP0 && m <= 0xef, m == mCOM:
				t.Fatalf("segment 0x%02x %q is left", m, seg)
			}
			if m == mSOS {
				if err := j.scan(nil); err != nil {
					t.Fatal(err)
				}
			}
		}
	case PNG:
		for i := 8; i < len(data); {
			n := int(binary.BigEndian.Uint32(data[i:]))
			if c := string(data[i+4 : i+8]); !pngKept[c] {
				t.Fatalf("chunk %q is left", c)
			}
			i += 12 + n
		}
	case WebP:
		if size := binary.LittleEndian.Uint32(data[4:]); int(size) != len(data)-8 {
			t.Fatalf("RIFF size %d of a file of %d", size, len(data))
		}
		for i := 12; i < len(data); {
			n := int(binary.LittleEndian.Uint32(data[i+4:]))
			id := string(data[i : i+4])
			if !webpKept[id] {
				t.Fatalf("chunk %q is left", id)
			}
			if id == "VP8X" && data[i+8]&(vp8xEXIF|vp8xXMP) != 0 {
				t.Fatalf("VP8X flags %08b", data[i+8])
			}
			i += 8 + n + n%2
		}
	case GIF:
		var exts []string
		walkGIFExtensions(t, data, &exts)
		for _, e := range exts {
			if e != "f9" && e != "01" && e != "ff NETSCAPE2.0" {
				t.Fatalf("extension %s is left", e)
			}
		}
	}
}

// walkGIFExtensions lists a GIF's extensions: their label in hex, and an
// application's name.
func walkGIFExtensions(t *testing.T, data []byte, exts *[]string) {
	t.Helper()
	i := 13
	if data[10]&0x80 != 0 {
		i += 3 << (data[10]&7 + 1)
	}
	blocks := func() {
		for data[i] != 0 {
			i += 1 + int(data[i])
		}
		i++
	}
	for data[i] != 0x3b {
		switch data[i] {
		case 0x21:
			label := data[i+1]
			i += 2
			name := ""
			if label == 0xff {
				name = " " + string(data[i+1:i+1+int(data[i])])
			}
			*exts = append(*exts, hex2(label)+name)
			blocks()
		case 0x2c:
			flags := data[i+9]
			i += 10
			if flags&0x80 != 0 {
				i += 3 << (flags&7 + 1)
			}
			i++ // LZW code size
			blocks()
		default:
			t.Fatalf("block 0x%02x in the copy", data[i])
		}
	}
}

func hex2(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

// FuzzInfo: Info says what Sniff says, within the bound; a Preview made
// is of a picture Info takes, fits its box and decodes.
func FuzzInfo(f *testing.F) {
	seeds(f)
	const maxPixels = 1 << 20
	p := NewPictures(1, maxPixels)
	f.Fuzz(func(t *testing.T, data []byte) {
		typ, w, h, infoErr := p.Info(bytes.NewReader(data))
		if infoErr == nil {
			if typ != Sniff(data) || !IsPicture(typ) || w < 1 || h < 1 || int64(w)*int64(h) > maxPixels {
				t.Fatalf("Info: %s %d×%d of bytes Sniff says are %s", typ, w, h, Sniff(data))
			}
		} else if !errors.Is(infoErr, ErrNotPicture) && !errors.Is(infoErr, ErrTooManyPixels) {
			t.Fatalf("Info: %v", infoErr)
		}
		out, ptyp, pw, ph, err := p.Preview(context.Background(), bytes.NewReader(data), 64)
		if err != nil {
			return
		}
		if infoErr != nil {
			t.Fatalf("Preview of a picture Info refused (%v)", infoErr)
		}
		if ww, hh := fit(w, h, 64); pw != ww || ph != hh {
			t.Fatalf("preview %d×%d of %d×%d, want %d×%d", pw, ph, w, h, ww, hh)
		}
		m, format, err := image.Decode(bytes.NewReader(out))
		if err != nil || "image/"+format != ptyp || m.Bounds().Dx() != pw || m.Bounds().Dy() != ph {
			t.Fatalf("the preview: %v %s %v", err, format, m.Bounds())
		}
		_ = io.Discard
	})
}
