package handlers_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/handlers"
	"chat/internal/testutil"
	"chat/views"
)

func withWebhooks(allow ...string) serverOption {
	return func(d *handlers.Deps) {
		d.WebhookAllow = allow
		d.WebhookTimeout = 300 * time.Millisecond
		d.WebhookBackoff = 50 * time.Millisecond
	}
}

func TestAdminRoutesRefuseOthers(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // the first account: an admin
	bob := srv.register(t, "bob")
	room := root.createRoom("general")
	if res := root.get("/admin"); res.StatusCode != http.StatusOK || res.doc(t).Find(`tr[data-user="bob"]`).Length() != 1 {
		t.Fatalf("admin page for an admin: %d", res.StatusCode)
	}
	routes := []struct {
		path string
		form url.Values
	}{
		{"/admin/users/root/deactivate", nil},
		{"/admin/users/bob/admin", nil},
		{"/admin/users/root/reset", nil},
		{"/admin/bots", url.Values{"name": {"sneaky"}}},
		{"/admin/bots/sneaky/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}},
	}
	if res := bob.get("/admin"); res.StatusCode != http.StatusForbidden {
		t.Errorf("GET /admin by a non-admin: %d", res.StatusCode)
	}
	for _, r := range routes {
		if res := bob.post(r.path, r.form); res.StatusCode != http.StatusForbidden {
			t.Errorf("%s by a non-admin: %d", r.path, res.StatusCode)
		}
		if res := srv.anon(t).post(r.path, r.form); res.StatusCode != http.StatusSeeOther {
			t.Errorf("%s signed out: %d", r.path, res.StatusCode)
		}
	}
	// Nothing changed.
	users, _ := srv.Store.ListUsers(context.Background())
	for _, u := range users {
		if u.Deactivated || u.IsBot || (u.Username == "bob" && u.IsAdmin) {
			t.Errorf("a refused route changed %+v", u)
		}
	}
	// An admin makes bob an admin; then he may.
	if res := root.post("/admin/users/bob/admin", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("make admin: %d", res.StatusCode)
	}
	if res := bob.get("/admin"); res.StatusCode != http.StatusOK {
		t.Errorf("the new admin gets %d", res.StatusCode)
	}
	if res := root.post("/admin/users/root/deactivate", nil); res.StatusCode != http.StatusConflict {
		t.Errorf("deactivating oneself: %d", res.StatusCode)
	}
	if res := root.post("/admin/users/nobody/deactivate", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("deactivating no one: %d", res.StatusCode)
	}
}

func TestDeactivate(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	bob := srv.register(t, "bob")
	room := root.createRoom("general")
	bob.post(room+"/join", nil)
	id := postID(t, bob, room, "still here after I go")
	ws := bob.dial(room, -1).settle()

	if res := root.post("/admin/users/bob/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	if code := ws.closeCode(long); code != 1008 {
		t.Errorf("bob's socket closed with %d, want 1008 at once", code)
	}
	if res := bob.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("bob's session still works: %d", res.StatusCode)
	}
	again := srv.anon(t)
	if res := again.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusForbidden ||
		!strings.Contains(res.Body, "deactivated") {
		t.Errorf("bob's login: %d", res.StatusCode)
	}
	if res := again.post("/login", url.Values{"username": {"bob"}, "password": {"wrong password"}}); res.StatusCode != http.StatusUnauthorized ||
		strings.Contains(res.Body, "deactivated") {
		t.Errorf("a wrong password for bob: %d (tells the account state?)", res.StatusCode)
	}
	if m, err := srv.Store.FindMessage(context.Background(), id); err != nil || m.Text != "still here after I go" {
		t.Errorf("bob's history: %v %v", m, err)
	}
	if res := root.post("/users/bob/dm", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("a dm to a deactivated user: %d", res.StatusCode)
	}
	if res := root.get("/admin"); res.doc(t).Find(`tr[data-user="bob"][data-deactivated]`).Length() != 1 {
		t.Error("the admin page does not show bob deactivated")
	}
}

func TestResetLink(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	bob := srv.register(t, "bob")
	room := root.createRoom("general")
	ws := bob.dial(room, -1).settle()
	res := root.post("/admin/users/bob/reset", nil)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("reset link: %d", res.StatusCode)
	}
	link := res.doc(t).Find("#reset-link").Text()
	u, err := url.Parse(link)
	if err != nil || !strings.HasPrefix(u.Path, "/reset/") || u.Host != "" {
		t.Fatalf("link %q", link)
	}
	if strings.Contains(srv.Logs.String(), strings.TrimPrefix(u.Path, "/reset/")) {
		t.Error("the reset token is in the logs")
	}
	anon := srv.anon(t)
	if res := anon.get(u.Path); res.StatusCode != http.StatusOK || res.doc(t).Find(`input[name=password]`).Length() != 1 {
		t.Fatalf("reset form: %d", res.StatusCode)
	}
	if res := anon.post(u.Path, url.Values{"password": {"short"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a short password: %d", res.StatusCode)
	}
	if res := anon.post(u.Path, url.Values{"password": {"a brand new one"}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("reset: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if code := ws.closeCode(long); code != 1008 {
		t.Errorf("bob's socket closed with %d after the reset", code)
	}
	if res := bob.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("bob's old session: %d", res.StatusCode)
	}
	login := srv.anon(t)
	if res := login.post("/login", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("the old password: %d", res.StatusCode)
	}
	if res := login.post("/login", url.Values{"username": {"bob"}, "password": {"a brand new one"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the new password: %d", res.StatusCode)
	}
	for _, path := range []string{u.Path, "/reset/nonsense"} {
		if res := anon.get(path); res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s again: %d", path, res.StatusCode)
		}
		if res := anon.post(path, url.Values{"password": {"yet another one"}}); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST %s again: %d", path, res.StatusCode)
		}
	}
	if res := anon.post(u.Path, url.Values{"password": {"from elsewhere!"}}, "Origin", "https://evil.example"); res.StatusCode != http.StatusForbidden {
		t.Errorf("a cross-site reset: %d", res.StatusCode)
	}
}

func TestDirectMessages(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	alice.createRoom("general")
	res := alice.post("/users/bob/dm", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("open dm: %d", res.StatusCode)
	}
	dm := res.Header.Get("Location")
	if res := alice.post("/users/BOB/dm", nil); res.Header.Get("Location") != dm {
		t.Errorf("the same pair again: %s, want %s", res.Header.Get("Location"), dm)
	}
	if res := bob.post("/users/alice/dm", nil); res.Header.Get("Location") != dm {
		t.Errorf("the other way round: %s, want %s", res.Header.Get("Location"), dm)
	}
	if res := alice.post("/users/alice/dm", nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a dm to oneself: %d", res.StatusCode)
	}
	if res := alice.post("/users/nobody/dm", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("a dm to no one: %d", res.StatusCode)
	}
	ws := bob.dial(dm, -1).settle()
	id := postID(t, alice, dm, "just between us")
	ws.next("#"+views.MessageID(id), long)

	// A third user: refused everywhere; an entry's own routes answer as
	// for an entry that does not exist (TestStrangerCannotTellDMEntries).
	for path, want := range map[string]int{
		dm:                                       http.StatusForbidden,
		dm + "/messages?before=999":              http.StatusForbidden,
		dm + "/messages?after=0":                 http.StatusForbidden,
		dm + "/at/" + strconv.FormatInt(id, 10):  http.StatusNotFound,
		dm + "/mentions?q=a":                     http.StatusForbidden,
		"/messages/" + strconv.FormatInt(id, 10): http.StatusNotFound,
	} {
		if res := carol.get(path, "HX-Request", "true"); res.StatusCode != want {
			t.Errorf("carol GET %s: %d, want %d", path, res.StatusCode, want)
		}
	}
	if _, res, err := carol.tryDial(dm, -1, srv.URL); err == nil || res == nil || res.StatusCode != http.StatusForbidden {
		t.Errorf("carol's socket: %v %v", err, res)
	}
	// A refused reaction shows no one else's direct message either.
	if res := carol.post("/messages/"+strconv.FormatInt(id, 10)+"/boosts", url.Values{"emoji": {""}}); res.StatusCode != http.StatusNotFound || strings.Contains(res.Body, "between us") {
		t.Errorf("carol's bad reaction to a dm post: %d, shows it: %v", res.StatusCode, strings.Contains(res.Body, "between us"))
	}
	for _, path := range []string{dm + "/messages", dm + "/join"} {
		if res := carol.post(path, url.Values{"text": {"hi"}}); res.StatusCode != http.StatusForbidden {
			t.Errorf("carol POST %s: %d", path, res.StatusCode)
		}
	}
	if res := bob.post(dm+"/leave", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("leaving a dm: %d", res.StatusCode)
	}
	if hits := carol.get("/search?q=between").doc(t).Find("#results [id^=msg-]").Length(); hits != 0 {
		t.Errorf("carol finds %d dm posts", hits)
	}
	if hits := bob.get("/search?q=between").doc(t).Find("#results [id^=msg-]").Length(); hits != 1 {
		t.Errorf("bob finds %d dm posts", hits)
	}
	// Listed apart from rooms, named after the other one, never in the
	// lobby's list of rooms.
	lobby := alice.get("/").doc(t)
	if lobby.Find(`.lobby-rooms a[href="`+dm+`"], #room-list a[href="`+dm+`"]`).Length() != 0 {
		t.Error("the dm is listed as a room")
	}
	if l := lobby.Find(`#dm-list a[href="` + dm + `"]`); l.Text() != "bob" {
		t.Errorf("alice's dm list: %q", l.Text())
	}
	if l := bob.get("/").doc(t).Find(`#dm-list a[href="` + dm + `"] [data-dm-name]`); l.Text() != "alice" {
		t.Errorf("bob's dm list: %q", l.Text())
	}
	if carol.get("/").doc(t).Find(`a[href="`+dm+`"]`).Length() != 0 {
		t.Error("carol sees the dm")
	}
	// Unread, for bob, until he looks.
	ws.conn.Close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 0 }, "bob's socket is still held")
	postID(t, alice, dm, "are you there?")
	if bob.get("/").doc(t).Find(`#dm-list a[href="`+dm+`"][data-unread]`).Length() != 1 {
		t.Error("the dm is not marked unread for bob")
	}
	page := bob.get(dm).doc(t)
	if strings.TrimSpace(page.Find("h1.dm-title").Text()) != "alice" || page.Find(`form[action$="/leave"]`).Length() != 0 {
		t.Errorf("dm page title %q", page.Find("h1").Text())
	}
	if bob.get("/").doc(t).Find(`#dm-list a[data-unread]`).Length() != 0 {
		t.Error("still unread after looking")
	}
	// A profile offers to write.
	if f := carol.get("/users/alice").doc(t).Find(`form[action="/users/alice/dm"] button`); f.Length() != 1 {
		t.Error("no way to write to alice from her profile")
	}
}

func pngOf(w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		for y := range h {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	png.Encode(&b, img)
	return b.Bytes()
}

// claimSize rewrites a PNG's header to claim another size, with the
// header's checksum made right.
func claimSize(p []byte, w, h uint32) []byte {
	p = bytes.Clone(p)
	binary.BigEndian.PutUint32(p[16:20], w)
	binary.BigEndian.PutUint32(p[20:24], h)
	binary.BigEndian.PutUint32(p[29:33], crc32.ChecksumIEEE(p[12:29]))
	return p
}

func (c *client) upload(path, field, name string, data []byte) response {
	c.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, _ := mw.CreateFormFile(field, name)
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", c.srv.URL)
	return c.do(req)
}

func TestAvatarUpload(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	var jpg, gifb bytes.Buffer
	jpeg.Encode(&jpg, image.NewRGBA(image.Rect(0, 0, 640, 480)), nil)
	gif.Encode(&gifb, image.NewPaletted(image.Rect(0, 0, 10, 10), []color.Color{color.Black}), nil)
	// PNG headers that claim 9,000 × 9,000 pixels (81 million) and
	// 20,000 × 1: refused before their pixels are read.
	bomb := claimSize(pngOf(2, 2), 9000, 9000)
	long := claimSize(pngOf(2, 2), 20000, 1)

	for _, c := range []struct {
		name   string
		data   []byte
		status int
	}{
		{"a.gif", gifb.Bytes(), http.StatusUnprocessableEntity},
		{"a.png", []byte("not a picture at all"), http.StatusUnprocessableEntity},
		{"bomb.png", bomb, http.StatusUnprocessableEntity},
		{"long.png", long, http.StatusUnprocessableEntity},
		{"huge.png", bytes.Repeat([]byte{1}, 2<<20+1), http.StatusRequestEntityTooLarge},
	} {
		res := alice.upload("/account/avatar", "avatar", c.name, c.data)
		if res.StatusCode != c.status {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.status)
		}
		if (c.name == "bomb.png" || c.name == "long.png") && !strings.Contains(res.Body, "too large") {
			t.Errorf("%s: refused for another reason than its size", c.name)
		}
	}
	if res := alice.get("/users/alice/avatar"); !strings.HasPrefix(res.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("after refusals the avatar is %s", res.Header.Get("Content-Type"))
	}
	for _, c := range []struct {
		name string
		data []byte
	}{{"wide.png", pngOf(300, 200)}, {"photo.jpg", jpg.Bytes()}} {
		if res := alice.upload("/account/avatar", "avatar", c.name, c.data); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("%s: %d %s", c.name, res.StatusCode, res.Body)
		}
		res := srv.register(t, "v"+strings.TrimSuffix(c.name, ".png")[:3]).get("/users/alice/avatar")
		if res.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s: served as %s", c.name, res.Header.Get("Content-Type"))
		}
		img, err := png.Decode(strings.NewReader(res.Body))
		if err != nil || img.Bounds().Dx() != 128 || img.Bounds().Dy() != 128 {
			t.Errorf("%s: served %v %v", c.name, img.Bounds(), err)
		}
		etag := res.Header.Get("ETag")
		if again := alice.get("/users/alice/avatar", "If-None-Match", etag); again.StatusCode != http.StatusNotModified {
			t.Errorf("revalidation: %d", again.StatusCode)
		}
	}
	if res := alice.post("/account/avatar/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if res := alice.get("/users/alice/avatar"); !strings.HasPrefix(res.Header.Get("Content-Type"), "image/svg+xml") {
		t.Errorf("after delete: %s", res.Header.Get("Content-Type"))
	}
	// Elsewhere the body limit holds.
	if res := announceBody(t, srv, "/rooms", alice.cookie("chat_session").Value, "application/x-www-form-urlencoded", 300<<10); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a large body elsewhere: %d", res.StatusCode)
	}
}

// hook is a webhook receiver on loopback.
type hook struct {
	srv   *httptest.Server
	calls atomic.Int32
	mu    sync.Mutex
	got   []map[string]any
}

func newHook(t *testing.T, answer func(w http.ResponseWriter, payload map[string]any)) *hook {
	h := &hook{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.calls.Add(1)
		var p map[string]any
		body, _ := io.ReadAll(r.Body)
		json.Unmarshal(body, &p)
		h.mu.Lock()
		h.got = append(h.got, p)
		h.mu.Unlock()
		answer(w, p)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) payloads() []map[string]any {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]map[string]any(nil), h.got...)
}

// createBot makes a bot through the admin page and returns its token.
func createBot(t *testing.T, admin *client, name, webhook string) string {
	t.Helper()
	res := admin.post("/admin/bots", url.Values{"name": {name}, "webhook_url": {webhook}})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("create bot %s: %d %s", name, res.StatusCode, res.Body)
	}
	token := res.doc(t).Find("#bot-token").Text()
	if token == "" {
		t.Fatal("no token shown")
	}
	return token
}

func (c *client) api(path, token, body string) response {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return c.do(req)
}

func TestBotAPI(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withWebhooks("127.0.0.1"))
	root := srv.register(t, "root")
	room := root.createRoom("general")
	other := root.createRoom("elsewhere")
	token := createBot(t, root, "helper", "")
	if users, _ := srv.Store.ListUsers(context.Background()); !strings.Contains(srv.Logs.String(), "bot created") || strings.Contains(srv.Logs.String(), token) || len(users) != 2 {
		t.Error("the token is in the logs, or the bot was not made")
	}
	if res := root.post("/admin/bots/helper/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("bot to room: %d", res.StatusCode)
	}
	ws := root.dial(room, -1).settle()
	anon := srv.anon(t)
	res := anon.api("/api"+room+"/messages", token, "Beep, @root.")
	if res.StatusCode != http.StatusCreated {
		t.Fatalf("bot post: %d %s", res.StatusCode, res.Body)
	}
	var created struct{ ID int64 }
	json.Unmarshal([]byte(res.Body), &created)
	if res.Header.Get("Location") != views.PermalinkURL(roomNumber(t, room), created.ID) || res.Header.Get("Content-Type") != "application/json" {
		t.Errorf("answer headers %v", res.Header)
	}
	e := ws.next("#"+views.MessageID(created.ID), long)
	if e.AttrOr("data-author", "") != "helper" || e.Find(".text").Text() != "Beep, @root." || e.Find(".mention[data-user=root]").Length() != 1 {
		t.Errorf("pushed bot post: %q by %q", e.Find(".text").Text(), e.AttrOr("data-author", ""))
	}
	for _, c := range []struct {
		name, path, token, body string
		status                  int
	}{
		{"no token", "/api" + room + "/messages", "", "x", http.StatusUnauthorized},
		{"bad token", "/api" + room + "/messages", token + "x", "x", http.StatusUnauthorized},
		{"not a member", "/api" + other + "/messages", token, "x", http.StatusForbidden},
		{"no room", "/api/rooms/999/messages", token, "x", http.StatusNotFound},
		{"empty", "/api" + room + "/messages", token, "  ", http.StatusUnprocessableEntity},
		{"too long", "/api" + room + "/messages", token, strings.Repeat("y", 4001), http.StatusUnprocessableEntity},
	} {
		if res := anon.api(c.path, c.token, c.body); res.StatusCode != c.status {
			t.Errorf("%s: %d, want %d (%s)", c.name, res.StatusCode, c.status, res.Body)
		}
	}
	// A bot cannot sign in with a password, nor use a page.
	if res := anon.post("/login", url.Values{"username": {"helper"}, "password": {"anything at all"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("bot login: %d", res.StatusCode)
	}
	// Its direct messages with a user.
	res = anon.api("/api/users/root/dm", token, "")
	var dm struct{ Room int64 }
	if res.StatusCode != http.StatusOK || json.Unmarshal([]byte(res.Body), &dm) != nil || dm.Room == 0 {
		t.Fatalf("bot dm: %d %s", res.StatusCode, res.Body)
	}
	if res := anon.api("/api/rooms/"+strconv.FormatInt(dm.Room, 10)+"/messages", token, "psst"); res.StatusCode != http.StatusCreated {
		t.Errorf("bot writes to root: %d", res.StatusCode)
	}
	if l := root.get("/").doc(t).Find(`#dm-list a[href="/rooms/` + strconv.FormatInt(dm.Room, 10) + `"] [data-dm-name]`); l.Text() != "helper" {
		t.Errorf("root's dm list: %q", l.Text())
	}
	// Revoked: the bot deactivated, its token stops.
	root.post("/admin/users/helper/deactivate", nil)
	if res := anon.api("/api"+room+"/messages", token, "still here?"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("revoked token: %d", res.StatusCode)
	}
	// Webhooks only to allowed hosts.
	for _, hook := range []string{"http://169.254.169.254/latest", "http://localhost:1/x", "ftp://127.0.0.1/x", "http://user:pw@127.0.0.1/x"} {
		if res := root.post("/admin/bots", url.Values{"name": {"other"}, "webhook_url": {hook}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("webhook %s: %d", hook, res.StatusCode)
		}
	}
	if res := root.post("/admin/bots", url.Values{"name": {"root"}}); res.StatusCode != http.StatusConflict {
		t.Errorf("a taken bot name: %d", res.StatusCode)
	}
}

func TestWebhooks(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withWebhooks("127.0.0.1"))
	root := srv.register(t, "root")
	bob := srv.register(t, "bob")
	room := root.createRoom("general")
	bob.post(room+"/join", nil)
	roomNo := strings.TrimPrefix(room, "/rooms/")

	echo := newHook(t, func(w http.ResponseWriter, p map[string]any) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		msg, _ := p["message"].(map[string]any)
		io.WriteString(w, "echo: "+msg["text"].(string))
	})
	// Hangs past the calls' timeout: the behaviour under test, no synchronization.
	hang := newHook(t, func(w http.ResponseWriter, p map[string]any) { time.Sleep(2 * time.Second) })
	garbage := newHook(t, func(w http.ResponseWriter, p map[string]any) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Write([]byte{0xff, 0xfe, 0, 1})
	})
	failing := newHook(t, func(w http.ResponseWriter, p map[string]any) { http.Error(w, "down", http.StatusBadGateway) })
	for name, h := range map[string]*hook{"echo": echo, "hang": hang, "garbage": garbage, "failing": failing} {
		createBot(t, root, name, h.srv.URL+"/hook")
		root.post("/admin/bots/"+name+"/rooms", url.Values{"room": {roomNo}})
	}
	ws := bob.dial(room, -1).settle()

	// A mention: the bot is told, and its answer is its post.
	id := postID(t, bob, room, "hello @echo")
	answer := ws.next(`[data-author="echo"][data-kind=post]`, long)
	if answer.Find(".text").Text() != "echo: hello @echo" {
		t.Errorf("the bot answered %q", answer.Find(".text").Text())
	}
	p := echo.payloads()[0]
	msg, _ := p["message"].(map[string]any)
	if p["room"] != float64(roomNumber(t, room)) || msg["id"] != float64(id) || msg["author"] != "bob" || msg["text"] != "hello @echo" {
		t.Errorf("payload %v", p)
	}
	if _, err := time.Parse(time.RFC3339, msg["time"].(string)); err != nil {
		t.Errorf("time %v", msg["time"])
	}
	// A direct message to the bot.
	dm := bob.post("/users/echo/dm", nil).Header.Get("Location")
	dmWS := bob.dial(dm, -1).settle()
	postID(t, bob, dm, "just you and me")
	if got := dmWS.next(`[data-author="echo"]`, long).Find(".text").Text(); got != "echo: just you and me" {
		t.Errorf("dm answer %q", got)
	}
	// Its own post in the room mentions nothing it answers: no loop. The
	// answer in the direct messages came after that post, so any call the
	// post made came before: two calls.
	if n := echo.calls.Load(); n != 2 {
		t.Errorf("echo was called %d times, want 2", n)
	}

	// A hanging webhook: the room goes on; the call gives up, is tried
	// again a bounded number of times, and the failure is logged.
	postID(t, bob, room, "@hang are you there?")
	began := time.Now()
	next := postID(t, bob, room, "the room goes on")
	ws.next("#"+views.MessageID(next), 2*time.Second)
	if took := time.Since(began); took > time.Second {
		t.Errorf("a post after a hanging webhook took %v", took)
	}
	// Garbage and failures: logged, nothing posted; a 5xx is tried again.
	postID(t, bob, room, "@garbage @failing speak")
	// Each gives up once it has logged its last attempt: no call after it.
	logged := func(parts ...string) bool {
		for _, line := range strings.Split(srv.Logs.String(), "\n") {
			if !slices.ContainsFunc(parts, func(p string) bool { return !strings.Contains(line, p) }) {
				return true
			}
		}
		return false
	}
	testutil.Eventually(t, long, func() bool {
		return logged("bot=hang", "attempt=3") && logged("bot=failing", "attempt=3") && logged("bot=garbage", "attempt=1")
	}, "the webhooks' last attempts were not logged:\n%s", srv.Logs)
	if n := hang.calls.Load(); n != 3 {
		t.Errorf("the hanging webhook was called %d times, want 3", n)
	}
	if n := failing.calls.Load(); n != 3 {
		t.Errorf("the failing webhook was called %d times, want 3", n)
	}
	if n := garbage.calls.Load(); n != 1 {
		t.Errorf("the garbage webhook was called %d times, want 1 (no retry of an answer)", n)
	}
	logs := srv.Logs.String()
	for _, want := range []string{"bot=hang", "bot=garbage", "not text/plain", "bot=failing", "502"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q", want)
		}
	}
	metrics := root.get("/metrics").Body
	for _, want := range []string{`chat_webhook_calls_total{outcome="answered"} 2`, `chat_webhook_calls_total{outcome="failed"} 7`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	msgs, _ := srv.Store.ListLatestMessages(context.Background(), roomNumber(t, room), 100)
	for _, m := range msgs {
		if m.Kind == "post" && (m.Author == "hang" || m.Author == "garbage" || m.Author == "failing") {
			t.Errorf("%s posted %q", m.Author, m.Text)
		}
	}
	// A plain post mentions no bot, and a bot mentioned where it is not (in
	// two people's direct messages) hears nothing of it.
	before := echo.calls.Load()
	postID(t, bob, room, "nothing for bots here")
	private := bob.post("/users/root/dm", nil).Header.Get("Location")
	postID(t, bob, private, "@echo must not read this")
	// A call it made would come before the answer to a later mention.
	postID(t, bob, room, "last @echo")
	ws.next(`[data-author="echo"][data-kind=post]`, long)
	if echo.calls.Load() != before+1 {
		t.Error("a post for no bot, or a private one, called a webhook")
	}
}
