package media

import (
	"image"
	"image/draw"
)

// fit is the size of a w×h picture scaled to fit in box×box, never up.
func fit(w, h, box int) (int, int) {
	if w <= box && h <= box {
		return w, h
	}
	if w >= h {
		return box, max(1, int((int64(h)*int64(box)+int64(w)/2)/int64(w)))
	}
	return max(1, int((int64(w)*int64(box)+int64(h)/2)/int64(h))), box
}

// span is where a source pixel falls among the destination's: at most two
// of them (the destination is never larger), i and i+1, by weights that
// add up to the source pixel's share of one destination pixel.
type span struct {
	i      int
	w0, w1 float32
}

// spans maps n source pixels onto m ≤ n destination pixels. In units of
// 1/n of a destination pixel, source pixel x covers [x·m, (x+1)·m) and
// destination pixel i covers [i·n, (i+1)·n).
func spans(n, m int) []span {
	s := make([]span, n)
	for x := range s {
		lo, hi := int64(x)*int64(m), int64(x+1)*int64(m)
		i := lo / int64(n)
		edge := (i + 1) * int64(n)
		if hi <= edge {
			s[x] = span{int(i), float32(hi-lo) / float32(n), 0}
		} else {
			s[x] = span{int(i), float32(edge-lo) / float32(n), float32(hi-edge) / float32(n)}
		}
	}
	return s
}

// shrink scales the canvas c, on which src lies (transparent where it
// does not), down to dw×dh by averaging the area each destination pixel
// covers (a box filter of the exact size, which does not alias however
// large the reduction). It goes over c a row at a time: beyond the
// result, it takes a row of c and two rows of sums.
func shrink(src image.Image, c image.Rectangle, dw, dh int) *image.RGBA {
	sw, sh := c.Dx(), c.Dy()
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	xs, ys := spans(sw, dw), spans(sh, dh)
	rows := newCanvasRows(src, c)
	row := image.NewRGBA(image.Rect(0, 0, sw, 1))
	hsum := make([]float32, 4*dw)
	acc := [2][]float32{make([]float32, 4*dw), make([]float32, 4*dw)}
	cur := 0 // the destination row acc[0] sums
	for y := 0; y < sh; y++ {
		rows.read(row, y)
		sumRow(hsum, row.Pix, xs)
		s := ys[y]
		for s.i > cur { // the row acc[0] sums is complete
			emit(dst, cur, acc[0])
			acc[0], acc[1] = acc[1], acc[0]
			clear(acc[1])
			cur++
		}
		for k, v := range hsum {
			acc[0][k] += s.w0 * v
		}
		if s.w1 != 0 {
			for k, v := range hsum {
				acc[1][k] += s.w1 * v
			}
		}
	}
	for ; cur < dh; cur++ {
		emit(dst, cur, acc[0])
		acc[0], acc[1] = acc[1], acc[0]
		clear(acc[1])
	}
	return dst
}

// canvasRows reads the rows of a canvas c on which src lies, as RGBA,
// transparent where src does not cover c.
type canvasRows struct {
	src  image.Image
	c, b image.Rectangle // the canvas, and the part of it src covers
	part image.Rectangle // the part of a row of c that src covers
	pal  *image.Paletted // src, when it is paletted; nil otherwise
	lut  [256][4]uint8   // pal's colours, as RGBA bytes
}

// newCanvasRows prepares the reading of c's rows from src; a paletted
// src has its colours looked up once.
func newCanvasRows(src image.Image, c image.Rectangle) *canvasRows {
	b := src.Bounds().Intersect(c)
	r := &canvasRows{src: src, c: c, b: b,
		part: image.Rect(b.Min.X-c.Min.X, 0, b.Max.X-c.Min.X, 1)}
	r.pal, _ = src.(*image.Paletted)
	if r.pal != nil {
		for i, c := range r.pal.Palette {
			cr, cg, cb, ca := c.RGBA()
			r.lut[i] = [4]uint8{uint8(cr >> 8), uint8(cg >> 8), uint8(cb >> 8), uint8(ca >> 8)}
		}
	}
	return r
}

// read puts row y of the canvas into row, a row as wide as the canvas.
func (r *canvasRows) read(row *image.RGBA, y int) {
	sw := r.c.Dx()
	if sy := r.c.Min.Y + y; sy < r.b.Min.Y || sy >= r.b.Max.Y || r.b.Empty() {
		clear(row.Pix)
	} else if r.pal != nil {
		if r.part.Dx() != sw {
			clear(row.Pix)
		}
		at := r.pal.PixOffset(r.b.Min.X, sy)
		for x, p := range r.pal.Pix[at : at+r.part.Dx()] {
			copy(row.Pix[4*(r.part.Min.X+x):4*(r.part.Min.X+x)+4], r.lut[p][:])
		}
	} else {
		if r.part.Dx() != sw {
			clear(row.Pix)
		}
		draw.Draw(row, r.part, r.src, image.Pt(r.b.Min.X, sy), draw.Src)
	}
}

// sumRow sums a row of source pixels (RGBA bytes) into hsum, a row of
// destination pixels, each weighted by the part of it each covers.
func sumRow(hsum []float32, pix []uint8, xs []span) {
	clear(hsum)
	for x, s := range xs {
		p := pix[4*x : 4*x+4 : 4*x+4]
		h := hsum[4*s.i : 4*s.i+4 : 4*s.i+4]
		h[0] += s.w0 * float32(p[0])
		h[1] += s.w0 * float32(p[1])
		h[2] += s.w0 * float32(p[2])
		h[3] += s.w0 * float32(p[3])
		if s.w1 != 0 {
			h = hsum[4*s.i+4 : 4*s.i+8 : 4*s.i+8]
			h[0] += s.w1 * float32(p[0])
			h[1] += s.w1 * float32(p[1])
			h[2] += s.w1 * float32(p[2])
			h[3] += s.w1 * float32(p[3])
		}
	}
}

// emit writes a row of sums, rounded and kept premultiplied.
func emit(dst *image.RGBA, y int, sums []float32) {
	out := dst.Pix[y*dst.Stride : y*dst.Stride+len(sums)]
	for k, v := range sums {
		out[k] = clamp8(v)
	}
	for k := 0; k < len(out); k += 4 { // no colour brighter than its alpha
		a := out[k+3]
		out[k], out[k+1], out[k+2] = min(out[k], a), min(out[k+1], a), min(out[k+2], a)
	}
}

func clamp8(v float32) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// orient turns a picture stored as EXIF orientation o says into the way
// it is meant to be seen.
func orient(m *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return m
	}
	w, h := m.Rect.Dx(), m.Rect.Dy()
	ow, oh := w, h
	if o >= 5 {
		ow, oh = h, w
	}
	out := image.NewRGBA(image.Rect(0, 0, ow, oh))
	for y := 0; y < oh; y++ {
		for x := 0; x < ow; x++ {
			var sx, sy int
			switch o {
			case 2:
				sx, sy = w-1-x, y
			case 3:
				sx, sy = w-1-x, h-1-y
			case 4:
				sx, sy = x, h-1-y
			case 5:
				sx, sy = y, x
			case 6:
				sx, sy = y, h-1-x
			case 7:
				sx, sy = w-1-y, h-1-x
			case 8:
				sx, sy = w-1-y, x
			}
			copy(out.Pix[y*out.Stride+4*x:y*out.Stride+4*x+4], m.Pix[sy*m.Stride+4*sx:sy*m.Stride+4*sx+4])
		}
	}
	return out
}

// opaque reports whether every pixel of m is fully opaque.
func opaque(m *image.RGBA) bool {
	for i := 3; i < len(m.Pix); i += 4 {
		if m.Pix[i] != 0xff {
			return false
		}
	}
	return true
}
