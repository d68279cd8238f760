package handlers_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"image"
	"image/png"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/handlers"
	"chat/internal/testutil"
	"chat/store"
)

// gzipBomb is a body of n zero bytes, gzipped, layers times over.
func gzipBomb(t testing.TB, n, layers int) []byte {
	t.Helper()
	var body []byte
	{
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zero := make([]byte, 1<<20)
		for left := n; left > 0; left -= len(zero) {
			if _, err := zw.Write(zero[:min(left, len(zero))]); err != nil {
				t.Fatal(err)
			}
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		body = buf.Bytes()
	}
	for range layers - 1 {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write(body)
		zw.Close()
		body = buf.Bytes()
	}
	return body
}

// multipartForm is a form with the given fields, as a browser sends one,
// and its content type.
func multipartForm(t testing.TB, fields map[string]string) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return buf.Bytes(), mw.FormDataContentType()
}

func gzipBytes(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

// TestCompressedBodiesRefused: a body sent compressed is refused with 415
// before anything reads it, on every route that reads a body, so that a
// few hundred KB on the wire can never be inflated into hundreds of MB;
// nothing is stored.
func TestCompressedBodiesRefused(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root")
	room := root.createRoom("general")
	token := createBot(t, root, "helper", "")
	if res := root.post("/admin/bots/helper/rooms", url.Values{"room": {strings.TrimPrefix(room, "/rooms/")}}); res.StatusCode >= 400 {
		t.Fatalf("bot into room: %d", res.StatusCode)
	}

	// 48 MiB of zeros in about 50 KB: inflated, 200 times the body limit.
	const inflated = 48 << 20
	bomb := gzipBomb(t, inflated, 1)
	if len(bomb) > 256<<10 {
		t.Fatalf("bomb of %d bytes: larger than the body limit", len(bomb))
	}
	// A multipart form whose one field is the bomb's text, gzipped.
	form, formType := multipartForm(t, map[string]string{"username": "mallory", "password": strings.Repeat("p", 20)})
	// The form, then 48 MiB of padding, gzipped: what a field read
	// would inflate whole.
	formBomb := gzipBytes(append(form[:len(form):len(form)], make([]byte, inflated)...))

	type attempt struct {
		name, path, ctype, encoding string
		body                        []byte
		bearer                      bool
		signedIn                    bool
	}
	attempts := []attempt{
		{"login multipart", "/login", formType, "gzip", formBomb, false, false},
		{"register multipart", "/register", formType, "gzip", formBomb, false, false},
		{"register urlencoded", "/register", "application/x-www-form-urlencoded", "gzip", gzipBytes([]byte("username=mallory&password=" + strings.Repeat("p", 20))), false, false},
		{"api plain", "/api" + room + "/messages", "text/plain", "gzip", bomb, true, false},
		{"api stacked", "/api" + room + "/messages", "text/plain", "gzip, gzip, gzip", gzipBomb(t, inflated, 3), true, false},
		{"api not gzip", "/api" + room + "/messages", "text/plain", "gzip", []byte("this is not gzip at all"), true, false},
		{"api deflate", "/api" + room + "/messages", "text/plain", "deflate", bomb, true, false},
		{"api br", "/api" + room + "/messages", "text/plain", "br", bomb, true, false},
		{"post form", room + "/messages", formType, "gzip", formBomb, false, true},
		{"avatar", "/account/avatar", formType, "gzip", formBomb, false, true},
	}

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for _, at := range attempts {
		req, err := http.NewRequest(http.MethodPost, srv.URL+at.path, bytes.NewReader(at.body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", at.ctype)
		req.Header.Set("Content-Encoding", at.encoding)
		req.Header.Set("Origin", srv.URL)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		c := srv.anon(t)
		if at.signedIn {
			c = root
		}
		if at.bearer {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res := c.do(req)
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("%s: %d, want 415 (%.200s)", at.name, res.StatusCode, res.Body)
		}
		if strings.HasPrefix(at.path, "/api/") && !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
			t.Errorf("%s: the API answered %q, want JSON", at.name, res.Header.Get("Content-Type"))
		}
	}
	runtime.ReadMemStats(&after)
	// Everything the server and this test allocated meanwhile, however
	// briefly held: a single inflated bomb would be 48 MiB or more.
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 16<<20 {
		t.Errorf("the refused bombs made the process allocate %d MiB", grew>>20)
	}

	// Nothing was stored: no account, no post.
	if _, err := srv.Store.FindUserByUsername(context.Background(), "mallory"); err == nil {
		t.Error("a compressed register created an account")
	}
	if res := root.get(room); strings.Contains(res.Body, "gzip:") || strings.Contains(res.Body, "unexpected EOF") {
		t.Error("a decoder's error was stored as a post")
	}
	if n := countPosts(t, srv.Store, room); n != 0 {
		t.Errorf("%d posts stored from compressed bodies", n)
	}

	// A second Content-Encoding header counts as much as the first.
	req2, _ := http.NewRequest(http.MethodPost, srv.URL+"/api"+room+"/messages", bytes.NewReader(gzipBytes([]byte("hidden"))))
	req2.Header["Content-Encoding"] = []string{"identity", "gzip"}
	req2.Header.Set("Authorization", "Bearer "+token)
	if res := srv.anon(t).do(req2); res.StatusCode != http.StatusUnsupportedMediaType {
		t.Errorf("identity then gzip: %d, want 415", res.StatusCode)
	}

	// "identity" is no compression, and is taken.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api"+room+"/messages", strings.NewReader("plain hello"))
	req.Header.Set("Content-Encoding", "identity")
	req.Header.Set("Authorization", "Bearer "+token)
	if res := srv.anon(t).do(req); res.StatusCode != http.StatusCreated {
		t.Errorf("identity: %d %s", res.StatusCode, res.Body)
	}
}

func countPosts(t testing.TB, s *store.Store, room string) int {
	t.Helper()
	id := roomIDOf(t, room)
	msgs, err := s.ListMessagesAfter(context.Background(), id, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range msgs {
		if m.Kind == store.KindPost {
			n++
		}
	}
	return n
}

// rawExchange sends bytes on a fresh connection and reads the answer's
// status and headers.
func rawExchange(t *testing.T, host string, req []byte) *http.Response {
	t.Helper()
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	go conn.Write(req)
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to %.40q: %v", req, err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// announceBody sends only the headers of a POST whose body would be n
// bytes, and reads the answer: a body over the limit is refused from its
// headers, so the answer comes without the client racing to write a body
// the server will never read.
func announceBody(t *testing.T, srv *testServer, path, cookie, contentType string, n int) *http.Response {
	t.Helper()
	req := "POST " + path + " HTTP/1.1\r\nHost: " + srv.Host + "\r\nOrigin: " + srv.URL +
		"\r\nContent-Type: " + contentType + "\r\nContent-Length: " + strconv.Itoa(n) + "\r\n"
	if cookie != "" {
		req += "Cookie: chat_session=" + cookie + "\r\n"
	}
	return rawExchange(t, srv.Host, []byte(req+"\r\n"))
}

// TestServerMadeErrorsCarryHeaders: the answers the server makes before
// any route runs carry the same security headers as every page.
func TestServerMadeErrorsCarryHeaders(t *testing.T) {
	srv := newServer(t, withBodyLimit(64<<10))
	cases := []struct {
		name   string
		req    string
		status int
	}{
		{"malformed", "NOT A REQUEST\r\n\r\n", http.StatusBadRequest},
		{"headers too large", "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 64<<10) + "\r\n\r\n", http.StatusRequestHeaderFieldsTooLarge},
		{"body too large", "POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100000000\r\n\r\n", http.StatusRequestEntityTooLarge},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := rawExchange(t, srv.Host, []byte(tc.req))
			if res.StatusCode != tc.status {
				t.Errorf("status %d, want %d", res.StatusCode, tc.status)
			}
			for h, want := range map[string]string{
				"X-Content-Type-Options": "nosniff",
				"X-Frame-Options":        "DENY",
				"Referrer-Policy":        "same-origin",
			} {
				if got := res.Header.Get(h); got != want {
					t.Errorf("%s: %q, want %q", h, got, want)
				}
			}
			if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'self'") {
				t.Errorf("Content-Security-Policy: %q", res.Header.Get("Content-Security-Policy"))
			}
		})
	}
}

// TestHandshakeResetGivesPlaceBack: an upgrade handshake that the client
// resets before the 101 reaches it holds no place: the user's next
// sockets are taken and nobody sees a phantom connection.
func TestHandshakeResetGivesPlaceBack(t *testing.T) {
	srv := newServer(t, withMaxSockets(2))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	cookie := alice.cookie("chat_session").Value

	for range 8 {
		conn, err := net.Dial("tcp", srv.Host)
		if err != nil {
			t.Fatal(err)
		}
		req := "GET " + room + "/ws HTTP/1.1\r\nHost: " + srv.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
			"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: " + srv.URL + "\r\n" +
			"Cookie: chat_session=" + cookie + "\r\n\r\n"
		if _, err := conn.Write([]byte(req)); err != nil {
			t.Fatal(err)
		}
		// Reset, not a polite close: the server's 101 meets a dead peer.
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}
	// The user's two places come free: the server may handle a reset
	// handshake after an empty hub was seen, so dial until both are held.
	var held []*wsClient
	testutil.Eventually(t, long, func() bool {
		if ws, _, err := alice.tryDial(room, -1, srv.URL); err == nil {
			held = append(held, ws)
		}
		return len(held) == 2
	}, "the reset handshakes kept alice's places")
	for _, ws := range held {
		ws.settle()
	}
	if _, res, err := alice.tryDial(room, -1, srv.URL); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third socket was not refused: %v", err)
	}
}

// roomIDOf is the id in a room's path, /rooms/{id}.
func roomIDOf(t testing.TB, path string) int64 {
	t.Helper()
	id, err := strconv.ParseInt(strings.TrimPrefix(path, "/rooms/"), 10, 64)
	if err != nil {
		t.Fatalf("no room path: %q", path)
	}
	return id
}

func withRegisterLimit(n int) serverOption {
	return func(d *handlers.Deps) { d.RegisterLimit = n }
}

// TestBodyLimitBeforeReading: a body larger than the limit is refused from
// its headers, before the server reads (and holds) any of it; only a
// signed-in user's avatar upload may be larger.
func TestBodyLimitBeforeReading(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	// Headers that announce 2 MB, and no body: the answer must not wait
	// for it.
	head := func(path, cookie string) *http.Response {
		return announceBody(t, srv, path, cookie, "multipart/form-data; boundary=x", 2157153)
	}
	for _, path := range []string{"/login", "/register", "/rooms", "/account/avatar", "/account/avatar?x=1", "/api/rooms/1/messages"} {
		if res := head(path, ""); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("signed out, %s: %d, want 413 before the body", path, res.StatusCode)
		}
	}
	if res := head("/account/avatar", "forged-session"); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("avatar with a forged cookie: %d, want 413 before the body", res.StatusCode)
	}
	if res := head("/rooms", alice.cookie("chat_session").Value); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("signed in, /rooms: %d, want 413 before the body", res.StatusCode)
	}
	// A signed-in user's picture larger than the body limit is read.
	noise := image.NewRGBA(image.Rect(0, 0, 320, 320))
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(rng.Uint32())
	}
	var pic bytes.Buffer
	png.Encode(&pic, noise)
	if pic.Len() <= 256<<10 {
		t.Fatalf("the picture is %d bytes: not past the body limit", pic.Len())
	}
	if res := alice.upload("/account/avatar", "avatar", "noise.png", pic.Bytes()); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a %d KB avatar: %d %.200s", pic.Len()>>10, res.StatusCode, res.Body)
	}
}

// TestRegistrationLimit: one address makes at most the limit of accounts
// an hour, even all at once; IPv6 addresses count by their /64.
func TestRegistrationLimit(t *testing.T) {
	srv := newServer(t, withRegisterLimit(5), withTrustedProxies("127.0.0.1/32"))
	register := func(name, addr string) int {
		res := srv.anon(t).post("/register", url.Values{"username": {name}, "password": {"password-" + name}}, "X-Forwarded-For", addr)
		return res.StatusCode
	}
	codes := make(chan int, 40)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes <- register("user"+strconv.Itoa(i), "198.51.100.7")
		}()
	}
	wg.Wait()
	close(codes)
	count := map[int]int{}
	for c := range codes {
		count[c]++
	}
	if count[http.StatusSeeOther] != 5 || count[http.StatusTooManyRequests] != 35 {
		t.Errorf("40 registrations at once from one address: %v, want 5 × 303 and 35 × 429", count)
	}
	users, err := srv.Store.ListUsers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 5 {
		t.Errorf("%d accounts made, want 5", len(users))
	}
	// Another address is not affected.
	if c := register("other", "198.51.100.8"); c != http.StatusSeeOther {
		t.Errorf("another address: %d", c)
	}
	// One IPv6 /64 is one address, whatever its last 64 bits.
	for i := range 5 {
		if c := register("six"+strconv.Itoa(i), "2001:db8:1:2::"+strconv.Itoa(i+1)); c != http.StatusSeeOther {
			t.Fatalf("IPv6 registration %d: %d", i, c)
		}
	}
	if c := register("sixmore", "2001:db8:1:2:ffff::9"); c != http.StatusTooManyRequests {
		t.Errorf("a sixth from the same /64: %d, want 429", c)
	}
	if c := register("sixelse", "2001:db8:1:3::1"); c != http.StatusSeeOther {
		t.Errorf("another /64: %d", c)
	}
}

// TestInvisibleCharactersRefused: a reaction or a room name with a
// character that shows as nothing is refused, so that nobody makes a
// lookalike of a room or a second 👍; emoji made with joiners and
// variation selectors are taken.
func TestInvisibleCharactersRefused(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	id := postID(t, alice, room, "lunch?")
	for _, r := range []rune{0x200b, 0xfeff, 0x00ad, 0x2028, 0x2029, 0x034f, 0x180e, 0x115f, 0x3164, 0x2060} {
		res := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {"👍" + string(r) + "👍"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "invisible") {
			t.Errorf("reaction with %U: %d", r, res.StatusCode)
		}
		res = alice.post("/rooms", url.Values{"name": {"gen" + string(r) + "eral"}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "invisible") {
			t.Errorf("room name with %U: %d", r, res.StatusCode)
		}
	}
	m, err := srv.Store.FindMessage(context.Background(), id)
	if err != nil || len(m.Boosts) != 0 {
		t.Errorf("stored reactions %+v (%v), want none", m.Boosts, err)
	}
	for _, emoji := range []string{"👍\ufe0f", "👩\u200d💻", "🏳️\u200d🌈"} {
		if res := alice.post(msgPath(id)+"/boosts", url.Values{"emoji": {emoji}}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("reaction %q: %d", emoji, res.StatusCode)
		}
	}
	if res := alice.post("/rooms", url.Values{"name": {"Café ☕ 東京"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("a room name of letters and an emoji: %d", res.StatusCode)
	}
}
