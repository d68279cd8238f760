package media

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"
)

var (
	// ErrNotPicture: the bytes are not a picture this package reads
	// (which includes an animated WebP, a 12-bit or arithmetic-coded
	// JPEG); the file is still a file, not a picture.
	ErrNotPicture = errors.New("media: not a picture")
	// ErrTooManyPixels: the picture is larger than a decode may be.
	ErrTooManyPixels = errors.New("media: picture too large to decode")
)

// bytesPerPixel is the memory a decode may take for each pixel of
// maxPixels: a picture of 8-bit RGBA samples. A picture whose decoder
// needs more — 16-bit samples take 8 bytes a pixel, a progressive JPEG
// keeps 4 bytes of coefficients for each sample besides the samples —
// must have fewer pixels (a 16-bit PNG half as many): a decode at the
// bound of 24 million pixels held 150 MB at its peak, one of 16-bit
// samples, were it let through, 390 MB.
const bytesPerPixel = 4

// jpegMaxScans bounds a JPEG's scans, for each of which the decoder goes
// over the whole picture; encoders make about ten.
const jpegMaxScans = 100

// Pictures decodes pictures within bounds: how many at once, and how
// large each.
type Pictures struct {
	slots     chan struct{}
	maxPixels int64
}

// NewPictures bounds decoding: at most atOnce decodes at a time (at least
// one), each of at most maxPixels pixels, checked in the header before
// anything is decoded.
func NewPictures(atOnce int, maxPixels int64) *Pictures {
	return &Pictures{slots: make(chan struct{}, max(atOnce, 1)), maxPixels: maxPixels}
}

// header is what a picture's header says.
type header struct {
	typ         string
	w, h        int // as stored
	orientation int // EXIF orientation, 1 when none (JPEG only)
	cost        int64
}

// shown is the size the picture is seen at: a quarter turn swaps it.
func (hd header) shown() (int, int) {
	if hd.orientation >= 5 {
		return hd.h, hd.w
	}
	return hd.w, hd.h
}

// Info reads a picture's header only, and returns its type and the size
// it is seen at: for a JPEG, after its EXIF orientation (a phone's photo
// stored on its side with orientation 6 is reported standing). Only
// JPEG's orientation counts: Clean keeps it for JPEG alone, and drops the
// others' EXIF, so a PNG or WebP is shown as stored. ErrNotPicture when
// the bytes do not parse as one of the four types; ErrTooManyPixels when
// the header says more than the bound.
func (p *Pictures) Info(r io.Reader) (typ string, w, h int, err error) {
	hd, err := p.header(bufio.NewReaderSize(r, 4096), false)
	if err != nil {
		return "", 0, 0, err
	}
	w, h = hd.shown()
	return hd.typ, w, h, nil
}

// header reads a picture's header from br and checks it against the
// bounds. whole (for a picture about to be decoded, which br holds in
// full) also walks a JPEG's scans, to count them.
func (p *Pictures) header(br *bufio.Reader, whole bool) (header, error) {
	head, _ := br.Peek(SniffLen)
	hd := header{typ: Sniff(head), orientation: 1}
	var err error
	switch hd.typ {
	case PNG:
		err = headerPNG(br, &hd)
	case JPEG:
		err = headerJPEG(br, whole, &hd)
	case GIF:
		err = headerGIF(br, &hd)
	case WebP:
		err = p.headerWebP(br, head, &hd)
	default:
		err = notPicture(fmt.Errorf("the bytes are %s", hd.typ))
	}
	if err == nil {
		err = p.within(hd)
	}
	if err != nil {
		return header{}, err
	}
	return hd, nil
}

// within checks a header against the bounds: a width and a height, no
// more than maxPixels pixels, and a decode cost of no more than
// bytesPerPixel for each of them.
func (p *Pictures) within(hd header) error {
	if hd.w < 1 || hd.h < 1 {
		return notPicture(errors.New("no width or height"))
	}
	if px := int64(hd.w) * int64(hd.h); px > p.maxPixels {
		return fmt.Errorf("%w: %d×%d pixels, more than %d", ErrTooManyPixels, hd.w, hd.h, p.maxPixels)
	}
	if hd.cost > p.maxPixels*bytesPerPixel {
		return fmt.Errorf("%w: %d×%d pixels would take %d MB to decode", ErrTooManyPixels, hd.w, hd.h, hd.cost>>20)
	}
	return nil
}

// headerPNG reads a PNG's size into hd, and its cost from its IHDR.
func headerPNG(br *bufio.Reader, hd *header) error {
	ihdr, err := br.Peek(33)
	if err != nil {
		return notPicture(unexpected(err))
	}
	ihdr = bytes.Clone(ihdr[8:])
	cfg, err := png.DecodeConfig(br)
	if err != nil {
		return notPicture(err)
	}
	hd.w, hd.h = cfg.Width, cfg.Height
	hd.cost = pngCost(hd.w, hd.h, ihdr)
	return nil
}

// headerJPEG reads a JPEG's size, orientation and cost into hd; whole
// (br holds the whole picture) also counts its scans, of which more than
// jpegMaxScans are ErrTooManyPixels.
func headerJPEG(br *bufio.Reader, whole bool, hd *header) error {
	jh, err := readJPEGHeader(br, whole)
	if err != nil {
		return notPicture(err)
	}
	if jh.scans > jpegMaxScans {
		return fmt.Errorf("%w: a JPEG of %d scans", ErrTooManyPixels, jh.scans)
	}
	hd.w, hd.h, hd.orientation, hd.cost = jh.w, jh.h, jh.orientation, jh.cost()
	return nil
}

// headerGIF reads a GIF's logical screen into hd, and checks that a
// block follows it.
func headerGIF(br *bufio.Reader, hd *header) error {
	cfg, err := gif.DecodeConfig(br)
	if err != nil {
		return notPicture(err)
	}
	// After the screen and its colours comes a block: an
	// extension, an image or the end.
	if next, err := br.Peek(1); err != nil || next[0] != 0x21 && next[0] != 0x2c && next[0] != 0x3b {
		return notPicture(errors.New("no block after the GIF's header"))
	}
	hd.w, hd.h = cfg.Width, cfg.Height
	hd.cost = int64(hd.w) * int64(hd.h) // a byte a pixel, in the palette
	return nil
}

// headerWebP reads a WebP's size and cost into hd. A VP8X canvas (in
// head) is checked against maxPixels before the decoder reads on, and an
// animated WebP is not read.
func (p *Pictures) headerWebP(br *bufio.Reader, head []byte, hd *header) error {
	if len(head) >= 30 && string(head[12:16]) == "VP8X" {
		if head[20]&vp8xAnimation != 0 {
			return notPicture(errors.New("an animated WebP is not read here"))
		}
		w := (int64(head[24]) | int64(head[25])<<8 | int64(head[26])<<16) + 1
		h := (int64(head[27]) | int64(head[28])<<8 | int64(head[29])<<16) + 1
		if w*h > p.maxPixels {
			return fmt.Errorf("%w: %d×%d pixels, more than %d", ErrTooManyPixels, w, h, p.maxPixels)
		}
	}
	cfg, err := webp.DecodeConfig(br)
	if err != nil {
		return notPicture(err)
	}
	hd.w, hd.h = cfg.Width, cfg.Height
	// Lossy: YCbCr 4:2:0 and alpha; lossless: NRGBA and the
	// decoder's own copy of the pixels as it undoes its transforms.
	hd.cost = int64(hd.w) * int64(hd.h) * 3
	if string(head[12:16]) == "VP8L" || lossless(head) {
		hd.cost = int64(hd.w) * int64(hd.h) * 8
	}
	return nil
}

// notPicture marks err as ErrNotPicture, once: an error that says so
// already (errJPEG and its kin) is returned as it is.
func notPicture(err error) error {
	if errors.Is(err, ErrNotPicture) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrNotPicture, err)
}

// lossless says whether a WebP with a VP8X header holds a lossless
// picture, when its first chunk after VP8X is in head.
func lossless(head []byte) bool {
	if len(head) < 38 || string(head[12:16]) != "VP8X" {
		return false
	}
	n := binary.LittleEndian.Uint32(head[16:20])
	at := 20 + int(n) + int(n&1)
	for at+8 <= len(head) {
		id := string(head[at : at+4])
		if id == "VP8L" {
			return true
		}
		if id == "VP8 " {
			return false
		}
		n := binary.LittleEndian.Uint32(head[at+4 : at+8])
		at += 8 + int(n) + int(n&1)
	}
	return true // not known: counted as the dearer
}

// Preview decodes a picture, turns it the way its EXIF orientation says,
// scales it to fit in box×box pixels (never up), and encodes it again:
// as JPEG (quality 82) when it is opaque, as PNG when it is not. A GIF's
// preview is its first frame. The result carries nothing of the file but
// its pixels. It waits for a decoding slot (ctx ends the wait) before it
// reads r, which it then holds whole: the caller bounds its size.
func (p *Pictures) Preview(ctx context.Context, r io.Reader, box int) (data []byte, typ string, w, h int, err error) {
	if box < 1 {
		return nil, "", 0, 0, fmt.Errorf("media: preview box %d", box)
	}
	if err := ctx.Err(); err != nil { // ended already: not a coin toss with a free slot
		return nil, "", 0, 0, err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, "", 0, 0, ctx.Err()
	}
	defer func() { <-p.slots }()
	raw, err := readAll(r)
	if err != nil {
		return nil, "", 0, 0, err
	}
	hd, err := p.header(bufio.NewReader(bytes.NewReader(raw)), true)
	if err != nil {
		return nil, "", 0, 0, err
	}
	if err := wholeStructure(hd.typ, raw); err != nil {
		return nil, "", 0, 0, err
	}
	img, err := decode(hd.typ, raw)
	if err != nil {
		return nil, "", 0, 0, notPicture(err)
	}
	// The canvas: a GIF's logical screen, on which its first frame may
	// cover a part only; the picture itself for the others.
	canvas := img.Bounds()
	if hd.typ == GIF {
		canvas = image.Rect(0, 0, hd.w, hd.h)
	}
	if canvas.Empty() {
		return nil, "", 0, 0, fmt.Errorf("%w: an empty picture", ErrNotPicture)
	}
	dw, dh := fit(canvas.Dx(), canvas.Dy(), box)
	out := orient(shrink(img, canvas, dw, dh), hd.orientation)
	img = nil
	var buf bytes.Buffer
	if opaque(out) {
		typ = JPEG
		err = jpeg.Encode(&buf, out, &jpeg.Options{Quality: 82})
	} else {
		typ = PNG
		err = (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, out)
	}
	if err != nil {
		return nil, "", 0, 0, err
	}
	return buf.Bytes(), typ, out.Rect.Dx(), out.Rect.Dy(), nil
}

// readAll reads r whole, into one buffer of its size when r says it
// (bytes.Reader, strings.Reader, io.SectionReader, multipart files).
func readAll(r io.Reader) ([]byte, error) {
	var n int64
	switch s := r.(type) {
	case interface{ Len() int }:
		n = int64(s.Len())
	case interface{ Size() int64 }:
		n = s.Size()
	}
	if n <= 0 || n > 1<<30 {
		return io.ReadAll(r)
	}
	buf := bytes.NewBuffer(make([]byte, 0, n+bytes.MinRead))
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}

// wholeStructure checks the parts of a picture its decoder would not read
// (a GIF's frames after the first, a WebP's chunks after its picture), so
// that a truncated file is refused as a whole.
func wholeStructure(typ string, raw []byte) error {
	switch typ {
	case GIF:
		return walkGIF(bytes.NewReader(raw), io.Discard, false)
	case WebP:
		_, err := webpChunks(bytes.NewReader(raw))
		return err
	}
	return nil
}

// decode decodes a picture whose header was checked; of a GIF, the first
// frame only (the others are never read: an animation of many large
// frames costs no more than one).
func decode(typ string, raw []byte) (image.Image, error) {
	switch typ {
	case PNG:
		return png.Decode(bytes.NewReader(raw))
	case JPEG:
		return jpeg.Decode(bytes.NewReader(raw))
	case GIF:
		var first bytes.Buffer
		if err := walkGIF(bytes.NewReader(raw), &first, true); err != nil {
			return nil, err
		}
		return gif.Decode(&first)
	case WebP:
		return webp.Decode(bytes.NewReader(raw))
	}
	return nil, fmt.Errorf("media: cannot decode %s", typ)
}

// Clean copies a picture of type typ (as Sniff said) from r to w without
// its metadata, streaming it (a WebP is read twice when r can seek, and
// held whole when it cannot: see cleanWebP):
//   - JPEG: no APPn segment but JFIF (APP0), ICC profiles (APP2) and
//     Adobe's colour transform (APP14); no comment; an EXIF orientation
//     other than 1 is kept as a minimal EXIF holding only it.
//   - PNG: the chunks that show the pixels only (no tEXt, zTXt, iTXt,
//     eXIf, tIME nor private chunks), each one's checksum checked.
//   - WebP: no EXIF, XMP nor unknown chunks, the RIFF size and the VP8X
//     flags made to fit.
//   - GIF: no comments, no application extensions but NETSCAPE2.0
//     (looping).
//
// Nothing after a picture's end is copied. Malformed or truncated input
// is an error (what was written to w by then must be thrown away).
func Clean(typ string, r io.Reader, w io.Writer) error {
	switch typ {
	case JPEG:
		return cleanJPEG(r, w)
	case PNG:
		return cleanPNG(r, w)
	case GIF:
		return walkGIF(r, w, false)
	case WebP:
		return cleanWebP(r, w)
	}
	return fmt.Errorf("%w: %s", ErrNotPicture, typ)
}
