package media

import (
	"bytes"
	"image"
	"image/color"
	"image/gif"
	"testing"
)

// A fixture is a picture made in the test, with metadata of every kind
// the type has: a GPS position, a camera's make, and text saying
// "secret".
type fixture struct {
	name  string
	typ   string
	raw   []byte
	w, h  int // as seen (after orientation)
	clear bool
}

// secrets are what must not survive Clean or Preview.
var secrets = []string{"secret", "SecretCam", "xmpmeta"}

// gpsIFD are bytes of the GPS IFD exifSegment writes: two entries, the
// latitude's reference "N".
var gpsIFD = []byte{0, 2, 0, 1, 0, 2, 0, 0, 0, 2, 'N', 0}

func fixtures(t testing.TB) []fixture { return sizedFixtures(t, 640, 480) }

// sizedFixtures are the fixtures of a w×h picture (w, h multiples of 16;
// the GIF is half that, the WebP 3/16).
func sizedFixtures(t testing.TB, w, h int) []fixture {
	t.Helper()
	exif := exifSegment(6, "SecretCam")
	xmp := append([]byte{0xff, 0xe1, 0, 0}, "http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta>secret</x:xmpmeta>"...)
	xmp[2], xmp[3] = byte((len(xmp)-2)>>8), byte(len(xmp)-2)
	icc := append([]byte{0xff, 0xe2, 0, 0}, "ICC_PROFILE\x00\x01\x01not a real profile"...)
	icc[2], icc[3] = byte((len(icc)-2)>>8), byte(len(icc)-2)
	jpg := afterSOI(encodeJPEG(t, gradient(w, h)), exif, icc, xmp, comSegment("secret comment"))

	pngRaw := afterIHDR(encodePNG(t, gradient(w, h)),
		pngChunk("gAMA", []byte{0, 0, 0xb1, 0x8f}),
		pngChunk("tEXt", []byte("Comment\x00secret")),
		pngChunk("iTXt", []byte("XML:com.adobe.xmp\x00\x00\x00\x00\x00<x:xmpmeta>secret</x:xmpmeta>")),
		pngChunk("tIME", []byte{0x07, 0xea, 12, 2, 17, 0, 0}),
		pngChunk("eXIf", exif[10:]),
		pngChunk("prVt", []byte("SecretCam")))

	// A GIF of two frames, looping, with a comment and an XMP
	// application extension after its colour table.
	blue, red := solid(w/2, h/2, 0), solid(w/2, h/2, 1)
	var g bytes.Buffer
	if err := gif.EncodeAll(&g, &gif.GIF{Image: []*image.Paletted{blue, red}, Delay: []int{10, 10}, LoopCount: 3}); err != nil {
		t.Fatal(err)
	}
	gifRaw := g.Bytes()
	at := 13
	if gifRaw[10]&0x80 != 0 {
		at += 3 << (gifRaw[10]&7 + 1)
	}
	ext := []byte{0x21, 0xfe, 14}
	ext = append(ext, "secret comment"...)
	ext = append(ext, 0, 0x21, 0xff, 11)
	ext = append(ext, "XMP DataXMP"...)
	ext = append(ext, 17)
	ext = append(ext, "<x:xmpmeta>secret"...)
	ext = append(ext, 0)
	gifRaw = append(append(append([]byte{}, gifRaw[:at]...), ext...), gifRaw[at:]...)

	webpRaw := webpFile(
		vp8x(vp8xEXIF|vp8xXMP|0x10, w*3/16, h*3/16),
		riffChunk("VP8L", vp8l(w*3/16, h*3/16, 10, 200, 30, 220, 77, 128)),
		riffChunk("EXIF", exif[10:]),
		riffChunk("XMP ", []byte("<x:xmpmeta>secret</x:xmpmeta>!")))

	return []fixture{
		{"png", PNG, pngRaw, w, h, false},
		{"jpeg", JPEG, jpg, h, w, false},
		{"gif", GIF, gifRaw, w / 2, h / 2, false},
		{"webp", WebP, webpRaw, w * 3 / 16, h * 3 / 16, true},
	}
}

// solid is a w×h paletted picture of one colour of a palette of two,
// blue (0) and red (1).
func solid(w, h int, i uint8) *image.Paletted {
	m := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.RGBA{0, 0, 255, 255}, color.RGBA{255, 0, 0, 255}})
	for k := range m.Pix {
		m.Pix[k] = i
	}
	return m
}
