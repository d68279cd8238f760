package media

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"io"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/internal/testutil"
)

// Headers that claim more pixels than a decode may have are refused from
// the header, for Info and Preview alike, before anything is decoded.
func TestBombs(t *testing.T) {
	p := NewPictures(1, 50_000_000)
	// A JPEG whose frame header claims 65,535×65,535.
	huge := afterSOI(encodeJPEG(t, gradient(16, 16)))
	sof := bytes.Index(huge, []byte{0xff, 0xc0})
	binary.BigEndian.PutUint16(huge[sof+5:], 65535)
	binary.BigEndian.PutUint16(huge[sof+7:], 65535)
	// A GIF of one small frame on a 65,535×65,535 logical screen.
	g := encodeGIF(t, paletted(8, 8, false))
	binary.LittleEndian.PutUint16(g[6:], 65535)
	binary.LittleEndian.PutUint16(g[8:], 65535)
	lossless := riffChunk("VP8L", vp8l(16, 16, 0, 255, 0, 255, 0, 255))
	// A GIF just over the bound: cheap to decode (a byte a pixel), but
	// more pixels than allowed.
	over := encodeGIF(t, paletted(8, 8, false))
	binary.LittleEndian.PutUint16(over[6:], 7072)
	binary.LittleEndian.PutUint16(over[8:], 7072)
	for name, raw := range map[string][]byte{
		"PNG 50,000×50,000":      pngHeader(50_000, 50_000, 8),
		"PNG 16-bit 6,000×6,000": pngHeader(6000, 6000, 16), // 36 M pixels, but 8 bytes each and interlaced
		"JPEG 65,535×65,535":     huge,
		"GIF logical screen":     g,
		"GIF 7,072×7,072":        over,
		"WebP VP8X 16 M×16 M":    webpFile(vp8x(0, 1<<24, 1<<24), lossless),
		"WebP VP8X 20,000²":      webpFile(vp8x(0, 20_000, 20_000), lossless),
	} {
		if _, _, _, err := p.Info(bytes.NewReader(raw)); !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s: Info: %v, want ErrTooManyPixels", name, err)
		}
		if _, _, _, _, err := p.Preview(context.Background(), bytes.NewReader(raw), 100); !errors.Is(err, ErrTooManyPixels) {
			t.Errorf("%s: Preview: %v, want ErrTooManyPixels", name, err)
		}
	}
	// Within the bound, the same headers are taken.
	binary.LittleEndian.PutUint16(over[6:], 7071)
	binary.LittleEndian.PutUint16(over[8:], 7071)
	if _, w, h, err := p.Info(bytes.NewReader(over)); err != nil || w != 7071 || h != 7071 {
		t.Errorf("GIF 7,071×7,071: %d×%d %v", w, h, err)
	}
	if _, w, h, err := NewPictures(1, 4e9).Info(bytes.NewReader(pngHeader(50_000, 50_000, 8))); err != nil || w != 50_000 || h != 50_000 {
		t.Errorf("under a bound of 4e9: %d×%d %v", w, h, err)
	}
	// At the chat's bound of 24 million pixels, a 16-bit picture of as
	// many would take twice the memory: it may have half as many.
	chat := NewPictures(1, 24_000_000)
	if _, _, _, err := chat.Info(bytes.NewReader(pngHeader(4898, 4898, 16))); !errors.Is(err, ErrTooManyPixels) {
		t.Errorf("16-bit 4,898²: %v, want ErrTooManyPixels", err)
	}
	if _, _, _, err := chat.Info(bytes.NewReader(pngHeader(2800, 2800, 16))); err != nil {
		t.Errorf("16-bit 2,800² (interlaced): %v", err)
	}
	if _, _, _, err := chat.Info(bytes.NewReader(pngHeader(3900, 3900, 8))); err != nil {
		t.Errorf("8-bit 3,900² (interlaced): %v", err)
	}
}

// Refusing the 50,000×50,000 PNG allocates a few kilobytes at most: the
// pixels are never made.
func TestBombAllocatesLittle(t *testing.T) {
	p := NewPictures(1, 50_000_000)
	raw := pngHeader(50_000, 50_000, 8)
	const runs = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		if _, _, _, err := p.Info(bytes.NewReader(raw)); !errors.Is(err, ErrTooManyPixels) {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 {
		t.Errorf("Info allocates %d bytes a refusal", per)
	}
	allocs := testing.AllocsPerRun(runs, func() {
		p.Preview(context.Background(), bytes.NewReader(raw), 100)
	})
	var m runtime.MemStats
	runtime.ReadMemStats(&before)
	for range runs {
		p.Preview(context.Background(), bytes.NewReader(raw), 100)
	}
	runtime.ReadMemStats(&m)
	if per := (m.TotalAlloc - before.TotalAlloc) / runs; per > 16<<10 || allocs > 50 {
		t.Errorf("Preview allocates %d bytes (%.0f allocations) a refusal", per, allocs)
	}
}

// A PNG signature followed by HTML is no picture: Info and Preview refuse
// it, and the handler keeps it as a plain file. HTML after a picture's
// end does not survive Clean.
func TestPolyglot(t *testing.T) {
	p := NewPictures(1, 1e7)
	html := []byte("<html><body><script>alert(document.cookie)</script></body></html>")
	for name, raw := range map[string][]byte{
		"PNG":  append(append([]byte{}, pngSignature...), html...),
		"GIF":  append([]byte("GIF89a"), html...),
		"JPEG": append([]byte{0xff, 0xd8, 0xff}, html...),
		"WebP": append([]byte("RIFF\x40\x00\x00\x00WEBPVP8 "), html...),
	} {
		if _, _, _, err := p.Info(bytes.NewReader(raw)); !errors.Is(err, ErrNotPicture) {
			t.Errorf("%s: Info: %v, want ErrNotPicture", name, err)
		}
		if _, _, _, _, err := p.Preview(context.Background(), bytes.NewReader(raw), 100); !errors.Is(err, ErrNotPicture) && !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("%s: Preview: %v, want ErrNotPicture", name, err)
		}
		if err := Clean(Sniff(raw), bytes.NewReader(raw), io.Discard); err == nil {
			t.Errorf("%s: Clean took it", name)
		}
	}
	for _, f := range fixtures(t) {
		raw := append(append([]byte{}, f.raw...), html...)
		if f.typ == WebP { // within the RIFF, as a chunk of its own
			raw = webpFile(append(append([]byte{}, f.raw[12:]...), riffChunk("HTML", html)...))
		}
		var out bytes.Buffer
		if err := Clean(f.typ, bytes.NewReader(raw), &out); err != nil {
			t.Fatalf("%s: %v", f.name, err)
		}
		if bytes.Contains(out.Bytes(), []byte("<script")) {
			t.Errorf("%s: the HTML after the picture is left", f.name)
		}
	}
}

// receiveWait bounds each wait in receive: long enough for a loaded
// machine, short enough that a regression fails instead of hanging.
const receiveWait = 30 * time.Second

// receive returns the next value from ch, and fails the test with what
// if none comes within receiveWait.
func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(receiveWait):
		t.Fatalf("after %v: %s", receiveWait, what)
		var zero T
		return zero
	}
}

// With one decoding slot, a second Preview waits for it, and a context
// that ends while it waits ends the wait: its reader is never read.
func TestPreviewWaitsForSlot(t *testing.T) {
	p := NewPictures(1, 1e7)
	raw := encodePNG(t, gradient(64, 48))
	pr, pw := io.Pipe()
	first := make(chan error, 1)
	go func() {
		_, _, _, _, err := p.Preview(context.Background(), pr, 32)
		first <- err
	}()
	testutil.Eventually(t, 5*time.Second, func() bool { return len(p.slots) == 1 }, "the first Preview took no slot")

	base, cancel := context.WithCancel(context.Background())
	ctx := &doneWatch{Context: base, asked: make(chan struct{})}
	var read atomic.Bool
	second := make(chan error, 1)
	go func() {
		_, _, _, _, err := p.Preview(ctx, readerFunc(func(b []byte) (int, error) {
			read.Store(true)
			return 0, io.EOF
		}), 32)
		second <- err
	}()
	receive(t, ctx.asked, "the second Preview never asked its context") // it is choosing between a slot and its context
	cancel()
	if err := receive(t, second, "the second Preview did not return when its context ended"); !errors.Is(err, context.Canceled) || read.Load() {
		t.Errorf("second Preview: %v, read %v; want context.Canceled, unread", err, read.Load())
	}

	pw.Write(raw)
	pw.Close()
	if err := receive(t, first, "the first Preview did not return"); err != nil {
		t.Fatalf("first Preview: %v", err)
	}
	// A context ended already is an answer at once, slot or not.
	ended, end := context.WithCancel(context.Background())
	end()
	if _, _, _, _, err := p.Preview(ended, bytes.NewReader(raw), 32); !errors.Is(err, context.Canceled) {
		t.Errorf("with an ended context: %v", err)
	}
	third, stop := context.WithTimeout(context.Background(), 10*time.Second)
	defer stop()
	if _, _, w, h, err := p.Preview(third, bytes.NewReader(raw), 32); err != nil || w != 32 || h != 24 {
		t.Errorf("after the first: %d×%d %v; the slot was not given back", w, h, err)
	}
}

// doneWatch is a context that tells when it was first asked for Done.
type doneWatch struct {
	context.Context
	once  sync.Once
	asked chan struct{}
}

func (c *doneWatch) Done() <-chan struct{} {
	c.once.Do(func() { close(c.asked) })
	return c.Context.Done()
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// Every truncation of every fixture is an error for Clean and Preview,
// never a panic; Info, which reads the header only, either errs or says
// what the whole file's header says.
func TestTruncated(t *testing.T) {
	p := NewPictures(2, 1e7)
	for _, f := range fixtures(t) {
		step := max(1, len(f.raw)/300)
		for n := 0; n < len(f.raw); n += step {
			if n > len(f.raw)-40 {
				step = 1
			}
			cut := f.raw[:n]
			if err := Clean(f.typ, bytes.NewReader(cut), io.Discard); err == nil {
				t.Fatalf("%s cut at %d of %d: Clean took it", f.name, n, len(f.raw))
			}
			if _, _, _, _, err := p.Preview(context.Background(), bytes.NewReader(cut), 64); err == nil {
				t.Fatalf("%s cut at %d of %d: Preview took it", f.name, n, len(f.raw))
			}
			if typ, w, h, err := p.Info(bytes.NewReader(cut)); err == nil && (typ != f.typ || w != f.w || h != f.h) {
				t.Fatalf("%s cut at %d: Info %s %d×%d", f.name, n, typ, w, h)
			}
		}
	}
}

// Clean streams: copying a picture of megabytes takes a few buffers, not
// the picture (a WebP that can seek, too).
func TestCleanStreams(t *testing.T) {
	big := photo(2000, 1500)
	for name, raw := range map[string][]byte{
		"JPEG": afterSOI(encodeJPEG(t, big), exifSegment(6, "SecretCam")),
		"PNG":  encodePNG(t, big),
		"GIF":  encodeGIF(t, noisy(paletted(2000, 1500, false))),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := Clean(Sniff(raw), bytes.NewReader(raw), io.Discard); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 512<<10 || uint64(len(raw)) < 4*got {
			t.Errorf("%s: cleaning %d bytes allocated %d", name, len(raw), got)
		}
	}
}

// noisy fills a picture with random colours of its palette, which LZW
// cannot make much smaller.
func noisy(m *image.Paletted) *image.Paletted {
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range m.Pix {
		m.Pix[i] = uint8(rng.IntN(len(m.Palette)))
	}
	return m
}
