package handlers_test

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"chat/handlers"
)

func withUploadLimit(n int64) serverOption { return func(d *handlers.Deps) { d.UploadLimit = n } }
func withUploadQuota(n int64) serverOption { return func(d *handlers.Deps) { d.UploadQuota = n } }

// upFile is one file part of a post.
type upFile struct {
	name, ctype string
	data        []byte
	// disposition, if set, is the part's Content-Disposition as it is.
	disposition string
}

// multipartBody is a form with text and files, as a browser sends it.
func multipartBody(fields map[string]string, files []upFile) (*bytes.Buffer, string) {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	for _, f := range files {
		h := make(textproto.MIMEHeader)
		// Written by hand: a name with a NUL or a quote goes as it is.
		h.Set("Content-Disposition", cmpOr(f.disposition, `form-data; name="file"; filename="`+strings.ReplaceAll(f.name, `"`, `\"`)+`"`))
		h.Set("Content-Type", cmpOr(f.ctype, "application/octet-stream"))
		w, _ := mw.CreatePart(h)
		w.Write(f.data)
	}
	mw.Close()
	return &body, mw.FormDataContentType()
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// postFiles posts text and files to a room's compose address; headers
// are pairs set on top (HX-Request for the page's script).
func (c *client) postFiles(room, text string, files []upFile, headers ...string) response {
	c.t.Helper()
	body, ctype := multipartBody(map[string]string{"text": text}, files)
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+room+"/messages", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Origin", c.srv.URL)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// photoOf is a w×h JPEG of a gradient.
func photoOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 90, 255})
		}
	}
	var b bytes.Buffer
	jpeg.Encode(&b, img, &jpeg.Options{Quality: 90})
	return b.Bytes()
}

// withExif puts an EXIF segment holding marker (where a camera writes its
// position) right after a JPEG's start.
func withExif(j []byte, marker string) []byte {
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x00" + marker)
	seg := append([]byte("Exif\x00\x00"), tiff...)
	out := append([]byte{0xFF, 0xD8, 0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}, seg...)
	return append(out, j[2:]...)
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

func sha(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestFilesInPosts: a post with a picture and a document, sent as a plain
// form, reaches a reader live and in history with one .attachment each;
// both files come back to a reader, the document byte for byte and as a
// download, the photo without its position, each with the headers that
// keep it from running as a page, and cached by its ETag.
func TestFilesInPosts(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("photos")
	live := bob.dial(room, -1).settle()

	photo := withExif(photoOf(1600, 1200), "GPS-48.8584N-2.2945E")
	res := alice.postFiles(room, "Look at this", []upFile{
		{name: "tower.jpg", ctype: "image/jpeg", data: photo},
		{name: "notes.pdf", ctype: "application/pdf", data: pdfBytes},
	})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("post with files: %d %s", res.StatusCode, res.Body)
	}
	entry := live.next(`[data-kind="post"] .attachment`, 10*time.Second).Closest(".entry")
	if got := entry.Find(".attachment").Length(); got != 2 {
		t.Fatalf("%d attachments pushed, want 2", got)
	}
	img := entry.Find(".attachment img")
	if img.AttrOr("alt", "") != "tower.jpg" || img.AttrOr("width", "") != "720" || img.AttrOr("height", "") != "540" {
		t.Errorf("picture: alt %q, %s×%s; want tower.jpg, 720×540", img.AttrOr("alt", ""), img.AttrOr("width", ""), img.AttrOr("height", ""))
	}
	doc := entry.Find(".attachment-file")
	if !strings.Contains(doc.Text(), "notes.pdf") || !strings.Contains(doc.Text(), "PDF") {
		t.Errorf("document link: %q", doc.Text())
	}
	if got := entry.Find(".text").Text(); got != "Look at this" {
		t.Errorf("caption %q", got)
	}

	// The same markup in history.
	hist := bob.get(room).doc(t).Find("#messages .attachment")
	if hist.Length() != 2 {
		t.Fatalf("history holds %d attachments", hist.Length())
	}

	docURL, _ := doc.Attr("href")
	got := bob.get(docURL)
	if got.StatusCode != http.StatusOK || got.Body != string(pdfBytes) {
		t.Fatalf("document: %d, %d bytes", got.StatusCode, len(got.Body))
	}
	for h, want := range map[string]string{
		"X-Content-Type-Options":  "nosniff",
		"Content-Type":            "application/pdf",
		"Content-Disposition":     `attachment; filename=notes.pdf`,
		"Content-Security-Policy": "sandbox",
		"ETag":                    `"` + sha(pdfBytes) + `"`,
	} {
		if got.Header.Get(h) != want {
			t.Errorf("document's %s: %q, want %q", h, got.Header.Get(h), want)
		}
	}
	if again := bob.get(docURL, "If-None-Match", got.Header.Get("ETag")); again.StatusCode != http.StatusNotModified || again.Body != "" {
		t.Errorf("asked again with its ETag: %d, %d bytes", again.StatusCode, len(again.Body))
	}

	full := bob.get(entry.Find(".attachment-picture").AttrOr("href", ""))
	if full.StatusCode != http.StatusOK || full.Header.Get("Content-Type") != "image/jpeg" || !strings.HasPrefix(full.Header.Get("Content-Disposition"), "inline") {
		t.Fatalf("picture: %d %q %q", full.StatusCode, full.Header.Get("Content-Type"), full.Header.Get("Content-Disposition"))
	}
	if strings.Contains(full.Body, "GPS-48.8584N") {
		t.Error("the picture served still holds the position it was taken at")
	}
	if _, err := jpeg.Decode(strings.NewReader(full.Body)); err != nil {
		t.Errorf("the picture served does not decode: %v", err)
	}
	prev := bob.get(img.AttrOr("src", ""))
	if prev.StatusCode != http.StatusOK || prev.Header.Get("X-Content-Type-Options") != "nosniff" || !strings.HasPrefix(prev.Header.Get("Content-Security-Policy"), "sandbox") {
		t.Fatalf("preview: %d %v", prev.StatusCode, prev.Header)
	}
	cfg, _, err := image.DecodeConfig(strings.NewReader(prev.Body))
	if err != nil || cfg.Width != 720 || cfg.Height != 540 || strings.Contains(prev.Body, "GPS-48") {
		t.Errorf("preview: %v %d×%d", err, cfg.Width, cfg.Height)
	}
}

// TestFilesOnlyToReaders: a direct message's file, and a closed room's,
// are answered to anyone else exactly as a file that does not exist; a
// signed-out client is sent to sign in.
func TestFilesOnlyToReaders(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	srv.register(t, "bob")
	carol := srv.register(t, "carol")
	dm := alice.post("/users/bob/dm", nil).Header.Get("Location")
	closed := alice.createRoomAccess("secret", "closed")
	var urls []string
	for _, room := range []string{dm, closed} {
		if res := alice.postFiles(room, "", []upFile{{name: "plan.pdf", data: pdfBytes}, {name: "p.jpg", data: photoOf(64, 48)}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("post files in %s: %d %s", room, res.StatusCode, res.Body)
		}
		page := alice.get(room).doc(t)
		urls = append(urls, page.Find(".attachment-file").AttrOr("href", ""), page.Find(".attachment img").AttrOr("src", ""),
			page.Find(".attachment-picture").AttrOr("href", ""))
	}
	unknown := carol.get("/files/999999/plan.pdf")
	if unknown.StatusCode != http.StatusNotFound {
		t.Fatalf("an unknown file: %d", unknown.StatusCode)
	}
	for _, u := range urls {
		if u == "" {
			t.Fatal("a file's address is missing from the page")
		}
		if own := alice.get(u); own.StatusCode != http.StatusOK {
			t.Errorf("%s to its sender: %d", u, own.StatusCode)
		}
		res := carol.get(u)
		if res.StatusCode != unknown.StatusCode || res.Body != unknown.Body {
			t.Errorf("%s to a stranger: %d, not as an unknown file", u, res.StatusCode)
		}
		if anon := srv.anon(t).get(u); anon.StatusCode != http.StatusSeeOther || anon.Header.Get("Location") != "/login" {
			t.Errorf("%s signed out: %d %q", u, anon.StatusCode, anon.Header.Get("Location"))
		}
	}
	// The right id under another name is no file either, nor its preview.
	if res := alice.get(strings.Replace(urls[0], "plan.pdf", "other.pdf", 1)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a file under another name: %d", res.StatusCode)
	}
	if res := alice.get(strings.Replace(urls[1], "p.jpg", "other.exe", 1)); res.StatusCode != http.StatusNotFound {
		t.Errorf("a preview under another name: %d", res.StatusCode)
	}
}

// TestFilesRefused: every bad file is refused with its reason, and
// nothing of the post is stored: no entry, no byte of any file.
func TestFilesRefused(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withUploadLimit(64<<10))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	ctx := context.Background()
	// The page checks the same limit before it sends.
	if got := alice.get(room).doc(t).Find("form#compose").AttrOr("data-upload-limit", ""); got != "65536" {
		t.Errorf("the compose form's data-upload-limit: %q, want 65536", got)
	}
	eleven := make([]upFile, 11)
	for i := range eleven {
		eleven[i] = upFile{name: fmt.Sprintf("f%d.txt", i), data: []byte("hello")}
	}
	for _, c := range []struct {
		name   string
		text   string
		files  []upFile
		status int
		reason string
	}{
		{"no text and no file", " ", nil, 422, "empty"},
		{"an empty file", "", []upFile{{name: "empty.txt"}}, 422, "empty.txt is empty"},
		{"an empty file beside a good one", "hi", []upFile{{name: "a.pdf", data: pdfBytes}, {name: "b.txt"}}, 422, "b.txt is empty"},
		{"a file past the limit", "", []upFile{{name: "big.bin", data: make([]byte, 64<<10+1)}}, 413, "files are at most 64 KB"},
		{"eleven files", "", eleven, 422, "At most 10 files"},
		{"a raw NUL in a name", "", []upFile{{name: "a\x00b.txt", data: []byte("x")}}, 400, "The form could not be read"},
		{"a NUL in an encoded name", "", []upFile{{disposition: `form-data; name="file"; filename*=utf-8''a%00b.txt`, data: []byte("x")}}, 422, "control or invisible"},
		{"a direction override in a name", "", []upFile{{name: "gpj.\u202eexe", data: []byte("x")}}, 422, "control or invisible"},
		{"a 50,000 × 50,000 PNG", "", []upFile{{name: "huge.png", ctype: "image/png", data: claimSize(pngOf(2, 2), 50000, 50000)}}, 422, "too large a picture"},
	} {
		t.Run(c.name, func(t *testing.T) {
			before := alice.lastEntryID(room)
			res := alice.postFiles(room, c.text, c.files, "HX-Request", "true")
			if res.StatusCode != c.status || !strings.Contains(res.Body, c.reason) {
				t.Errorf("%d %q; want %d with %q", res.StatusCode, res.Body, c.status, c.reason)
			}
			if after := alice.lastEntryID(room); after != before {
				t.Errorf("an entry was stored: %d → %d", before, after)
			}
			if n, err := srv.Store.UploadedToday(ctx, userID(t, srv, "alice")); err != nil || n != 0 {
				t.Errorf("%d bytes of files kept (%v)", n, err)
			}
		})
	}
	// A body past what any post may carry is refused before it is read;
	// one of unknown length gets the common limit.
	const form = "multipart/form-data; boundary=x"
	if res := announceBody(t, srv, room+"/messages", alice.cookie("chat_session").Value, form, 10*(64<<10)+(1<<20)+1); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a body past the limit of a post: %d", res.StatusCode)
	}
	if res := announceBody(t, srv, room+"/messages", "", form, 1<<20); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a large body signed out: %d", res.StatusCode)
	}
}

// TestFilesByTheirBytes: what a file is comes from its bytes: an SVG, an
// HTML page dressed as a PNG, a text said to be a picture are downloads,
// never shown in the chat's origin; a zip bomb is kept as the bytes sent,
// never inflated; a path or an over-long name is cut to a name.
func TestFilesByTheirBytes(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	var bomb bytes.Buffer
	zw := zip.NewWriter(&bomb)
	w, _ := zw.Create("zeros.bin")
	w.Write(make([]byte, 50<<20))
	zw.Close()
	long := strings.Repeat("n", 300) + ".txt"
	for _, c := range []struct {
		name, ctype string
		data        []byte
		keptAs      string
		notType     string
	}{
		{"drawing.svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><script>alert(2)</script></svg>`), "drawing.svg", "svg"},
		{"page.png", "image/png", append([]byte("\x89PNG\r\n\x1a\n"), []byte("<html><script>alert(document.cookie)</script></html>")...), "page.png", "image/png"},
		{"page.html", "text/html", []byte("<!doctype html><script>alert(1)</script>"), "page.html", "html"},
		{"notes.png", "image/png", []byte("just some words, not a picture"), "notes.png", "image"},
		{"bomb.zip", "application/zip", bomb.Bytes(), "bomb.zip", "image"},
		{`C:\Users\alice\..\..\report.txt`, "text/plain", []byte("the report"), "report.txt", "image"},
		{"../../../etc/passwd", "text/plain", []byte("root:x:0:0"), "passwd", "image"},
		{long, "text/plain", []byte("long"), strings.Repeat("n", 115) + "….txt", "image"},
	} {
		res := alice.postFiles(room, "", []upFile{{name: c.name, ctype: c.ctype, data: c.data}})
		if res.StatusCode != http.StatusSeeOther {
			t.Errorf("%q: %d %s", c.name, res.StatusCode, res.Body)
			continue
		}
		a := alice.get(room).doc(t).Find("#messages .entry").Last().Find(".attachment")
		if a.HasClass("attachment-picture") || a.Find("img").Length() > 0 {
			t.Errorf("%q is shown as a picture", c.name)
		}
		href := a.AttrOr("href", "")
		res = alice.get(href)
		if res.StatusCode != http.StatusOK || res.Body != string(c.data) {
			t.Errorf("%q: %d, %d bytes back of %d", c.name, res.StatusCode, len(res.Body), len(c.data))
		}
		if cd := res.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment") || !strings.Contains(cd, strings.TrimSuffix(c.keptAs, "….txt")) {
			t.Errorf("%q: Content-Disposition %q, want an attachment named %q", c.name, cd, c.keptAs)
		}
		if ct := res.Header.Get("Content-Type"); strings.Contains(ct, c.notType) {
			t.Errorf("%q served as %q", c.name, ct)
		}
		if name, _ := url.PathUnescape(href[strings.LastIndex(href, "/")+1:]); name != c.keptAs {
			t.Errorf("%q kept as %q, want %q", c.name, name, c.keptAs)
		}
	}
}

// TestFilesQuota: past a user's daily quota, a post with files is refused
// with what was used, and nothing of it is stored.
func TestFilesQuota(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withUploadQuota(10<<10))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	six := bytes.Repeat([]byte("six KB.."), 6<<10/8)
	if res := alice.postFiles(room, "", []upFile{{name: "one.txt", data: six}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("first file: %d %s", res.StatusCode, res.Body)
	}
	before := alice.lastEntryID(room)
	res := alice.postFiles(room, "and more", []upFile{{name: "two.txt", data: six}}, "HX-Request", "true")
	if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(res.Body, "daily limit is 10 KB") {
		t.Errorf("past the quota: %d %s", res.StatusCode, res.Body)
	}
	if alice.lastEntryID(room) != before {
		t.Error("a post was stored past the quota")
	}
	if n, _ := srv.Store.UploadedToday(context.Background(), userID(t, srv, "alice")); n != int64(len(six)) {
		t.Errorf("%d bytes kept, want %d", n, len(six))
	}
}

// TestFilesFromBots: a bot attaches files through the API.
func TestFilesFromBots(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	room := root.createRoom("general")
	token := createBot(t, root, "reporter", "")
	if res := root.post("/admin/bots/reporter/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bot into room: %d", res.StatusCode)
	}
	body, ctype := multipartBody(map[string]string{"text": "Nightly report"}, []upFile{{name: "report.pdf", data: pdfBytes}})
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api"+room+"/messages", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	res := srv.anon(t).do(req)
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("bot's post with a file: %d %s", res.StatusCode, res.Body)
	}
	e := root.get(room).doc(t).Find(`#messages [data-author="reporter"]`)
	if e.Find(".text").Text() != "Nightly report" || !strings.Contains(e.Find(".attachment").Text(), "report.pdf") {
		t.Errorf("bot's entry: %q / %q", e.Find(".text").Text(), e.Find(".attachment").Text())
	}
	// A large file, past the common limit of a body: the bot's token
	// gets its upload a place before the body is read.
	big := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	body, ctype = multipartBody(nil, []upFile{{name: "dump.bin", data: big}})
	req, _ = http.NewRequest(http.MethodPost, srv.URL+"/api"+room+"/messages", body)
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	if res := srv.anon(t).do(req); res.StatusCode != http.StatusCreated {
		t.Fatalf("bot's large file: %d %s", res.StatusCode, res.Body)
	}
	href := root.get(room).doc(t).Find(`#messages [data-author="reporter"] .attachment`).Last().AttrOr("href", "")
	if got := root.get(href); got.StatusCode != http.StatusOK || got.Body != string(big) {
		t.Errorf("the bot's large file back: %d, %d bytes", got.StatusCode, len(got.Body))
	}
	// Without a token, a large body is not even read.
	if res := announceBody(t, srv, "/api"+room+"/messages", "", "multipart/form-data; boundary=x", 1<<20); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a large body without a token: %d", res.StatusCode)
	}
}

// TestFilesLiveWithTheirPost: an edit keeps a post's files; deleting the
// post deletes them; search finds a post by its file's name.
func TestFilesLiveWithTheirPost(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	if res := alice.postFiles(room, "draft", []upFile{{name: "quarterly-figures.pdf", data: pdfBytes}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("post: %d", res.StatusCode)
	}
	id := alice.lastEntryID(room)
	href := alice.get(room).doc(t).Find(".attachment").AttrOr("href", "")
	live := alice.dial(room, -1).settle()
	if res := alice.post("/messages/"+strconv.FormatInt(id, 10)+"/edit", url.Values{"text": {"final"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	edited := live.next("[data-edited]", 10*time.Second)
	if edited.Find(".attachment").AttrOr("href", "") != href {
		t.Errorf("the edited entry lost its file: %q", edited.Find(".attachment").AttrOr("href", ""))
	}
	// A post of files may lose its words; a post of words alone may not.
	if res := alice.post("/messages/"+strconv.FormatInt(id, 10)+"/edit", url.Values{"text": {"  "}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a file's caption edited away: %d %s", res.StatusCode, res.Body)
	}
	if e := alice.get(room).doc(t).Find("#msg-" + strconv.FormatInt(id, 10)); e.Find(".text").Length() != 0 || e.Find(".attachment").Length() != 1 {
		t.Errorf("without its caption: %d texts, %d files", e.Find(".text").Length(), e.Find(".attachment").Length())
	}
	alice.post(room+"/messages", url.Values{"text": {"words only"}})
	words := alice.lastEntryID(room)
	if res := alice.post("/messages/"+strconv.FormatInt(words, 10)+"/edit", url.Values{"text": {" "}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a post of words edited to nothing: %d", res.StatusCode)
	}
	hits := alice.get("/search?q=quarterly").doc(t).Find("#results .entry")
	if hits.Length() != 1 || hits.Find(".attachment").Length() != 1 {
		t.Errorf("search by the file's name: %d hits", hits.Length())
	}
	if res := alice.post("/messages/"+strconv.FormatInt(id, 10)+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := alice.get(href); res.StatusCode != http.StatusNotFound {
		t.Errorf("a deleted post's file: %d", res.StatusCode)
	}
	if n, _ := srv.Store.UploadedToday(context.Background(), userID(t, srv, "alice")); n != 0 {
		t.Errorf("%d bytes kept after the post was deleted", n)
	}
}

// rawPost sends a body as it is to a room's compose address, as alice,
// and returns the answer's status.
func rawPost(t *testing.T, srv *testServer, room, cookie, ctype string, body []byte) int {
	t.Helper()
	req := "POST " + room + "/messages HTTP/1.1\r\nHost: " + srv.Host + "\r\nOrigin: " + srv.URL +
		"\r\nCookie: chat_session=" + cookie + "\r\nContent-Type: " + ctype +
		"\r\nContent-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n"
	return rawExchange(t, srv.Host, append([]byte(req), body...)).StatusCode
}

// TestFilesPlacesGivenBack: a large form the server cannot read gives its
// place back at once (the user's next upload is taken), and a small form
// needs none (many at once all land).
func TestFilesPlacesGivenBack(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withBodyLimit(64<<10))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	cookie := alice.cookie("chat_session").Value
	// No closing boundary: fasthttp cannot read the form (400).
	broken := append([]byte("--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.bin\"\r\n\r\n"), make([]byte, 100<<10)...)
	for range 3 { // more than a user's places
		if got := rawPost(t, srv, room, cookie, "multipart/form-data; boundary=x", broken); got != http.StatusBadRequest {
			t.Fatalf("a broken form: %d", got)
		}
	}
	if res := alice.postFiles(room, "", []upFile{{name: "big.bin", data: make([]byte, 100<<10)}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("an upload after broken ones: %d %s", res.StatusCode, res.Body)
	}
	// With both her places held by uploads under way, a small form needs
	// none, and lands.
	for range 2 {
		conn, err := net.Dial("tcp", srv.Host)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(time.Minute))
		head := "POST " + room + "/messages HTTP/1.1\r\nHost: " + srv.Host + "\r\nOrigin: " + srv.URL +
			"\r\nCookie: chat_session=" + cookie + "\r\nContent-Type: multipart/form-data; boundary=x" +
			"\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n"
		conn.Write([]byte(head))
		// 100 Continue: the headers were read, and the place taken.
		if line, err := bufio.NewReader(conn).ReadString('\n'); err != nil || !strings.Contains(line, "100 Continue") {
			t.Fatalf("an upload's headers: %q %v", line, err)
		}
		conn.Write(broken[:1000])
	}
	// A third asks before sending its body: refused from its headers, it
	// sends none (a client that sent it anyway could meet the closed
	// connection before reading the answer).
	third, err := net.Dial("tcp", srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer third.Close()
	third.SetDeadline(time.Now().Add(time.Minute))
	third.Write([]byte("POST " + room + "/messages HTTP/1.1\r\nHost: " + srv.Host + "\r\nOrigin: " + srv.URL +
		"\r\nCookie: chat_session=" + cookie + "\r\nContent-Type: multipart/form-data; boundary=x" +
		"\r\nContent-Length: 200000\r\nExpect: 100-continue\r\n\r\n"))
	r := bufio.NewReader(third)
	res, err := http.ReadResponse(r, nil)
	for err == nil && res.StatusCode == http.StatusContinue {
		res, err = http.ReadResponse(r, nil)
	}
	if err != nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third large upload: %v %v, want 429", res, err)
	}
	if res := alice.postFiles(room, "small", []upFile{{name: "s.txt", data: []byte("tiny")}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a small form beside two uploads: %d %s", res.StatusCode, res.Body)
	}
}

// TestFilesTextNotEchoedWhole: a form's text far past a post's length is
// refused, and what comes back is no larger than a post may be.
func TestFilesTextNotEchoedWhole(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	text := strings.Repeat("a", 2<<20)
	res := alice.postFiles(room, text, []upFile{{name: "a.txt", data: []byte("hello")}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "at most 4000 characters") {
		t.Fatalf("a 2 MB text: %d", res.StatusCode)
	}
	if got := res.doc(t).Find("textarea[name=text]").Text(); len(got) != 4000 {
		t.Errorf("%d bytes of the text came back, want the 4000 a post may hold", len(got))
	}
	if len(res.Body) > 100<<10 {
		t.Errorf("the answer is %d bytes", len(res.Body))
	}
}

// userID is the id of a user of the server.
func userID(t *testing.T, srv *testServer, name string) int64 {
	t.Helper()
	u, err := srv.Store.FindUserByUsername(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	return u.ID
}
