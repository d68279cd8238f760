package media

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"chat/internal/testutil"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// What only a browser shows: that Chromium reads every copy Clean makes
// (a WebP whose RIFF and VP8X were rewritten, a GIF without its
// extensions) at the size Info says, stands a JPEG up by the minimal EXIF
// Clean wrote, and reads every preview at the size Preview says.
func TestBrowserReadsCopies(t *testing.T) {
	chromium := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed")
		}
		t.Skip("chromium is not installed")
	}
	p := NewPictures(2, 1e7)
	files := map[string][]byte{}
	var page strings.Builder
	page.WriteString(`<!doctype html><meta charset=utf-8><style>img{max-width:300px;margin:4px;border:1px solid #888}</style>`)
	want := map[string][2]int{}
	for _, f := range fixtures(t) {
		var clean bytes.Buffer
		if err := Clean(f.typ, bytes.NewReader(f.raw), &clean); err != nil {
			t.Fatal(err)
		}
		prev, ptyp, pw, ph, err := p.Preview(context.Background(), bytes.NewReader(f.raw), 200)
		if err != nil {
			t.Fatal(err)
		}
		files["/"+f.name+"-clean"] = clean.Bytes()
		files["/"+f.name+"-preview"] = prev
		want[f.name+"-clean"] = [2]int{f.w, f.h}
		want[f.name+"-preview"] = [2]int{pw, ph}
		fmt.Fprintf(&page, `<p>%[1]s: <img id=%[1]s-clean src=/%[1]s-clean alt="the copy"> <img id=%[1]s-preview src=/%[1]s-preview alt="the %[2]s preview">`, f.name, ptyp)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		if r.URL.Path == "/" {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte(page.String()))
			return
		}
		b, ok := files[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", Sniff(b))
		w.Write(b)
	}))
	defer srv.Close()

	// The profile goes after the browser has (the deferred cancels run
	// first): Chromium's helpers may still write in it as it exits, which
	// t.TempDir would report as a failure.
	profile, err := os.MkdirTemp("", "media-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		testutil.Within(10*time.Second, func() bool { return os.RemoveAll(profile) == nil })
	})
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1000, 1300))...)
	defer cancel()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var got map[string][]int
	// Each picture decoded (0×0 when Chromium cannot), and the colour of
	// the top right corner of the JPEG's copy as drawn.
	const measure = `Promise.all([...document.images].map(i => i.decode().then(() => [i.id, i.naturalWidth, i.naturalHeight], () => [i.id, 0, 0]))).then(all => {
		const out = Object.fromEntries(all.map(([id, w, h]) => [id, [w, h]]));
		const i = document.getElementById("jpeg-clean"), c = document.createElement("canvas");
		c.width = i.naturalWidth; c.height = i.naturalHeight;
		const g = c.getContext("2d"); g.drawImage(i, 0, 0);
		out.corner = [...g.getImageData(c.width - 4, 4, 1, 1).data];
		return out;
	})`
	err = chromedp.Run(ctx, chromedp.Navigate(srv.URL+"/"),
		chromedp.Evaluate(measure, &got, func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if err != nil {
		t.Fatal(err)
	}
	for id, wh := range want {
		if g := got[id]; len(g) != 2 || g[0] != wh[0] || g[1] != wh[1] {
			t.Errorf("%s: Chromium reads %v, want %d×%d", id, g, wh[0], wh[1])
		}
	}
	if c := got["corner"]; len(c) != 4 || c[0] < 200 || c[1] > 60 || c[2] > 60 {
		t.Errorf("the JPEG's copy, as drawn: top right %v, want red (stood up by its orientation)", c)
	}
	if dir := os.Getenv("MEDIA_SHOTS"); dir != "" {
		var shot []byte
		if err := chromedp.Run(ctx, chromedp.FullScreenshot(&shot, 100)); err != nil {
			t.Fatal(err)
		}
		testutil.Eventually(t, time.Second, func() bool { return os.MkdirAll(dir, 0o755) == nil }, "no %s", dir)
		if err := os.WriteFile(filepath.Join(dir, "copies-and-previews.png"), shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
