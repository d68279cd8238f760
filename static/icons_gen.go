//go:build ignore

// icons_gen draws the chat's icons for the web app manifest as PNG files,
// from the same shapes as favicon.svg: a blue rounded square with a white
// speech bubble. Run it with `go generate ./static` after changing them.
package main

import (
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"log"
	"os"

	"golang.org/x/image/vector"
)

var (
	blue  = color.RGBA{0x3b, 0x5b, 0xdb, 0xff}
	white = color.RGBA{0xff, 0xff, 0xff, 0xff}
)

// k places the control points of a cubic Bézier that follows a quarter
// circle.
const k = 0.5523

// pen draws on a rasterizer in the icon's own units (32 a side), scaled
// and moved.
type pen struct {
	r      *vector.Rasterizer
	scale  float32
	offset float32
	x, y   float32
}

func (p *pen) pt(x, y float32) (float32, float32) { return p.offset + x*p.scale, p.offset + y*p.scale }
func (p *pen) move(x, y float32)                  { p.x, p.y = x, y; p.r.MoveTo(p.pt(x, y)) }
func (p *pen) line(x, y float32)                  { p.x, p.y = x, y; p.r.LineTo(p.pt(x, y)) }

// quarter draws a quarter circle from the pen to (x, y), turning about
// the corner (cx, cy): the point where the two tangents meet.
func (p *pen) quarter(cx, cy, x, y float32) {
	ax, ay := p.x+(cx-p.x)*k, p.y+(cy-p.y)*k
	bx, by := x+(cx-x)*k, y+(cy-y)*k
	x1, y1 := p.pt(ax, ay)
	x2, y2 := p.pt(bx, by)
	x3, y3 := p.pt(x, y)
	p.r.CubeTo(x1, y1, x2, y2, x3, y3)
	p.x, p.y = x, y
}

// icon draws the icon size pixels a side; with bleed, the blue fills the
// whole square (a maskable icon, which the system crops) and the bubble
// keeps within its safe zone.
func icon(size int, bleed bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, size, size))
	s := float32(size) / 32
	if bleed {
		draw.Draw(img, img.Bounds(), image.NewUniform(blue), image.Point{}, draw.Src)
	} else {
		r := vector.NewRasterizer(size, size)
		p := &pen{r: r, scale: s}
		p.move(8, 0)
		p.line(24, 0)
		p.quarter(32, 0, 32, 8)
		p.line(32, 24)
		p.quarter(32, 32, 24, 32)
		p.line(8, 32)
		p.quarter(0, 32, 0, 24)
		p.line(0, 8)
		p.quarter(0, 0, 8, 0)
		r.ClosePath()
		r.Draw(img, img.Bounds(), image.NewUniform(blue), image.Point{})
	}
	// The bubble, as in favicon.svg; a maskable icon shrinks it to 70 %
	// about the centre.
	r := vector.NewRasterizer(size, size)
	p := &pen{r: r, scale: s}
	if bleed {
		p.scale = s * 0.7
		p.offset = float32(size) * 0.15
	}
	p.move(8, 10.5)
	p.quarter(8, 7, 11.5, 7)
	p.line(20.5, 7)
	p.quarter(24, 7, 24, 10.5)
	p.line(24, 16.5)
	p.quarter(24, 20, 20.5, 20)
	p.line(15, 20)
	p.line(10.5, 24)
	p.line(10.5, 20)
	p.quarter(8, 20, 8, 17.5)
	r.ClosePath()
	r.Draw(img, img.Bounds(), image.NewUniform(white), image.Point{})
	return img
}

func main() {
	for _, f := range []struct {
		name  string
		size  int
		bleed bool
	}{{"icon-192.png", 192, false}, {"icon-512.png", 512, false}, {"icon-maskable-512.png", 512, true}} {
		out, err := os.Create(f.name)
		if err != nil {
			log.Fatal(err)
		}
		if err := png.Encode(out, icon(f.size, f.bleed)); err != nil {
			log.Fatal(err)
		}
		if err := out.Close(); err != nil {
			log.Fatal(err)
		}
	}
}
