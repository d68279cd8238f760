package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"strings"
	"testing"

	"golang.org/x/image/webp"
)

func TestSniff(t *testing.T) {
	for _, f := range fixtures(t) {
		if got := Sniff(f.raw); got != f.typ {
			t.Errorf("%s: Sniff = %q, want %q", f.name, got, f.typ)
		}
		if !IsPicture(f.typ) {
			t.Errorf("IsPicture(%q) = false", f.typ)
		}
	}
	for _, tc := range []struct {
		name, head, want string
	}{
		{"text", "Hello, world.\n", "text/plain; charset=utf-8"},
		{"pdf", "%PDF-1.7\n", "application/pdf"},
		{"zip", "PK\x03\x04\x14\x00\x00\x00", "application/zip"},
		{"polyglot PNG signature", "\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", PNG},
	} {
		if got := Sniff([]byte(tc.head)); got != tc.want {
			t.Errorf("%s: Sniff = %q, want %q", tc.name, got, tc.want)
		}
	}
	for _, typ := range []string{"text/plain", "image/svg+xml", "text/html", "application/pdf", "image/bmp", ""} {
		if IsPicture(typ) {
			t.Errorf("IsPicture(%q) = true", typ)
		}
	}
}

// Markup of any kind is never text/html, image/svg+xml nor XML, nor text
// a browser could take for markup: it is Opaque.
func TestSniffMarkupIsOpaque(t *testing.T) {
	for name, head := range map[string]string{
		"svg":             `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`,
		"svg after space": "\n\n   <svg onload=alert(1)>",
		"xml svg":         `<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>`,
		"html":            "<!DOCTYPE html><html><body>hi</body></html>",
		"html upper":      "<HTML><SCRIPT>alert(1)</SCRIPT>",
		"script":          "<script>alert(1)</script>",
		"bom html":        "\xef\xbb\xbf<html>",
		"utf-16 html":     "\xff\xfe<\x00h\x00t\x00m\x00l\x00>\x00",
		"xhtml":           `<html xmlns="http://www.w3.org/1999/xhtml"></html>`,
		"unknown tag":     "<x-widget onclick=alert(1)>",
		"comment":         "<!-- hi --><img src=x onerror=alert(1)>",
	} {
		got := Sniff([]byte(head))
		if got != Opaque {
			t.Errorf("%s: Sniff = %q, want %q", name, got, Opaque)
		}
	}
}

func TestInfo(t *testing.T) {
	p := NewPictures(2, 10_000_000)
	for _, f := range fixtures(t) {
		typ, w, h, err := p.Info(bytes.NewReader(f.raw))
		if err != nil || typ != f.typ || w != f.w || h != f.h {
			t.Errorf("%s: Info = %q %d×%d %v, want %q %d×%d", f.name, typ, w, h, err, f.typ, f.w, f.h)
		}
	}
	t.Run("JPEG without orientation", func(t *testing.T) {
		raw := afterSOI(encodeJPEG(t, gradient(64, 32)), exifSegment(1, "x"))
		if _, w, h, err := p.Info(bytes.NewReader(raw)); err != nil || w != 64 || h != 32 {
			t.Errorf("Info = %d×%d %v, want 64×32", w, h, err)
		}
	})
	t.Run("animated WebP", func(t *testing.T) {
		raw := webpFile(vp8x(vp8xAnimation, 16, 16), riffChunk("ANIM", make([]byte, 6)))
		if _, _, _, err := p.Info(bytes.NewReader(raw)); !errors.Is(err, ErrNotPicture) {
			t.Errorf("Info: %v, want ErrNotPicture", err)
		}
	})
	t.Run("not a picture", func(t *testing.T) {
		for _, raw := range []string{"", "hello", "%PDF-1.7", "<svg/>", "GIF89a"} {
			if _, _, _, err := p.Info(strings.NewReader(raw)); !errors.Is(err, ErrNotPicture) {
				t.Errorf("Info(%q): %v, want ErrNotPicture", raw, err)
			}
		}
	})
}

func TestPreview(t *testing.T) {
	p := NewPictures(2, 10_000_000)
	for _, f := range fixtures(t) {
		for _, box := range []int{100, 1000} {
			data, typ, w, h, err := p.Preview(context.Background(), bytes.NewReader(f.raw), box)
			if err != nil {
				t.Fatalf("%s in %d: %v", f.name, box, err)
			}
			if box >= max(f.w, f.h) && (w != f.w || h != f.h) {
				t.Errorf("%s in %d: %d×%d, want %d×%d (never scaled up)", f.name, box, w, h, f.w, f.h)
			}
			if w > box || h > box || max(w, h) != min(box, max(f.w, f.h)) {
				t.Errorf("%s in %d: %d×%d does not fit the box", f.name, box, w, h)
			}
			if d := w*f.h - h*f.w; d > max(f.w, f.h) || -d > max(f.w, f.h) {
				t.Errorf("%s in %d: %d×%d, not the shape of %d×%d", f.name, box, w, h, f.w, f.h)
			}
			if want := map[bool]string{false: JPEG, true: PNG}[f.clear]; typ != want {
				t.Errorf("%s: preview is %s, want %s", f.name, typ, want)
			}
			m, format, err := image.Decode(bytes.NewReader(data))
			if err != nil || "image/"+format != typ || m.Bounds().Dx() != w || m.Bounds().Dy() != h {
				t.Fatalf("%s: the preview decodes as %s %v, %v; want %s %d×%d", f.name, format, m.Bounds(), err, typ, w, h)
			}
			noMetadata(t, f.name+" preview", typ, data, false)
			// The red corner: top left as stored, so top right after a
			// quarter turn clockwise (orientation 6).
			switch f.name {
			case "png":
				isRed(t, f.name, m, 0, 0, true)
			case "jpeg":
				isRed(t, f.name, m, w-1, 0, true)
				isRed(t, f.name, m, 0, 0, false)
			case "gif": // the first frame, blue, not the second, red
				isRed(t, f.name, m, w/2, h/2, false)
				if r, g, b, _ := m.At(w/2, h/2).RGBA(); b>>8 < 240 || r>>8 > 15 || g>>8 > 15 {
					t.Errorf("gif: the preview is %v, want the first frame's blue", m.At(w/2, h/2))
				}
			}
		}
	}
}

// isRed checks whether a picture is red at x, y.
func isRed(t *testing.T, name string, m image.Image, x, y int, want bool) {
	t.Helper()
	r, g, b, _ := m.At(x, y).RGBA()
	red := r>>8 > 200 && g>>8 < 60 && b>>8 < 60
	if red != want {
		t.Errorf("%s: at %d,%d %v; red %v, want %v", name, x, y, m.At(x, y), red, want)
	}
}

// The average of a region is what a preview shows of it: a picture of
// fine black and white stripes shrinks to grey, not to one of them.
func TestPreviewAverages(t *testing.T) {
	m := image.NewGray(image.Rect(0, 0, 900, 300))
	for y := 0; y < 300; y++ {
		for x := 0; x < 900; x++ {
			if x%2 == 0 {
				m.SetGray(x, y, color.Gray{255})
			}
		}
	}
	data, _, w, h, err := NewPictures(1, 1e6).Preview(context.Background(), bytes.NewReader(encodePNG(t, m)), 70)
	if err != nil || w != 70 || h != 23 {
		t.Fatalf("Preview: %d×%d %v", w, h, err)
	}
	out, err := jpeg.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for x := 0; x < w; x++ {
		if g := color.GrayModel.Convert(out.At(x, h/2)).(color.Gray).Y; g < 115 || g > 140 {
			t.Fatalf("at %d: grey %d, want about 128", x, g)
		}
	}
}

// noMetadata checks a picture for the secrets, and for any chunk or
// segment that holds metadata; kept allows one EXIF segment of the
// orientation alone.
func noMetadata(t *testing.T, name, typ string, data []byte, kept bool) {
	t.Helper()
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%s: %q is left", name, s)
		}
	}
	if bytes.Contains(data, gpsIFD) {
		t.Errorf("%s: the GPS position is left", name)
	}
	switch typ {
	case JPEG:
		for _, s := range jpegSegments(t, data) {
			switch {
			case s.marker == mAPP1 && kept && bytes.Equal(s.whole, orientationSegment(6)):
			case s.marker == mCOM, s.marker >= 0xe1 && s.marker <= 0xef && s.marker != mAPP2 && s.marker != mAPP14:
				t.Errorf("%s: segment 0x%02x is left", name, s.marker)
			}
		}
	case PNG:
		for _, c := range pngChunks(t, data) {
			if !pngKept[c] {
				t.Errorf("%s: chunk %q is left", name, c)
			}
		}
	case WebP:
		for _, c := range webpIDs(t, data) {
			if !webpKept[c] {
				t.Errorf("%s: chunk %q is left", name, c)
			}
		}
	}
}

type jpegSegment struct {
	marker byte
	whole  []byte
}

// jpegSegments lists a JPEG's segments before its first scan.
func jpegSegments(t *testing.T, data []byte) []jpegSegment {
	t.Helper()
	var segs []jpegSegment
	for i := 2; i+4 <= len(data); {
		if data[i] != 0xff {
			t.Fatalf("no marker at %d", i)
		}
		m := data[i+1]
		n := int(binary.BigEndian.Uint16(data[i+2:]))
		segs = append(segs, jpegSegment{m, data[i : i+2+n]})
		if m == mSOS {
			break
		}
		i += 2 + n
	}
	return segs
}

// pngChunks lists a PNG's chunk types.
func pngChunks(t *testing.T, data []byte) []string {
	t.Helper()
	var types []string
	for i := 8; i+8 <= len(data); {
		n := int(binary.BigEndian.Uint32(data[i:]))
		types = append(types, string(data[i+4:i+8]))
		i += 12 + n
	}
	return types
}

// webpIDs lists a WebP's chunks.
func webpIDs(t *testing.T, data []byte) []string {
	t.Helper()
	var ids []string
	for i := 12; i+8 <= len(data); {
		n := int(binary.LittleEndian.Uint32(data[i+4:]))
		ids = append(ids, string(data[i:i+4]))
		i += 8 + n + n%2
	}
	return ids
}

func TestClean(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			// The fixture has what Clean must take away.
			if !bytes.Contains(f.raw, []byte("secret")) || f.typ != GIF && !bytes.Contains(f.raw, gpsIFD) {
				t.Fatal("the fixture lacks its secrets")
			}
			var out bytes.Buffer
			if err := Clean(f.typ, bytes.NewReader(f.raw), &out); err != nil {
				t.Fatal(err)
			}
			noMetadata(t, f.name, f.typ, out.Bytes(), true)
			samePixels(t, f.typ, f.raw, out.Bytes())
			switch f.typ {
			case JPEG:
				var app1, app2 int
				for _, s := range jpegSegments(t, out.Bytes()) {
					switch s.marker {
					case mAPP1:
						app1++
						if !bytes.Equal(s.whole, orientationSegment(6)) {
							t.Errorf("APP1 is %q, want the orientation alone", s.whole)
						}
					case mAPP2:
						app2++
					}
				}
				if app1 != 1 || app2 != 1 {
					t.Errorf("%d EXIF and %d ICC segments, want 1 and 1", app1, app2)
				}
				p := NewPictures(1, 1e7)
				if _, w, h, err := p.Info(bytes.NewReader(out.Bytes())); err != nil || w != f.w || h != f.h {
					t.Errorf("the copy's Info: %d×%d %v, want %d×%d (still upright)", w, h, err, f.w, f.h)
				}
			case PNG:
				if !bytes.Contains(out.Bytes(), []byte("gAMA")) {
					t.Error("gAMA is gone: it says how to show the pixels")
				}
			case GIF:
				g, err := gif.DecodeAll(bytes.NewReader(out.Bytes()))
				if err != nil || g.LoopCount != 3 || len(g.Image) != 2 {
					t.Errorf("the copy: %v, loops %d, %d frames; want 3 loops of 2 frames", err, g.LoopCount, len(g.Image))
				}
			case WebP:
				b := out.Bytes()
				if size := binary.LittleEndian.Uint32(b[4:]); int(size) != len(b)-8 {
					t.Errorf("RIFF size %d, file of %d bytes", size, len(b))
				}
				if flags := b[20]; flags&(vp8xEXIF|vp8xXMP) != 0 || flags&0x10 == 0 {
					t.Errorf("VP8X flags %08b: want alpha, no EXIF nor XMP", flags)
				}
				// A reader that cannot seek: the same copy.
				var again bytes.Buffer
				if err := Clean(f.typ, struct{ io.Reader }{bytes.NewReader(f.raw)}, &again); err != nil || !bytes.Equal(again.Bytes(), b) {
					t.Errorf("from a reader that cannot seek: %v, same %v", err, bytes.Equal(again.Bytes(), b))
				}
			}
		})
	}
	t.Run("JPEG upright", func(t *testing.T) {
		raw := afterSOI(encodeJPEG(t, gradient(64, 32)), exifSegment(1, "SecretCam"))
		var out bytes.Buffer
		if err := Clean(JPEG, bytes.NewReader(raw), &out); err != nil {
			t.Fatal(err)
		}
		for _, s := range jpegSegments(t, out.Bytes()) {
			if s.marker == mAPP1 {
				t.Errorf("an EXIF segment is left for orientation 1: %q", s.whole)
			}
		}
	})
	t.Run("wrong type", func(t *testing.T) {
		fs := fixtures(t)
		for i, f := range fs {
			other := fs[(i+1)%len(fs)].typ
			if err := Clean(other, bytes.NewReader(f.raw), io.Discard); !errors.Is(err, ErrNotPicture) {
				t.Errorf("%s as %s: %v, want ErrNotPicture", f.name, other, err)
			}
		}
		if err := Clean("text/plain", strings.NewReader("hi"), io.Discard); !errors.Is(err, ErrNotPicture) {
			t.Errorf("text: %v, want ErrNotPicture", err)
		}
	})
	t.Run("PNG with a bad checksum", func(t *testing.T) {
		raw := encodePNG(t, gradient(16, 16))
		raw[len(raw)-20]++ // in the IDAT chunk
		if err := Clean(PNG, bytes.NewReader(raw), io.Discard); !errors.Is(err, ErrNotPicture) {
			t.Errorf("Clean: %v, want ErrNotPicture", err)
		}
	})
}

// samePixels checks that two pictures decode to the same pixels (for a
// GIF, every frame).
func samePixels(t *testing.T, typ string, a, b []byte) {
	t.Helper()
	dec := func(raw []byte) []image.Image {
		var m image.Image
		var err error
		switch typ {
		case GIF:
			g, err := gif.DecodeAll(bytes.NewReader(raw))
			if err != nil {
				t.Fatal(err)
			}
			var ms []image.Image
			for _, f := range g.Image {
				ms = append(ms, f)
			}
			return ms
		case PNG:
			m, err = png.Decode(bytes.NewReader(raw))
		case JPEG:
			m, err = jpeg.Decode(bytes.NewReader(raw))
		case WebP:
			m, err = webp.Decode(bytes.NewReader(raw))
		}
		if err != nil {
			t.Fatal(err)
		}
		return []image.Image{m}
	}
	ma, mb := dec(a), dec(b)
	if len(ma) != len(mb) {
		t.Fatalf("%d frames, then %d", len(ma), len(mb))
	}
	for i := range ma {
		if ma[i].Bounds() != mb[i].Bounds() {
			t.Fatalf("frame %d: %v, then %v", i, ma[i].Bounds(), mb[i].Bounds())
		}
		r := ma[i].Bounds()
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if ma[i].At(x, y) != mb[i].At(x, y) {
					t.Fatalf("frame %d at %d,%d: %v, then %v", i, x, y, ma[i].At(x, y), mb[i].At(x, y))
				}
			}
		}
	}
}
