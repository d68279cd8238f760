package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/internal/testnats"

	fws "github.com/fasthttp/websocket"
)

var fileHrefRE = regexp.MustCompile(`class="attachment attachment-(?:file|picture)" href="(/files/[^"]+)"`)

// TestClusterFiles: a file posted through one instance reaches a reader
// on another live, and that instance serves it, byte for byte, from the
// database they share; to a stranger there, as a file that is not.
func TestClusterFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the chat and runs two of it")
	}
	testdb.RequirePostgres(t)
	dbURL := testdb.NewPostgres(t)
	natsURL := testnats.Start(t)
	bin := buildChat(t)
	args := []string{"-db", dbURL, "-nats", natsURL}
	a, b := launchInstance(t, bin, args...), launchInstance(t, bin, args...)

	ann := signUp(t, a.base, "ann")
	bob := signUp(t, b.base, "bob")
	carol := signUp(t, b.base, "carol")
	code, room := ann.do(t, a.base, "/rooms", url.Values{"name": {"Team"}, "access": {"closed"}})
	if code != http.StatusSeeOther {
		t.Fatalf("create: %d", code)
	}
	if code, _ := ann.do(t, a.base, room+"/members", url.Values{"username": {"bob"}}); code != http.StatusSeeOther {
		t.Fatalf("add bob: %d", code)
	}
	conn, _, err := fws.DefaultDialer.Dial("ws"+strings.TrimPrefix(b.base, "http")+room+"/ws", http.Header{"Origin": {b.base}, "Cookie": {bob.cookie}})
	if err != nil {
		t.Fatalf("bob's socket on B: %v", err)
	}
	defer conn.Close()

	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		img.Set(x, x%200, color.RGBA{200, 30, 30, 255})
	}
	var pic bytes.Buffer
	png.Encode(&pic, img)
	doc := bytes.Repeat([]byte("minutes of the meeting\n"), 40000) // four chunks of the store
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("text", "from A")
	w, _ := mw.CreateFormFile("file", "chart.png")
	w.Write(pic.Bytes())
	w, _ = mw.CreateFormFile("file", "minutes.txt")
	w.Write(doc)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, a.base+room+"/messages", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", a.base)
	req.Header.Set("Cookie", ann.cookie)
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("post files on A: %v %v", err, res)
	}
	res.Body.Close()

	var hrefs []string
	conn.SetReadDeadline(time.Now().Add(long))
	for len(hrefs) == 0 {
		_, frame, err := conn.ReadMessage()
		if err != nil {
			t.Fatalf("no entry with files reached B: %v", err)
		}
		for _, m := range fileHrefRE.FindAllSubmatch(frame, -1) {
			hrefs = append(hrefs, string(m[1]))
		}
	}
	if len(hrefs) != 2 {
		t.Fatalf("%d files in the entry on B, want 2", len(hrefs))
	}
	bobB, carolB := withCookie(t, b.base, bob.cookie), withCookie(t, b.base, carol.cookie)
	for i, want := range [][]byte{pic.Bytes(), doc} {
		code, got := getBody(t, bobB, b.base+hrefs[i])
		if code != http.StatusOK || got != string(want) {
			t.Errorf("%s from B: %d, %d bytes of %d", hrefs[i], code, len(got), len(want))
		}
		if code, _ := getBody(t, carolB, b.base+hrefs[i]); code != http.StatusNotFound {
			t.Errorf("%s to a stranger on B: %d", hrefs[i], code)
		}
	}
}
