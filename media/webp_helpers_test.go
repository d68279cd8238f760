package media

import (
	"encoding/binary"
	"image"
	"image/color"
)

// bits writes a VP8L bit stream: least significant bit first.
type bits struct {
	out  []byte
	acc  uint64
	nacc uint
}

func (b *bits) put(v uint64, n uint) {
	b.acc |= v << b.nacc
	b.nacc += n
	for b.nacc >= 8 {
		b.out = append(b.out, byte(b.acc))
		b.acc >>= 8
		b.nacc -= 8
	}
}

func (b *bits) bytes() []byte {
	if b.nacc > 0 {
		b.out = append(b.out, byte(b.acc))
		b.acc, b.nacc = 0, 0
	}
	return b.out
}

// simpleCode writes a prefix code of one or two 8-bit symbols (lo < hi):
// one symbol takes no bits a pixel, two take one (0 for lo).
func (b *bits) simpleCode(lo, hi uint8, two bool) {
	b.put(1, 1) // simple code
	if two {
		b.put(1, 1) // two symbols
	} else {
		b.put(0, 1)
	}
	b.put(1, 1) // the first symbol takes 8 bits
	b.put(uint64(lo), 8)
	if two {
		b.put(uint64(hi), 8)
	}
}

// vp8l is a lossless WebP bit stream (the VP8L chunk's data) of a w×h
// picture of four colours in 8×8 squares: red is r0 or r1, green g0 or
// g1, blue b, alpha a (alpha is used when a < 255).
func vp8l(w, h int, r0, r1, g0, g1, b, a uint8) []byte {
	var s bits
	s.put(0x2f, 8)
	s.put(uint64(w-1), 14)
	s.put(uint64(h-1), 14)
	if a < 255 {
		s.put(1, 1)
	} else {
		s.put(0, 1)
	}
	s.put(0, 3)                // version
	s.put(0, 1)                // no transform
	s.put(0, 1)                // no colour cache
	s.put(0, 1)                // no meta prefix codes
	s.simpleCode(g0, g1, true) // green (and lengths, cache: unused)
	s.simpleCode(r0, r1, true) // red
	s.simpleCode(b, 0, false)  // blue
	s.simpleCode(a, 0, false)  // alpha
	s.simpleCode(0, 0, false)  // distance
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			s.put(uint64(x/8%2), 1) // green
			s.put(uint64(y/8%2), 1) // red
		}
	}
	return s.bytes()
}

// vp8lPixels is the picture vp8l encodes.
func vp8lPixels(w, h int, r0, r1, g0, g1, b, a uint8) *image.NRGBA {
	m := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			c := color.NRGBA{r0, g0, b, a}
			if x/8%2 == 1 {
				c.G = g1
			}
			if y/8%2 == 1 {
				c.R = r1
			}
			m.SetNRGBA(x, y, c)
		}
	}
	return m
}

// riffChunk is a whole RIFF chunk, padded to an even size.
func riffChunk(id string, data []byte) []byte {
	c := append([]byte(id), binary.LittleEndian.AppendUint32(nil, uint32(len(data)))...)
	c = append(c, data...)
	if len(data)%2 == 1 {
		c = append(c, 0)
	}
	return c
}

// webpFile wraps chunks in a RIFF WEBP header.
func webpFile(chunks ...[]byte) []byte {
	var body []byte
	for _, c := range chunks {
		body = append(body, c...)
	}
	f := append([]byte("RIFF"), binary.LittleEndian.AppendUint32(nil, uint32(4+len(body)))...)
	f = append(f, "WEBP"...)
	return append(f, body...)
}

// vp8x is a VP8X chunk with flags and a canvas of w×h.
func vp8x(flags byte, w, h int) []byte {
	d := []byte{flags, 0, 0, 0,
		byte(w - 1), byte((w - 1) >> 8), byte((w - 1) >> 16),
		byte(h - 1), byte((h - 1) >> 8), byte((h - 1) >> 16)}
	return riffChunk("VP8X", d)
}
