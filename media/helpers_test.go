package media

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"testing"
)

// gradient is a w×h picture whose colours change across it, with a red
// square at its top left corner (to see which way it was turned).
func gradient(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.Set(x, y, color.RGBA{uint8(x * 255 / w), uint8(y * 255 / h), 128, 255})
		}
	}
	for y := 0; y < h/4; y++ {
		for x := 0; x < w/4; x++ {
			m.Set(x, y, color.RGBA{255, 0, 0, 255})
		}
	}
	return m
}

func encodePNG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeJPEG(t testing.TB, m image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, m, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func encodeGIF(t testing.TB, frames ...*image.Paletted) []byte {
	t.Helper()
	var b bytes.Buffer
	g := &gif.GIF{Image: frames, Delay: make([]int, len(frames))}
	if err := gif.EncodeAll(&b, g); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// paletted is a w×h picture of four colours, the first transparent when
// clear is set.
func paletted(w, h int, clear bool) *image.Paletted {
	pal := color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 0, 0, 255}, color.RGBA{0, 255, 0, 255}, color.RGBA{255, 255, 255, 255}}
	if clear {
		pal[0] = color.RGBA{}
	}
	m := image.NewPaletted(image.Rect(0, 0, w, h), pal)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			m.SetColorIndex(x, y, uint8((x/8+y/8)%4))
		}
	}
	return m
}

// exifSegment is an APP1 EXIF segment (marker and all) with an
// orientation, a camera make and a GPS IFD holding a latitude.
func exifSegment(orientation int, make string) []byte {
	be := binary.BigEndian
	tiff := []byte("MM\x00*\x00\x00\x00\x08")
	// IFD0 at 8: three entries.
	ifd0 := 8
	makeAt := ifd0 + 2 + 3*12 + 4
	mk := append([]byte(make), 0)
	gpsAt := makeAt + len(mk)
	tiff = be.AppendUint16(tiff, 3)
	tiff = append(tiff, entry(0x010f, 2, uint32(len(mk)), uint32(makeAt))...)
	tiff = append(tiff, entry(0x0112, 3, 1, uint32(orientation)<<16)...)
	tiff = append(tiff, entry(0x8825, 4, 1, uint32(gpsAt))...)
	tiff = be.AppendUint32(tiff, 0)
	tiff = append(tiff, mk...)
	// GPS IFD: latitude reference "N", latitude as three rationals.
	latAt := gpsAt + 2 + 2*12 + 4
	tiff = be.AppendUint16(tiff, 2)
	tiff = append(tiff, entry(0x0001, 2, 2, 'N'<<24)...)
	tiff = append(tiff, entry(0x0002, 5, 3, uint32(latAt))...)
	tiff = be.AppendUint32(tiff, 0)
	for _, v := range []uint32{48, 1, 51, 1, 2999, 100} {
		tiff = be.AppendUint32(tiff, v)
	}
	payload := append([]byte("Exif\x00\x00"), tiff...)
	return append([]byte{0xff, 0xe1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
}

func entry(tag, typ uint16, count, value uint32) []byte {
	e := binary.BigEndian.AppendUint16(nil, tag)
	e = binary.BigEndian.AppendUint16(e, typ)
	e = binary.BigEndian.AppendUint32(e, count)
	return binary.BigEndian.AppendUint32(e, value)
}

// comSegment is a JPEG comment.
func comSegment(text string) []byte {
	return append([]byte{0xff, 0xfe, byte((len(text) + 2) >> 8), byte(len(text) + 2)}, text...)
}

// afterSOI puts segments right after a JPEG's start of image.
func afterSOI(jpg []byte, segs ...[]byte) []byte {
	out := append([]byte{}, jpg[:2]...)
	for _, s := range segs {
		out = append(out, s...)
	}
	return append(out, jpg[2:]...)
}

// pngChunk is a whole PNG chunk.
func pngChunk(typ string, data []byte) []byte {
	c := binary.BigEndian.AppendUint32(nil, uint32(len(data)))
	c = append(c, typ...)
	c = append(c, data...)
	return binary.BigEndian.AppendUint32(c, crc32.ChecksumIEEE(append([]byte(typ), data...)))
}

// afterIHDR puts chunks right after a PNG's IHDR.
func afterIHDR(p []byte, chunks ...[]byte) []byte {
	out := append([]byte{}, p[:33]...)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, p[33:]...)
}

// pngHeader is a PNG's signature and IHDR claiming w×h RGBA pixels of depth bits,
// interlaced,
// and nothing more.
func pngHeader(w, h uint32, depth byte) []byte {
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, 6, 0, 0, 1)
	return append(append([]byte{}, pngSignature...), pngChunk("IHDR", ihdr)...)
}
