package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/internal/testutil"

	"github.com/PuerkitoBio/goquery"
	fws "github.com/fasthttp/websocket"
)

// wsClient is one open socket; a goroutine reads its frames into a channel.
type wsClient struct {
	t      testing.TB
	conn   *fws.Conn
	frames chan string
	closed chan int // the close code the server sent, once
	pongs  chan struct{}
}

func (c *client) dial(room string, after int64) *wsClient {
	c.t.Helper()
	ws, res, err := c.tryDial(room, after, c.srv.URL)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		c.t.Fatalf("dial %s: %v (status %d)", room, err, status)
	}
	return ws
}

func (c *client) tryDial(room string, after int64, origin string, query ...string) (*wsClient, *http.Response, error) {
	u := "ws://" + c.srv.Host + room + "/ws"
	q := query
	if after >= 0 {
		q = append([]string{"after=" + strconv.FormatInt(after, 10)}, q...)
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	if ck := c.cookie("chat_session"); ck != nil {
		h.Set("Cookie", "chat_session="+ck.Value)
	}
	conn, res, err := fws.DefaultDialer.Dial(u, h)
	if err != nil {
		return nil, res, err
	}
	ws := &wsClient{t: c.t, conn: conn, frames: make(chan string, 10000), closed: make(chan int, 1), pongs: make(chan struct{}, 1)}
	conn.SetPongHandler(func(string) error {
		select {
		case ws.pongs <- struct{}{}:
		default:
		}
		return nil
	})
	go ws.readAll()
	c.t.Cleanup(func() { conn.Close() })
	return ws, res, nil
}

func (w *wsClient) readAll() {
	defer close(w.frames)
	for {
		_, data, err := w.conn.ReadMessage()
		if err != nil {
			code := 1006
			if ce, ok := err.(*fws.CloseError); ok {
				code = ce.Code
			}
			w.closed <- code
			return
		}
		w.frames <- string(data)
	}
}

func (w *wsClient) send(v any) {
	w.t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := w.conn.WriteMessage(fws.TextMessage, b); err != nil {
		w.t.Fatal(err)
	}
}

func (w *wsClient) post(text string) {
	w.t.Helper()
	w.send(map[string]any{"text": text, "HEADERS": map[string]string{"HX-Request": "true"}})
}

// next waits for a frame in which sel matches, and returns the matches.
func (w *wsClient) next(sel string, timeout time.Duration) *goquery.Selection {
	w.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				w.t.Fatalf("socket closed while waiting for %s", sel)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(f))
			if err != nil {
				w.t.Fatal(err)
			}
			if s := doc.Find(sel); s.Length() > 0 {
				return s
			}
		case <-deadline:
			w.t.Fatalf("no frame with %s in %v", sel, timeout)
			return nil
		}
	}
}

// through collects the frames that arrive up to the first that marker
// matches, that one included. A check that nothing else arrived waits so
// for a marker sent after what it watches, not for a window of time.
func (w *wsClient) through(marker func(frame string) bool, timeout time.Duration) []string {
	w.t.Helper()
	var out []string
	deadline := time.After(timeout)
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				w.t.Fatalf("socket closed before the marker; frames so far %q", out)
			}
			out = append(out, f)
			if marker(f) {
				return out
			}
		case <-deadline:
			w.t.Fatalf("no marker in %v; frames so far %q", timeout, out)
			return nil
		}
	}
}

// entriesBefore collects entries, "id kind author text", up to the first
// that marker matches, and returns those before it.
func (w *wsClient) entriesBefore(marker func(entry string) bool, timeout time.Duration) []string {
	w.t.Helper()
	var out []string
	for _, f := range w.through(holds(marker), timeout) {
		for _, e := range entriesOf(w.t, f) {
			if marker(e) {
				return out
			}
			out = append(out, e)
		}
	}
	return out
}

// saying matches an entry whose text is s.
func saying(s string) func(entry string) bool {
	return func(e string) bool { return strings.HasSuffix(e, " "+s) }
}

// holds matches a frame holding an entry that match does.
func holds(match func(entry string) bool) func(frame string) bool {
	return func(f string) bool { return slices.ContainsFunc(entriesOf(nil, f), match) }
}

// has matches a frame in which sel finds something.
func has(sel string) func(frame string) bool {
	return func(f string) bool {
		doc, err := goquery.NewDocumentFromReader(strings.NewReader(f))
		return err == nil && doc.Find(sel).Length() > 0
	}
}

// markers numbers the marker posts of a test binary.
var markers atomic.Int64

// mark posts a marker entry into room over HTTP and returns its text.
func (c *client) mark(room string) string {
	c.t.Helper()
	m := fmt.Sprintf("marker %d", markers.Add(1))
	if res := c.post(room+"/messages", url.Values{"text": {m}}); res.StatusCode >= 400 {
		c.t.Fatalf("post a marker: %d", res.StatusCode)
	}
	return m
}

// sync sends a ping and waits for its pong: the server has then read,
// and handled, every frame the socket sent before.
func (w *wsClient) sync() {
	w.t.Helper()
	if err := w.conn.WriteControl(fws.PingMessage, nil, time.Now().Add(long)); err != nil {
		w.t.Fatal(err)
	}
	select {
	case <-w.pongs:
	case <-time.After(long):
		w.t.Fatalf("no pong in %v", long)
	}
}

// entriesUntil collects entries until n have arrived or timeout passes.
func (w *wsClient) entriesUntil(n int, timeout time.Duration) []string {
	var out []string
	deadline := time.After(timeout)
	for len(out) < n {
		select {
		case f, ok := <-w.frames:
			if !ok {
				return out
			}
			out = append(out, entriesOf(w.t, f)...)
		case <-deadline:
			return out
		}
	}
	return out
}

// entriesOf lists a frame's entries; t, when not nil, fails on a frame
// that is no HTML.
func entriesOf(t testing.TB, frame string) []string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(frame))
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		return nil
	}
	var out []string
	doc.Find("[id^=msg-]").Each(func(_ int, e *goquery.Selection) {
		id, _ := e.Attr("id")
		kind, _ := e.Attr("data-kind")
		author, _ := e.Attr("data-author")
		out = append(out, strings.Join([]string{strings.TrimPrefix(id, "msg-"), kind, author, e.Find(".text").Text()}, " "))
	})
	return out
}

func (w *wsClient) closeCode(timeout time.Duration) int {
	w.t.Helper()
	for {
		select {
		case code := <-w.closed:
			return code
		case <-w.frames:
		case <-time.After(timeout):
			w.t.Fatalf("socket still open after %v", timeout)
			return 0
		}
	}
}

// settle waits until the socket has received its greeting (the presence
// list), so that it is surely subscribed.
func (w *wsClient) settle() *wsClient {
	w.t.Helper()
	w.next("#presence", long)
	return w
}

func TestWSUpgradeRefusals(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")

	for _, tc := range []struct {
		name   string
		c      *client
		room   string
		origin string
		status int
	}{
		{"ErrSignedOut", srv.anon(t), room, srv.URL, http.StatusUnauthorized},
		{"ErrOtherOrigin", alice, room, "https://evil.example", http.StatusForbidden},
		{"ErrNoOrigin", alice, room, "", http.StatusForbidden},
		{"ErrUnknownRoom", alice, "/rooms/999", srv.URL, http.StatusNotFound},
		{"ErrBadRoomID", alice, "/rooms/abc", srv.URL, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, res, err := tc.c.tryDial(tc.room, -1, tc.origin)
			if err == nil {
				t.Fatal("upgraded")
			}
			if res == nil || res.StatusCode != tc.status {
				t.Fatalf("got %v, want %d", res, tc.status)
			}
		})
	}
	t.Run("ErrBadAfter", func(t *testing.T) {
		for _, after := range []string{"-1", "x"} {
			h := http.Header{"Origin": {srv.URL}, "Cookie": {"chat_session=" + alice.cookie("chat_session").Value}}
			_, res, err := fws.DefaultDialer.Dial("ws://"+srv.Host+room+"/ws?after="+after, h)
			if err == nil || res.StatusCode != http.StatusBadRequest {
				t.Errorf("after=%s: %v", after, res)
			}
		}
	})
	t.Run("ErrNotUpgrade", func(t *testing.T) {
		if res := alice.get(room + "/ws"); res.StatusCode != http.StatusUpgradeRequired {
			t.Errorf("plain GET: %d", res.StatusCode)
		}
	})
}

// Three users with two tabs each in two rooms: every post reaches every
// connection of its room exactly once, in stored order, and nothing
// reaches the other room.
func TestWSFanOut(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	users := []*client{srv.register(t, "ann"), srv.register(t, "ben"), srv.register(t, "cat")}
	roomA := users[0].createRoom("alpha")
	roomB := users[0].createRoom("beta")
	for _, u := range users[1:] {
		u.post(roomA+"/join", nil)
	}
	other := srv.register(t, "dan")
	otherWS := other.dial(roomB, -1).settle()

	var conns []*wsClient
	for _, u := range users {
		for range 2 {
			conns = append(conns, u.dial(roomA, -1).settle())
		}
	}
	const perSender = 40
	var wg sync.WaitGroup
	for i, u := range users {
		ws := conns[2*i]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range perSender {
				ws.post(fmt.Sprintf("%s says %d", u.name, j))
			}
		}()
	}
	wg.Wait()
	for i := range users {
		conns[2*i].sync() // its posts are handled
	}
	want := len(users) * perSender
	stored, err := srv.Store.ListLatestMessages(context.Background(), 1, want)
	if err != nil {
		t.Fatal(err)
	}
	markA, markB := users[0].mark(roomA), users[0].mark(roomB)

	received := make([][]string, len(conns))
	for i, ws := range conns {
		received[i] = ws.entriesBefore(saying(markA), long)
	}
	var order []string
	for _, m := range stored {
		order = append(order, fmt.Sprintf("%d %s %s %s", m.ID, m.Kind, m.Author, m.Text))
	}
	for i, got := range received {
		if strings.Join(got, "\n") != strings.Join(order, "\n") {
			t.Errorf("connection %d got %d entries, want the %d stored, in order", i, len(got), want)
		}
	}
	if got := otherWS.entriesBefore(saying(markB), long); len(got) != 0 {
		t.Errorf("the other room got %d entries", len(got))
	}
}

func TestWSBadInput(t *testing.T) {
	srv := newServer(t, withPostLimit(3))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	sender := alice.dial(room, -1).settle()
	watcher := bob.dial(room, -1).settle()
	ctx := context.Background()
	count := func() int {
		msgs, _ := srv.Store.ListLatestMessages(ctx, 1, 100)
		return len(msgs)
	}

	cases := []struct {
		name  string
		frame string
		want  string
	}{
		{"NotJSON", "hello", "could not be read"},
		{"WrongType", `{"text": 42}`, "could not be read"},
		{"Empty", `{"text": ""}`, "empty"},
		{"Missing", `{"HEADERS": {}}`, "empty"},
		{"Blank", `{"text": " \n\t "}`, "empty"},
		{"TooLong", `{"text": "` + strings.Repeat("a", 4001) + `"}`, "too long"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := count()
			sender.conn.WriteMessage(fws.TextMessage, []byte(tc.frame))
			errEl := sender.next("[data-kind=error]", long)
			if !strings.Contains(errEl.Text(), tc.want) {
				t.Errorf("error says %q, want %q", errEl.Text(), tc.want)
			}
			if count() != n {
				t.Error("stored")
			}
		})
	}
	t.Run("NotMember", func(t *testing.T) {
		n := count()
		watcher.post("let me in")
		if e := watcher.next("[data-kind=error]", long); !strings.Contains(e.Text(), "Join") {
			t.Errorf("error says %q", e.Text())
		}
		if count() != n {
			t.Error("stored")
		}
	})
	t.Run("OverLimit", func(t *testing.T) {
		for i := range 3 {
			sender.post(fmt.Sprintf("ok %d", i))
		}
		sender.post("one too many")
		e := sender.next("[data-kind=error]", long)
		if !strings.Contains(e.Text(), "too fast") {
			t.Errorf("error says %q", e.Text())
		}
		// The refused send can be sent again: the form's own button.
		if e.Find(`button[type=submit]`).Length() != 1 || e.AttrOr("id", "") != "compose-error" {
			t.Error("the error offers no retry inside the compose form")
		}
	})
	// The others saw the three good posts and nothing else; the sender's
	// socket is still open and still gets posts.
	bob.post(room+"/join", nil)
	if got := watcher.entriesBefore(func(e string) bool { return strings.Contains(e, " join bob") }, long); len(got) != 3 {
		t.Errorf("watcher got %v, want the 3 good posts", got)
	}
	if e := sender.next("[data-kind=join][data-author=bob]", long); e.Length() != 1 {
		t.Error("sender socket no longer gets entries")
	}
}

func TestWSComposeReset(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)
	tab1 := alice.dial(room, -1).settle()
	tab2 := alice.dial(room, -1).settle()
	other := bob.dial(room, -1).settle()

	tab1.post("hello")
	form := tab1.next("form#compose[hx-swap-oob]", long)
	if form.Find("textarea").Text() != "" || form.Find("[data-kind=error]").Length() != 0 {
		t.Error("fresh form is not empty")
	}
	m := bob.mark(room)
	for _, ws := range []*wsClient{tab2, other} {
		frames := ws.through(holds(saying(m)), long)
		var got []string
		for _, f := range frames {
			for _, e := range entriesOf(t, f) {
				if !saying(m)(e) {
					got = append(got, e)
				}
			}
			// Only the sending tab gets a fresh form.
			if strings.Contains(f, `id="compose"`) {
				t.Errorf("another connection got %q", f)
			}
		}
		if len(got) != 1 || !strings.HasSuffix(got[0], "post alice hello") {
			t.Errorf("got %v", got)
		}
	}
}

func TestWSCloseCodes(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")

	t.Run("TooBig", func(t *testing.T) {
		ws := alice.dial(room, -1).settle()
		ws.conn.WriteMessage(fws.TextMessage, []byte(`{"text":"`+strings.Repeat("a", 70<<10)+`"}`))
		if code := ws.closeCode(long); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
	})
	t.Run("InvalidUTF8", func(t *testing.T) {
		ws := alice.dial(room, -1).settle()
		ws.conn.WriteMessage(fws.TextMessage, []byte{'{', 0xff, 0xfe, '}'})
		if code := ws.closeCode(long); code != 1007 {
			t.Errorf("close code %d, want 1007", code)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := srv.anon(t)
		c.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
		ws := c.dial(room, -1).settle()
		stays := alice.dial(room, -1).settle()
		c.post("/logout", nil)
		if code := ws.closeCode(long); code != 1008 {
			t.Errorf("close code %d, want 1008", code)
		}
		// Another session of the same user stays.
		alice.post(room+"/messages", url.Values{"text": {"still here"}})
		if got := stays.entriesUntil(1, long); len(got) != 1 {
			t.Errorf("other session got %v", got)
		}
	})
	t.Run("Shutdown", func(t *testing.T) {
		ws := alice.dial(room, -1).settle()
		srv.Hub.Shutdown(1012, "restart")
		if code := ws.closeCode(long); code != 1012 {
			t.Errorf("close code %d, want 1012", code)
		}
	})
}

// A client that never reads is closed with 1013 once its queue fills; the
// others keep getting every entry.
func TestWSSlowConsumer(t *testing.T) {
	// A long write timeout: the stuck client reads only after the flood,
	// and must find the close frame still waiting behind the data.
	srv := newServer(t, withPostLimit(0), withQueueLen(64), func(d *handlers.Deps) { d.WriteTimeout = 10 * time.Minute })
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")

	// A raw socket that reads nothing after the handshake.
	h := http.Header{"Origin": {srv.URL}, "Cookie": {"chat_session=" + bob.cookie("chat_session").Value}}
	dialer := fws.Dialer{ReadBufferSize: 1024}
	stuck, _, err := dialer.Dial("ws://"+srv.Host+room+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	fast := alice.dial(room, -1).settle()

	// Enough bytes to fill the socket buffers between the server and the
	// stuck client, and then its queue.
	const posts = 4000
	big := strings.Repeat("x", 3900)
	done := make(chan struct{})
	// Posted over HTTP, each answered once stored and pushed: the flood
	// goes at the server's pace, which a reading client keeps up with.
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for w := range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := w; i < posts; i += 4 {
					alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("%d %s", i, big)}})
				}
			}()
		}
		wg.Wait()
	}()
	got := fast.entriesUntil(posts, 5*time.Minute)
	<-done
	if len(got) != posts {
		t.Errorf("the reading client got %d of %d entries", len(got), posts)
	}
	// Now read the stuck one: after what was buffered, its close is 1013.
	stuck.SetReadDeadline(time.Now().Add(long))
	code := 0
	for {
		if _, _, err := stuck.ReadMessage(); err != nil {
			if ce, ok := err.(*fws.CloseError); ok {
				code = ce.Code
			} else {
				t.Logf("stuck client: %v", err)
			}
			break
		}
	}
	if code != 1013 {
		t.Errorf("stuck client closed with %d, want 1013", code)
	}
	// The server forgets it once the close handshake is over.
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the hub still holds the stuck connection")
}

// A client that stops reading is let go once a write to it has waited
// longer than the write timeout, though its queue never fills.
func TestWSWriteTimeout(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withQueueLen(100000), func(d *handlers.Deps) { d.WriteTimeout = 300 * time.Millisecond })
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	h := http.Header{"Origin": {srv.URL}, "Cookie": {"chat_session=" + alice.cookie("chat_session").Value}}
	stuck, _, err := fws.DefaultDialer.Dial("ws://"+srv.Host+room+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the socket is not subscribed")

	// Frames of 60 KB until the socket's buffers are full and a write
	// waits: far fewer than the queue holds, so only the timeout can end
	// it. A write that waits forever would keep it in the hub.
	frame := hub.Event{Data: []byte(`<div id="flood" hx-swap-oob="true">` + strings.Repeat("x", 60<<10) + `</div>`)}
	id := roomIDOf(t, room)
	// Within less than the default timeout (10 s): the one set is used.
	testutil.Eventually(t, 8*time.Second, func() bool {
		for range 20 {
			srv.Hub.Publish(id, frame)
		}
		return srv.Hub.Conns() == 0
	}, "the hub still holds a socket whose writes wait")
}

func TestWSReplay(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)

	poster := alice.dial(room, -1).settle()
	poster.post("first")
	seen := poster.entriesUntil(1, long)
	last, _ := strconv.ParseInt(strings.Fields(seen[0])[0], 10, 64)

	// While bob is away, posts go on.
	for i := range 20 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("missed %d", i)}})
	}

	t.Run("ExactlyTheMissed", func(t *testing.T) {
		ws := bob.dial(room, last)
		got := ws.entriesBefore(saying(alice.mark(room)), long)
		if len(got) != 20 || !strings.HasSuffix(got[0], "missed 0") || !strings.HasSuffix(got[19], "missed 19") {
			t.Errorf("replay %v", got)
		}
	})

	t.Run("NoGapNoDuplicateUnderLoad", func(t *testing.T) {
		// Posts go on while bob dials; the poster stops when the subtest
		// ends, failed or not, so the next ones see only their own.
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				frame := fmt.Sprintf(`{"text": "live %d"}`, i)
				if poster.conn.WriteMessage(fws.TextMessage, []byte(frame)) != nil {
					return
				}
				time.Sleep(time.Millisecond) // the pace of the load, no synchronization
			}
		}()
		defer func() {
			close(stop)
			wg.Wait()
			// Frames the poster wrote may still be on their way to the
			// store: a last post through the same socket is stored after
			// them, so once it is the newest, none is left to land in the
			// subtests after this one.
			last := fmt.Sprintf("poster done %d", markers.Add(1))
			poster.post(last)
			testutil.Eventually(t, long, func() bool {
				msgs, err := srv.Store.ListLatestMessages(context.Background(), 1, 1)
				return err == nil && len(msgs) == 1 && msgs[0].Text == last
			}, "the poster's last post is not the newest stored")
		}()
		for range 10 {
			msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 1)
			from := msgs[0].ID - 5
			ws := bob.dial(room, from)
			// Read across the seam: the replay, then live entries up to
			// one stored after the dial was answered.
			msgs, _ = srv.Store.ListLatestMessages(context.Background(), 1, 1)
			past := msgs[0].ID
			var prev int64 = from
			got := 0
			deadline := time.After(long)
			for prev <= past || got < 5 {
				var f string
				select {
				case f = <-ws.frames:
				case <-deadline:
					t.Fatalf("after %d entries up to %d, none past %d in %v", got, prev, past, long)
				}
				for _, e := range entriesOf(t, f) {
					id, _ := strconv.ParseInt(strings.Fields(e)[0], 10, 64)
					if id != prev+1 {
						// Ids are global; this room is the only one written, so
						// they must follow on one by one.
						t.Fatalf("after %d came %d: gap or duplicate", prev, id)
					}
					prev = id
					got++
				}
			}
			ws.conn.Close()
		}
	})

	t.Run("FarBehindGetsLatestWindow", func(t *testing.T) {
		for i := range 320 {
			alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("flood %d", i)}})
		}
		ws := bob.dial(room, 1)
		list := ws.next("ol#messages[hx-swap-oob]", long)
		items := list.Find("[id^=msg-]")
		if items.Length() != 50 || !strings.HasSuffix(items.Last().Find(".text").Text(), "flood 319") {
			t.Errorf("window of %d ending %q", items.Length(), items.Last().Text())
		}
	})

	t.Run("NoAfterSendsNothingOld", func(t *testing.T) {
		ws := bob.dial(room, -1) // subscribed when the handshake is answered
		if got := ws.entriesBefore(saying(alice.mark(room)), long); len(got) != 0 {
			t.Errorf("got %d old entries", len(got))
		}
	})
}

func TestWSPresenceAndTyping(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)

	watcher := bob.dial(room, -1)
	first := watcher.next("#presence", long)
	if got := first.Find("[data-user]"); got.Length() != 1 || got.AttrOr("data-user", "") != "bob" {
		t.Errorf("first presence %v", got.Text())
	}
	tab1 := alice.dial(room, -1)
	if s := watcher.next(`[hx-swap-oob="beforeend:#presence"] [data-user=alice]`, long); s.Length() != 1 {
		t.Error("alice's arrival not pushed")
	}
	list := tab1.next("#presence", long).Find("[data-user]")
	if list.Length() != 2 {
		t.Errorf("alice sees %d online", list.Length())
	}
	tab2 := alice.dial(room, -1).settle()
	if got := srv.Hub.Online(1); strings.Join(got, ",") != "alice,bob" {
		t.Errorf("online %v", got)
	}
	// A second tab announces nothing new; closing one of two keeps her.
	tab2.conn.Close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 2 }, "the second tab is still held")
	// Its departure was published, if at all, before the marker.
	for _, f := range watcher.through(holds(saying(alice.mark(room))), long) {
		if strings.Contains(f, "presence") {
			t.Errorf("second tab changed presence: %q", f)
		}
	}

	tab1.send(map[string]any{"typing": true})
	typing := watcher.next(".typing-user[data-user=alice]", long)
	if !strings.Contains(typing.Text(), "alice is typing") {
		t.Errorf("typing says %q", typing.Text())
	}
	// A second signal inside two seconds is dropped by the server.
	tab1.send(map[string]any{"typing": true})
	// The same socket's next post is handled after it, so published after.
	tab1.post("after typing")
	for _, f := range watcher.through(holds(saying("after typing")), long) {
		if strings.Contains(f, "typing-user") {
			t.Errorf("typing not throttled: %q", f)
		}
	}

	tab1.conn.Close()
	gone := watcher.next(`[hx-swap-oob=delete]`, long)
	if id, _ := gone.Attr("id"); id != "presence-alice" {
		t.Errorf("removed %q", id)
	}
	if got := srv.Hub.Online(1); strings.Join(got, ",") != "bob" {
		t.Errorf("online %v", got)
	}
}

// Joins, leaves and no-JS posts made over HTTP are pushed live too.
func TestWSHTTPChangesPushed(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	ws := alice.dial(room, -1).settle()

	bob.post(room+"/join", nil)
	j := ws.next("[data-kind=join]", long)
	if j.AttrOr("data-author", "") != "bob" {
		t.Error("join not pushed")
	}
	bob.post(room+"/messages", url.Values{"text": {"from a form"}})
	p := ws.next("[data-kind=post]", long)
	if p.Find(".text").Text() != "from a form" {
		t.Error("form post not pushed")
	}
	bob.post(room+"/leave", nil)
	if ws.next("[data-kind=leave]", long).AttrOr("data-author", "") != "bob" {
		t.Error("leave not pushed")
	}
}

// A socket is subscribed before its handshake is answered: a post made the
// moment the dial returns reaches it, with no replay asked for.
func TestWSSubscribedAtHandshake(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)
	for i := range 30 {
		ws := alice.dial(room, -1)
		if n := srv.Hub.Conns(); n != 1 {
			t.Fatalf("round %d: the handshake is answered, the hub holds %d connections", i, n)
		}
		text := fmt.Sprintf("right away %d", i)
		bob.post(room+"/messages", url.Values{"text": {text}})
		got := ws.entriesUntil(1, long)
		if len(got) != 1 || !strings.HasSuffix(got[0], text) {
			t.Fatalf("round %d: got %v", i, got)
		}
		ws.conn.Close()
		testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 0 }, "round %d: the closed socket is still held", i)
	}
}

// A send replayed with the same client id (after a dropped connection, a
// double press) lands once; its sender is told it landed each time.
func TestWSClientIDLandsOnce(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	watcher := bob.dial(room, -1).settle()
	ws := alice.dial(room, -1).settle()

	for range 2 {
		ws.send(map[string]any{"text": "only once", "client_id": "k3y-0123456789"})
		ws.next("form#compose[hx-swap-oob]", long)
	}
	// From a new connection too, as after a reconnect.
	ws2 := alice.dial(room, -1).settle()
	ws2.send(map[string]any{"text": "only once", "client_id": "k3y-0123456789"})
	ws2.next("form#compose[hx-swap-oob]", long)

	got := watcher.entriesBefore(saying(alice.mark(room)), long)
	if len(got) != 1 {
		t.Errorf("watcher got %v, want the post once", got)
	}
	msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 10)
	if len(msgs) != 3 || msgs[1].ClientID != "k3y-0123456789" { // a join, the post, the marker
		t.Errorf("stored %+v", msgs)
	}
	page := alice.get(room).doc(t)
	if page.Find(`[data-client-id="k3y-0123456789"]`).Length() != 1 {
		t.Error("the entry does not carry its client id")
	}
	// The same id through the plain form lands nowhere new either.
	alice.post(room+"/messages", url.Values{"text": {"only once"}, "client_id": {"k3y-0123456789"}})
	if msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 10); len(msgs) != 3 {
		t.Errorf("form replay stored again: %d entries", len(msgs))
	}
	for _, bad := range []string{"short", strings.Repeat("x", 65), "has space12", "<script>1234"} {
		ws.send(map[string]any{"text": "hi", "client_id": bad})
		if e := ws.next("[data-kind=error]", long); !strings.Contains(e.Text(), "could not be read") {
			t.Errorf("client id %q: %q", bad, e.Text())
		}
	}
}

// The server pings; a peer that answers stays, one that falls silent is
// dropped once the silence outlasts the timeout.
func TestWSPingAndSilentPeer(t *testing.T) {
	srv := newServer(t, func(d *handlers.Deps) { d.PingEvery = 100 * time.Millisecond; d.PeerTimeout = 500 * time.Millisecond })
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	h := http.Header{"Origin": {srv.URL}, "Cookie": {"chat_session=" + alice.cookie("chat_session").Value}}

	// Answers pings (the client library does, while it reads).
	live := alice.dial(room, -1).settle()
	pinged := make(chan struct{}, 1)
	live.conn.SetPingHandler(func(data string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return live.conn.WriteControl(fws.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	// Reads nothing, so answers nothing.
	silent, _, err := fws.DefaultDialer.Dial("ws://"+srv.Host+room+"/ws", h)
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	select {
	case <-pinged:
	case <-time.After(long):
		t.Fatal("no ping from the server")
	}
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the silent peer was not dropped")
	// Ten more pings, at least 100 ms apart, span twice the timeout: the
	// answering one stays.
	for range 10 {
		select {
		case <-pinged:
		case <-time.After(long):
			t.Fatal("the server stopped pinging")
		}
	}
	if srv.Hub.Conns() != 1 {
		t.Error("the answering peer was dropped")
	}
	alice.post(room+"/messages", url.Values{"text": {"still here"}})
	if got := live.entriesUntil(1, long); len(got) != 1 {
		t.Errorf("live peer got %v", got)
	}
}

// An idle socket holds one goroutine, its reader: a writer runs only
// while there is something to write, and the next post starts one again.
func TestWSIdleSocketHasNoWriter(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	var socks []*wsClient
	for range 3 {
		socks = append(socks, alice.dial(room, -1).settle())
	}
	running := func(fn string) int {
		var b strings.Builder
		pprof.Lookup("goroutine").WriteTo(&b, 1)
		n := 0
		for _, stack := range strings.Split(b.String(), "\n\n") {
			if strings.Contains(stack, fn) {
				// "N @ 0x…": N goroutines share this stack.
				count, _, _ := strings.Cut(stack, " ")
				c, _ := strconv.Atoi(count)
				n += c
			}
		}
		return n
	}
	testutil.Eventually(t, long, func() bool { return running("handlers.(*socketWriter).run") == 0 }, "idle sockets keep a writer goroutine")
	if n := running("handlers.(*App).readLoop"); n != len(socks) {
		t.Errorf("%d readers for %d sockets", n, len(socks))
	}
	// Two posts close together: the second comes while the writers wait
	// on the first's linger, whose timer, set then, fires before the new
	// linger is over; they still stop once it is.
	alice.post(room+"/messages", url.Values{"text": {"wake up"}})
	alice.post(room+"/messages", url.Values{"text": {"and again"}})
	for i, ws := range socks {
		if got := ws.entriesUntil(2, long); len(got) != 2 {
			t.Errorf("socket %d got %v", i, got)
		}
	}
	testutil.Eventually(t, long, func() bool { return running("handlers.(*socketWriter).run") == 0 }, "sockets keep a writer goroutine after a burst")
}
