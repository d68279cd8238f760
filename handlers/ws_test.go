package handlers_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/handlers"

	"github.com/PuerkitoBio/goquery"
	fws "github.com/fasthttp/websocket"
)

// wsClient is one open socket; a goroutine reads its frames into a channel.
type wsClient struct {
	t      testing.TB
	conn   *fws.Conn
	frames chan string
	closed chan int // the close code the server sent, once
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
	ws := &wsClient{t: c.t, conn: conn, frames: make(chan string, 10000), closed: make(chan int, 1)}
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

// entries collects the entries of every frame that arrives within wait
// of the previous one, as "id kind author text".
func (w *wsClient) entries(wait time.Duration) []string {
	var out []string
	for {
		select {
		case f, ok := <-w.frames:
			if !ok {
				return out
			}
			out = append(out, entriesOf(w.t, f)...)
		case <-time.After(wait):
			return out
		}
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

func entriesOf(t testing.TB, frame string) []string {
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(frame))
	if err != nil {
		t.Fatal(err)
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
	w.next("#presence", 5*time.Second)
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
	want := len(users) * perSender

	received := make([][]string, len(conns))
	for i, ws := range conns {
		received[i] = ws.entriesUntil(want, 10*time.Second)
		received[i] = append(received[i], ws.entries(200*time.Millisecond)...)
	}
	stored, err := srv.Store.ListLatestMessages(context.Background(), 1, want)
	if err != nil {
		t.Fatal(err)
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
	if got := otherWS.entries(200 * time.Millisecond); len(got) != 0 {
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
			errEl := sender.next("[data-kind=error]", 5*time.Second)
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
		if e := watcher.next("[data-kind=error]", 5*time.Second); !strings.Contains(e.Text(), "Join") {
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
		e := sender.next("[data-kind=error]", 5*time.Second)
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
	got := watcher.entriesUntil(3, 5*time.Second)
	got = append(got, watcher.entries(300*time.Millisecond)...)
	if len(got) != 3 {
		t.Errorf("watcher got %v, want the 3 good posts", got)
	}
	bob.post(room+"/join", nil)
	if e := sender.next("[data-kind=join][data-author=bob]", 5*time.Second); e.Length() != 1 {
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
	form := tab1.next("form#compose[hx-swap-oob]", 5*time.Second)
	if form.Find("textarea").Text() != "" || form.Find("[data-kind=error]").Length() != 0 {
		t.Error("fresh form is not empty")
	}
	for _, ws := range []*wsClient{tab2, other} {
		got := ws.entries(300 * time.Millisecond)
		if len(got) != 1 || !strings.HasSuffix(got[0], "post alice hello") {
			t.Errorf("got %v", got)
		}
	}
	// Only the sending tab got a fresh form.
	for _, ws := range []*wsClient{tab2, other} {
		select {
		case f := <-ws.frames:
			t.Errorf("another connection got %q", f)
		default:
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
		if code := ws.closeCode(5 * time.Second); code != 1009 {
			t.Errorf("close code %d, want 1009", code)
		}
	})
	t.Run("InvalidUTF8", func(t *testing.T) {
		ws := alice.dial(room, -1).settle()
		ws.conn.WriteMessage(fws.TextMessage, []byte{'{', 0xff, 0xfe, '}'})
		if code := ws.closeCode(5 * time.Second); code != 1007 {
			t.Errorf("close code %d, want 1007", code)
		}
	})
	t.Run("Logout", func(t *testing.T) {
		c := srv.anon(t)
		c.post("/login", url.Values{"username": {"alice"}, "password": {"password-alice"}})
		ws := c.dial(room, -1).settle()
		stays := alice.dial(room, -1).settle()
		c.post("/logout", nil)
		if code := ws.closeCode(5 * time.Second); code != 1008 {
			t.Errorf("close code %d, want 1008", code)
		}
		// Another session of the same user stays.
		alice.post(room+"/messages", url.Values{"text": {"still here"}})
		if got := stays.entriesUntil(1, 5*time.Second); len(got) != 1 {
			t.Errorf("other session got %v", got)
		}
	})
	t.Run("Shutdown", func(t *testing.T) {
		ws := alice.dial(room, -1).settle()
		srv.Hub.Shutdown(1012, "restart")
		if code := ws.closeCode(5 * time.Second); code != 1012 {
			t.Errorf("close code %d, want 1012", code)
		}
	})
}

// A client that never reads is closed with 1013 once its queue fills; the
// others keep getting every entry.
func TestWSSlowConsumer(t *testing.T) {
	// A long write timeout: the stuck client reads only after the flood,
	// and must find the close frame still waiting behind the data.
	srv := newServer(t, withPostLimit(0), withQueueLen(64), func(d *handlers.Deps) { d.WriteTimeout = 2 * time.Minute })
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
	got := fast.entriesUntil(posts, 60*time.Second)
	<-done
	if len(got) != posts {
		t.Errorf("the reading client got %d of %d entries", len(got), posts)
	}
	// Now read the stuck one: after what was buffered, its close is 1013.
	stuck.SetReadDeadline(time.Now().Add(10 * time.Second))
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
	for deadline := time.Now().Add(5 * time.Second); srv.Hub.Conns() != 1; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("hub holds %d connections, want 1", srv.Hub.Conns())
		}
	}
}

func TestWSReplay(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)

	poster := alice.dial(room, -1).settle()
	poster.post("first")
	seen := poster.entriesUntil(1, 5*time.Second)
	last, _ := strconv.ParseInt(strings.Fields(seen[0])[0], 10, 64)

	// While bob is away, posts go on.
	for i := range 20 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("missed %d", i)}})
	}

	t.Run("ExactlyTheMissed", func(t *testing.T) {
		ws := bob.dial(room, last)
		got := ws.entriesUntil(20, 5*time.Second)
		got = append(got, ws.entries(300*time.Millisecond)...)
		if len(got) != 20 || !strings.HasSuffix(got[0], "missed 0") || !strings.HasSuffix(got[19], "missed 19") {
			t.Errorf("replay %v", got)
		}
	})

	t.Run("NoGapNoDuplicateUnderLoad", func(t *testing.T) {
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
				poster.post(fmt.Sprintf("live %d", i))
				time.Sleep(time.Millisecond)
			}
		}()
		for range 10 {
			msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 1)
			from := msgs[0].ID - 5
			ws := bob.dial(room, from)
			time.Sleep(20 * time.Millisecond)
			ws.conn.Close()
			got := ws.entries(100 * time.Millisecond)
			var prev int64 = from
			for _, e := range got {
				id, _ := strconv.ParseInt(strings.Fields(e)[0], 10, 64)
				if id != prev+1 {
					// Ids are global; this room is the only one written, so
					// they must follow on one by one.
					t.Fatalf("after %d came %d: gap or duplicate", prev, id)
				}
				prev = id
			}
			if len(got) < 5 {
				t.Fatalf("got %d entries, want at least the 5 replayed", len(got))
			}
		}
		close(stop)
		wg.Wait()
	})

	t.Run("FarBehindGetsLatestWindow", func(t *testing.T) {
		for i := range 320 {
			alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("flood %d", i)}})
		}
		ws := bob.dial(room, 1)
		list := ws.next("ol#messages[hx-swap-oob]", 5*time.Second)
		items := list.Find("[id^=msg-]")
		if items.Length() != 50 || !strings.HasSuffix(items.Last().Find(".text").Text(), "flood 319") {
			t.Errorf("window of %d ending %q", items.Length(), items.Last().Text())
		}
	})

	t.Run("NoAfterSendsNothingOld", func(t *testing.T) {
		ws := bob.dial(room, -1)
		if got := ws.entries(300 * time.Millisecond); len(got) != 0 {
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
	first := watcher.next("#presence", 5*time.Second)
	if got := first.Find("[data-user]"); got.Length() != 1 || got.AttrOr("data-user", "") != "bob" {
		t.Errorf("first presence %v", got.Text())
	}
	tab1 := alice.dial(room, -1)
	if s := watcher.next(`[hx-swap-oob="beforeend:#presence"] [data-user=alice]`, 5*time.Second); s.Length() != 1 {
		t.Error("alice's arrival not pushed")
	}
	list := tab1.next("#presence", 5*time.Second).Find("[data-user]")
	if list.Length() != 2 {
		t.Errorf("alice sees %d online", list.Length())
	}
	tab2 := alice.dial(room, -1).settle()
	if got := srv.Hub.Online(1); strings.Join(got, ",") != "alice,bob" {
		t.Errorf("online %v", got)
	}
	// A second tab announces nothing new; closing one of two keeps her.
	tab2.conn.Close()
	time.Sleep(200 * time.Millisecond)
	select {
	case f := <-watcher.frames:
		t.Errorf("second tab changed presence: %q", f)
	default:
	}

	tab1.send(map[string]any{"typing": true})
	typing := watcher.next(".typing-user[data-user=alice]", 5*time.Second)
	if !strings.Contains(typing.Text(), "alice is typing") {
		t.Errorf("typing says %q", typing.Text())
	}
	// A second signal inside two seconds is dropped by the server.
	tab1.send(map[string]any{"typing": true})
	time.Sleep(200 * time.Millisecond)
	select {
	case f := <-watcher.frames:
		t.Errorf("typing not throttled: %q", f)
	default:
	}

	tab1.conn.Close()
	gone := watcher.next(`[hx-swap-oob=delete]`, 5*time.Second)
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
	j := ws.next("[data-kind=join]", 5*time.Second)
	if j.AttrOr("data-author", "") != "bob" {
		t.Error("join not pushed")
	}
	bob.post(room+"/messages", url.Values{"text": {"from a form"}})
	p := ws.next("[data-kind=post]", 5*time.Second)
	if p.Find(".text").Text() != "from a form" {
		t.Error("form post not pushed")
	}
	bob.post(room+"/leave", nil)
	if ws.next("[data-kind=leave]", 5*time.Second).AttrOr("data-author", "") != "bob" {
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
		got := ws.entriesUntil(1, 5*time.Second)
		if len(got) != 1 || !strings.HasSuffix(got[0], text) {
			t.Fatalf("round %d: got %v", i, got)
		}
		ws.conn.Close()
		for srv.Hub.Conns() != 0 {
			time.Sleep(time.Millisecond)
		}
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
		ws.next("form#compose[hx-swap-oob]", 5*time.Second)
	}
	// From a new connection too, as after a reconnect.
	ws2 := alice.dial(room, -1).settle()
	ws2.send(map[string]any{"text": "only once", "client_id": "k3y-0123456789"})
	ws2.next("form#compose[hx-swap-oob]", 5*time.Second)

	got := watcher.entries(300 * time.Millisecond)
	if len(got) != 1 {
		t.Errorf("watcher got %v, want the post once", got)
	}
	msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 10)
	if len(msgs) != 2 || msgs[1].ClientID != "k3y-0123456789" {
		t.Errorf("stored %+v", msgs)
	}
	page := alice.get(room).doc(t)
	if page.Find(`[data-client-id="k3y-0123456789"]`).Length() != 1 {
		t.Error("the entry does not carry its client id")
	}
	// The same id through the plain form lands nowhere new either.
	alice.post(room+"/messages", url.Values{"text": {"only once"}, "client_id": {"k3y-0123456789"}})
	if msgs, _ := srv.Store.ListLatestMessages(context.Background(), 1, 10); len(msgs) != 2 {
		t.Errorf("form replay stored again: %d entries", len(msgs))
	}
	for _, bad := range []string{"short", strings.Repeat("x", 65), "has space12", "<script>1234"} {
		ws.send(map[string]any{"text": "hi", "client_id": bad})
		if e := ws.next("[data-kind=error]", 5*time.Second); !strings.Contains(e.Text(), "could not be read") {
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
	case <-time.After(5 * time.Second):
		t.Fatal("no ping from the server")
	}
	for deadline := time.Now().Add(5 * time.Second); srv.Hub.Conns() != 1; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the silent peer was not dropped: %d connections", srv.Hub.Conns())
		}
	}
	time.Sleep(time.Second) // twice the timeout: the answering one stays
	if srv.Hub.Conns() != 1 {
		t.Error("the answering peer was dropped")
	}
	alice.post(room+"/messages", url.Values{"text": {"still here"}})
	if got := live.entriesUntil(1, 5*time.Second); len(got) != 1 {
		t.Errorf("live peer got %v", got)
	}
}
