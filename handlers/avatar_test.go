package handlers_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/jpeg"
	"image/png"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// flat is a picture of one colour and any size that costs one row to
// hold: its rows share their pixels (a stride of 0), so encoding it takes
// only the encoder's time.
func flat(w, h int, model color.Model) image.Image {
	r := image.Rect(0, 0, w, h)
	c := model.Convert(color.NRGBA64{0x1234, 0x5678, 0x9abc, 0xffff})
	var img draw.Image
	switch model {
	case color.RGBA64Model:
		img = &image.RGBA64{Pix: make([]byte, 8*w), Rect: r}
	case color.Gray16Model:
		img = &image.Gray16{Pix: make([]byte, 2*w), Rect: r}
	case color.NRGBAModel:
		img = &image.NRGBA{Pix: make([]byte, 4*w), Rect: r}
	default:
		img = &image.RGBA{Pix: make([]byte, 4*w), Rect: r}
	}
	for x := range w {
		img.Set(x, 0, c)
	}
	return img
}

func encodePNG(img image.Image) []byte {
	var b bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&b, img); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// deepPNG is a 6324 × 6324 picture of 16-bit pixels (40 million pixels,
// inside the limit of pixels), about 320 KB as a file and 305 MiB
// decoded.
var deepPNG = sync.OnceValue(func() []byte { return encodePNG(flat(6324, 6324, color.RGBA64Model)) })

// allocated is how many bytes the process allocated while f ran: the
// server runs in the test's process, so this is what it took to answer.
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestAvatarDecodeBudget: a picture whose pixels would take more memory
// than a decode may is refused from its header, before its pixels are
// read; what the upload takes stays a few MB.
func TestAvatarDecodeBudget(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	deep := deepPNG()
	var res response
	took := allocated(func() { res = alice.upload("/account/avatar", "avatar", "deep.png", deep) })
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "too large to read") {
		t.Errorf("a %d KB PNG of 6324 × 6324 16-bit pixels: %d, want 422 saying it is too large to read", len(deep)>>10, res.StatusCode)
	}
	t.Logf("the upload of %d KB allocated %.1f MiB", len(deep)>>10, float64(took)/(1<<20))
	if took > 16<<20 {
		t.Errorf("the upload allocated %.0f MiB, want it refused before its pixels are read", float64(took)/(1<<20))
	}

	progressive, err := os.ReadFile("testdata/progressive.jpg")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name   string
		data   []byte
		status int
	}{
		// 8-bit colour of the same size, and 16-bit one of fewer pixels.
		// Headers alone: refused from what they claim.
		{"wide.png", claimSize(pngOf(2, 2), 8000, 5000), http.StatusUnprocessableEntity},
		{"gray16.png", claimDepth(claimSize(pngOf(2, 2), 5000, 5000), 16, 0), http.StatusUnprocessableEntity},
		// A photo of 12 megapixels is read.
		{"photo.jpg", jpegOf(t, 4000, 3000), http.StatusSeeOther},
		{"small16.png", encodePNG(flat(1000, 1000, color.RGBA64Model)), http.StatusSeeOther},
		{"progressive.jpg", progressive, http.StatusSeeOther},
		// A progressive JPEG holds its coefficients, 4 bytes a sample, as
		// well as its pixels: 3,000 × 3,000 is past the budget, where the
		// same size in one pass (below) is not.
		{"progressive3000.jpg", claimJPEGSize(t, progressive, 3000, 3000), http.StatusUnprocessableEntity},
		{"baseline3000.jpg", jpegOf(t, 3000, 3000), http.StatusSeeOther},
		// A JPEG of hundreds of scans, each of which has the decoder go over
		// the picture again.
		{"scans.jpg", repeatScan(t, progressive, 200), http.StatusUnprocessableEntity},
		// An Adobe marker saying "no transform" has the decoder build an
		// RGBA picture besides its samples: 10,000 × 3,500 fits the budget
		// as YCbCr, not with that.
		{"adobe-rgb.jpg", adobeRGB(claimJPEGSize(t, jpegOf(t, 16, 16), 10000, 3500)), http.StatusUnprocessableEntity},
	} {
		res := alice.upload("/account/avatar", "avatar", c.name, c.data)
		if res.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.status)
		}
		if c.status == http.StatusUnprocessableEntity && !strings.Contains(res.Body, "to read") {
			t.Errorf("%s: refused for another reason than what reading it takes", c.name)
		}
	}
}

// TestAvatarShortSegment: a JPEG segment whose length is less than its
// own two bytes, after the frame header that DecodeConfig stops at, is
// refused as a picture that does not read, never a panic.
func TestAvatarShortSegment(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	res := alice.upload("/account/avatar", "avatar", "short.jpg", shortSegment(jpegOf(t, 16, 16)))
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("%d, want 422: %.200s", res.StatusCode, res.Body)
	}
	if strings.Contains(srv.Logs.String(), "panic") {
		t.Error("the upload panicked")
	}
}

// claimDepth rewrites a PNG's header to claim another bit depth and
// colour type, with the header's checksum made right.
func claimDepth(p []byte, depth, colorType byte) []byte {
	p = bytes.Clone(p)
	p[24], p[25] = depth, colorType
	binary.BigEndian.PutUint32(p[29:33], crc32.ChecksumIEEE(p[12:29]))
	return p
}

// jpegSegments calls f with the offset of each marker of a JPEG and the
// end of its segment (a scan's data included).
func jpegSegments(p []byte, f func(marker byte, at, end int)) {
	for i := 2; i+3 < len(p); {
		marker := p[i+1]
		if marker == 0xd9 {
			return
		}
		end := i + 2 + int(binary.BigEndian.Uint16(p[i+2:]))
		if marker == 0xda {
			for end+1 < len(p) && !(p[end] == 0xff && p[end+1] != 0 && (p[end+1] < 0xd0 || p[end+1] > 0xd7)) {
				end++
			}
		}
		f(marker, i, end)
		i = end
	}
}

// claimJPEGSize rewrites a JPEG's frame header to claim another size.
func claimJPEGSize(t *testing.T, p []byte, w, h uint16) []byte {
	p = bytes.Clone(p)
	found := false
	jpegSegments(p, func(marker byte, at, _ int) {
		if marker == 0xc0 || marker == 0xc2 {
			binary.BigEndian.PutUint16(p[at+5:], h)
			binary.BigEndian.PutUint16(p[at+7:], w)
			found = true
		}
	})
	if !found {
		t.Fatal("no frame header")
	}
	return p
}

// repeatScan repeats a JPEG's last scan until it has n more.
func repeatScan(t *testing.T, p []byte, n int) []byte {
	var from, to int
	jpegSegments(p, func(marker byte, at, end int) {
		if marker == 0xda {
			from, to = at, end
		}
	})
	if from == 0 {
		t.Fatal("no scan")
	}
	out := append(bytes.Clone(p[:to]), bytes.Repeat(p[from:to], n)...)
	return append(out, p[to:]...)
}

// adobeRGB puts an Adobe marker with transform 0 (RGB, no YCbCr) after a
// JPEG's start.
func adobeRGB(p []byte) []byte {
	app14 := []byte{0xff, 0xee, 0x00, 0x0e, 'A', 'd', 'o', 'b', 'e', 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0x00}
	return append(append(bytes.Clone(p[:2]), app14...), p[2:]...)
}

// shortSegment puts a comment segment of length 0 right after a JPEG's
// frame header, and a JFIF marker after its start.
func shortSegment(p []byte) []byte {
	var at int
	jpegSegments(p, func(marker byte, _, end int) {
		if marker == 0xc0 {
			at = end
		}
	})
	out := append(append(bytes.Clone(p[:at]), 0xff, 0xfe, 0x00, 0x00), p[at:]...)
	// A JFIF marker first: with it, DecodeConfig stops at the frame header
	// and never sees the segment after it.
	jfif := []byte{0xff, 0xe0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00, 0x01, 0x01, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00}
	return append(append(out[:2:2], jfif...), out[2:]...)
}

func jpegOf(t *testing.T, w, h int) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, flat(w, h, color.RGBAModel), &jpeg.Options{Quality: 50}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// BenchmarkAvatarDeep uploads the 6324 × 6324 16-bit PNG four at once:
// the time an upload takes, what the four allocate, and the peak of the
// heap's live objects meanwhile (sampled every millisecond).
func BenchmarkAvatarDeep(b *testing.B) {
	srv := newServer(b)
	alice := srv.register(b, "alice")
	deep := deepPNG()
	var peak, took uint64
	var spent time.Duration
	b.ResetTimer()
	for range b.N {
		base := heapObjects()
		stop, done := make(chan struct{}), make(chan uint64)
		go func() {
			tick := time.NewTicker(time.Millisecond)
			defer tick.Stop()
			var top uint64
			for {
				top = max(top, heapObjects())
				select {
				case <-stop:
					done <- top
					return
				case <-tick.C:
				}
			}
		}()
		start := time.Now()
		took += allocated(func() {
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() { alice.upload("/account/avatar", "avatar", "deep.png", deep) })
			}
			wg.Wait()
		})
		spent += time.Since(start)
		close(stop)
		if top := <-done; top > base {
			peak = max(peak, top-base)
		}
	}
	b.ReportMetric(float64(spent.Milliseconds())/float64(b.N), "ms/4-uploads")
	b.ReportMetric(float64(took)/float64(b.N)/(1<<20), "MiB-alloc/4-uploads")
	b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
}

// heapObjects is the bytes of the heap's objects, live or not yet swept.
func heapObjects() uint64 {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestAvatarUploadPlaces: uploads past the body limit hold their body in
// memory while it arrives, so a user holds at most two of them
// at once and the next is refused from its headers (429); a place comes
// back when its upload is answered.
func TestAvatarUploadPlaces(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	cookie := alice.cookie("chat_session").Value
	// A form of a megabyte's file of zeros: not a picture (422).
	head := "--b\r\nContent-Disposition: form-data; name=\"avatar\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n"
	body := append(append([]byte(head), make([]byte, 1<<20)...), "\r\n--b--\r\n"...)
	size := len(body)
	// Two uploads that stop half-way: each holds a place.
	req := "POST /account/avatar HTTP/1.1\r\nHost: " + srv.Host + "\r\nOrigin: " + srv.URL +
		"\r\nCookie: chat_session=" + cookie +
		"\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: " + strconv.Itoa(size) + "\r\n"
	var held []net.Conn
	var heldReaders []*bufio.Reader
	for range 2 { // a user's places
		conn, err := net.Dial("tcp", srv.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Minute))
		// The server says 100 Continue once it has read the headers and
		// given the upload its place.
		if _, err := conn.Write([]byte(req + "Expect: 100-continue\r\n\r\n")); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(conn)
		if line, err := br.ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
			t.Fatalf("an upload's headers: %q, %v; want 100 Continue", line, err)
		}
		br.ReadString('\n') // the blank line after it
		if _, err := conn.Write(body[:size/2]); err != nil {
			t.Fatal(err)
		}
		held = append(held, conn)
		heldReaders = append(heldReaders, br)
	}
	req += "\r\n"
	res := announceBody(t, srv, "/account/avatar", cookie, "multipart/form-data; boundary=b", size)
	if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") == "" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("a third upload: %d, Retry-After %q, want 429 with Retry-After and the security headers", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Others' uploads are not hers to hold back.
	if got := bob.upload("/account/avatar", "avatar", "a.png", pngOf(64, 64)); got.StatusCode != http.StatusSeeOther {
		t.Errorf("bob's upload beside alice's: %d, want 303", got.StatusCode)
	}
	// One of hers ends (the rest of its body, not a form: 422): its
	// place comes back.
	if _, err := held[0].Write(body[size/2:]); err != nil {
		t.Fatal(err)
	}
	r, err := http.ReadResponse(heldReaders[0], nil)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("the held upload, once whole: %d, want 422 (not a picture)", r.StatusCode)
	}
	if got := rawExchange(t, srv.Host, append([]byte(req), body...)); got.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("alice's upload of a megabyte once one of hers was answered: %d, want 422 (read, not a picture)", got.StatusCode)
	}
}
