package media

import (
	"bytes"
	"context"
	"image"
	"io"
	"math/rand/v2"
	"testing"
)

// photo is a w×h picture with a photo's fine detail: a gradient with
// noise, which JPEG compresses about as much as a camera's picture.
func photo(w, h int) *image.RGBA {
	m := image.NewRGBA(image.Rect(0, 0, w, h))
	rng := rand.New(rand.NewPCG(1, 2))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := m.PixOffset(x, y)
			n := uint8(rng.IntN(32))
			m.Pix[i+0] = uint8(x*200/w) + n
			m.Pix[i+1] = uint8(y*200/h) + n
			m.Pix[i+2] = 100 + n
			m.Pix[i+3] = 255
		}
	}
	return m
}

// BenchmarkPreview makes the preview of a 4000×3000 JPEG (a 12-megapixel
// phone photo) in a box of 800.
func BenchmarkPreview(b *testing.B) {
	raw := encodeJPEG(b, photo(4000, 3000))
	b.Logf("the JPEG: %d bytes", len(raw))
	p := NewPictures(1, 50_000_000)
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, _, w, h, err := p.Preview(context.Background(), bytes.NewReader(raw), 800); err != nil || w != 800 || h != 600 {
			b.Fatal(w, h, err)
		}
	}
}

// BenchmarkClean copies the same JPEG without its metadata.
func BenchmarkClean(b *testing.B) {
	raw := afterSOI(encodeJPEG(b, photo(4000, 3000)), exifSegment(6, "SecretCam"))
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if err := Clean(JPEG, bytes.NewReader(raw), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
