package handlers_test

import (
	"bufio"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/internal/testutil"
	"chat/views"

	"github.com/PuerkitoBio/goquery"
	fws "github.com/fasthttp/websocket"
)

// sseEvent is one event of a stream, as a browser's EventSource sees it.
type sseEvent struct {
	id, name, data string
}

// sseClient is one open event stream; a goroutine reads its events into a
// channel, and its comments into another.
type sseClient struct {
	t        testing.TB
	res      *http.Response
	events   chan sseEvent
	comments chan string
	// lastID is the last id the stream gave, as the browser keeps it.
	mu     sync.Mutex
	lastID string
}

// stream opens path (a room's /events, or /events) with extra headers,
// and fails the test unless it is answered 200.
func (c *client) stream(path string, headers ...string) *sseClient {
	c.t.Helper()
	s, res := c.tryStream(path, headers...)
	if s == nil {
		c.t.Fatalf("stream %s: %d %s", path, res.StatusCode, res.Body)
	}
	return s
}

// tryStream opens a stream, or returns the answer that refused it.
func (c *client) tryStream(path string, headers ...string) (*sseClient, response) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	if res.StatusCode != http.StatusOK {
		defer res.Body.Close()
		var b strings.Builder
		bufio.NewReader(res.Body).WriteTo(&b)
		return nil, response{StatusCode: res.StatusCode, Header: res.Header, Body: b.String()}
	}
	s := &sseClient{t: c.t, res: res, events: make(chan sseEvent, 10000), comments: make(chan string, 100)}
	go s.readAll()
	c.t.Cleanup(func() { res.Body.Close() })
	return s, response{StatusCode: res.StatusCode, Header: res.Header}
}

// readAll parses the stream by the rules browsers follow.
func (s *sseClient) readAll() {
	defer close(s.events)
	r := bufio.NewReader(s.res.Body)
	var ev sseEvent
	var data []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			if data != nil {
				ev.data = strings.Join(data, "\n")
				s.mu.Lock()
				if ev.id != "" {
					s.lastID = ev.id
				}
				s.mu.Unlock()
				s.events <- ev
			}
			ev, data = sseEvent{}, nil
			continue
		}
		if strings.HasPrefix(line, ":") {
			select {
			case s.comments <- line:
			default:
			}
			continue
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "id":
			ev.id = value
		case "event":
			ev.name = value
		case "data":
			data = append(data, value)
		}
	}
}

func (s *sseClient) last() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastID
}

func (s *sseClient) close() { s.res.Body.Close() }

// next waits for a message event in which sel matches.
func (s *sseClient) next(sel string, timeout time.Duration) *goquery.Selection {
	s.t.Helper()
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream ended while waiting for %s", sel)
			}
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(ev.data))
			if err != nil {
				s.t.Fatal(err)
			}
			if sel := doc.Find(sel); sel.Length() > 0 {
				return sel
			}
		case <-deadline:
			s.t.Fatalf("no event with %s in %v", sel, timeout)
			return nil
		}
	}
}

func (s *sseClient) settle() *sseClient {
	s.t.Helper()
	s.next("#presence", long)
	return s
}

// through collects the events up to the first whose data marker matches,
// that one included.
func (s *sseClient) through(marker func(data string) bool, timeout time.Duration) []sseEvent {
	s.t.Helper()
	var out []sseEvent
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				s.t.Fatalf("stream ended before the marker; events so far %q", out)
			}
			out = append(out, ev)
			if ev.name == "" && marker(ev.data) {
				return out
			}
		case <-deadline:
			s.t.Fatalf("no marker in %v; events so far %q", timeout, out)
			return nil
		}
	}
}

// ended waits for the stream to end, and returns the code of its close
// event (0: none came).
func (s *sseClient) ended(timeout time.Duration) int {
	s.t.Helper()
	code := 0
	deadline := time.After(timeout)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				return code
			}
			if ev.name == "close" {
				code, _ = strconv.Atoi(ev.data)
			}
		case <-deadline:
			s.t.Fatalf("stream still open after %v", timeout)
			return 0
		}
	}
}

func TestEventStreamRefusals(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	carol := srv.register(t, "carol")
	dm := bob.post("/users/alice/dm", nil).Header.Get("Location")

	anon := srv.anon(t)
	for _, path := range []string{room + "/events", "/events"} {
		if _, res := anon.tryStream(path); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed out, %s: %d, want 401", path, res.StatusCode)
		}
	}
	// From another site's page: refused, as sockets are.
	for _, path := range []string{room + "/events", "/events"} {
		for _, h := range [][]string{{"Origin", "https://elsewhere.example"}, {"Sec-Fetch-Site", "cross-site"}, {"Sec-Fetch-Site", "same-site"}} {
			if _, res := alice.tryStream(path, h...); res.StatusCode != http.StatusForbidden {
				t.Errorf("%s with %v: %d, want 403", path, h, res.StatusCode)
			}
		}
		s, res := alice.tryStream(path, "Sec-Fetch-Site", "same-origin")
		if res.StatusCode != http.StatusOK {
			t.Errorf("%s from this site: %d", path, res.StatusCode)
		} else {
			s.close()
		}
	}
	// Else as for the room's page.
	for _, tc := range []struct {
		path    string
		headers []string
		want    int
	}{
		{"/rooms/999/events", nil, http.StatusNotFound},
		{"/rooms/nope/events", nil, http.StatusNotFound},
		{dm + "/events", nil, carol.get(dm).StatusCode},
		{room + "/events", []string{"Last-Event-ID", "yesterday"}, http.StatusBadRequest},
		{room + "/events?after=x", nil, http.StatusBadRequest},
		{room + "/events?after=1&rev=-2", nil, http.StatusBadRequest},
	} {
		if _, res := carol.tryStream(tc.path, tc.headers...); res.StatusCode != tc.want {
			t.Errorf("%s %v: %d, want %d", tc.path, tc.headers, res.StatusCode, tc.want)
		}
	}
	if got := carol.get(dm).StatusCode; got != http.StatusForbidden && got != http.StatusNotFound {
		t.Errorf("someone else's DM page: %d", got)
	}
	if srv.Hub.Conns() != 0 {
		t.Errorf("refused streams hold %d connections", srv.Hub.Conns())
	}
}

// The headers that keep a stream flowing through proxies, never
// compressed, with a comment when there is nothing to say.
func TestEventStreamHeadersAndHeartbeat(t *testing.T) {
	srv := newServer(t, func(d *handlers.Deps) { d.PingEvery = 100 * time.Millisecond })
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	// Asking for gzip as browsers do: the stream comes plain all the same.
	s := alice.stream(room+"/events", "Accept-Encoding", "gzip, br")
	for name, want := range map[string]string{
		"Content-Type":      "text/event-stream",
		"Cache-Control":     "no-cache",
		"X-Accel-Buffering": "no",
		"Content-Encoding":  "",
	} {
		if got := s.res.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if s.res.Uncompressed {
		t.Error("the stream came compressed")
	}
	s.settle()
	select {
	case c := <-s.comments:
		if c != ": keep-alive" {
			t.Errorf("comment %q", c)
		}
	case <-time.After(long):
		t.Fatal("no comment on an idle stream")
	}
	// Quiet again after a post, it gets one again.
	alice.post(room+"/messages", url.Values{"text": {"between beats"}})
	s.next(`[data-kind="post"]`, long)
	for drained := false; !drained; {
		select {
		case <-s.comments:
		default:
			drained = true
		}
	}
	select {
	case <-s.comments:
	case <-time.After(long):
		t.Fatal("no comment on a stream gone quiet after a post")
	}
	// The user's own stream too.
	u := alice.stream("/events", "Accept-Encoding", "gzip")
	if u.res.Header.Get("Content-Type") != "text/event-stream" || u.res.Uncompressed {
		t.Errorf("/events: %v", u.res.Header)
	}
}

// A stream carries the very bytes a socket of the room gets, event for
// event: entries, presence, typing, edits, reactions, deletes.
func TestEventStreamSameBytesAsSocket(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")

	ws := alice.dial(room, -1).settle()
	s := alice.stream(room + "/events").settle()

	bob.post(room+"/join", nil)
	bobWS := bob.dial(room, -1).settle() // bob arrives in #presence
	alice.post(room+"/messages", url.Values{"text": {"hello @bob\nsecond line"}})
	bob.post(room+"/messages", url.Values{"text": {"hi alice"}})
	if res := bob.post(room+"/typing", nil); res.StatusCode != http.StatusNoContent {
		t.Fatalf("typing: %d %s", res.StatusCode, res.Body)
	}
	msgs, _ := srv.Store.ListLatestMessages(t.Context(), 1, 2)
	mine, his := msgs[0].ID, msgs[1].ID
	alice.post(fmt.Sprintf("/messages/%d/edit", mine), url.Values{"text": {"hello @bob, edited"}})
	alice.post(fmt.Sprintf("/messages/%d/boosts", his), url.Values{"emoji": {"🎉"}})
	bob.post(fmt.Sprintf("/messages/%d/delete", his), nil)
	bobWS.conn.Close() // bob leaves #presence
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 2 }, "bob's socket is still held")
	marker := alice.mark(room)

	var fromSocket, fromStream strings.Builder
	for _, f := range ws.through(has(`[id^=msg-]`+":contains('"+marker+"')"), long) {
		fromSocket.WriteString(f)
	}
	events := s.through(func(d string) bool { return strings.Contains(d, marker) }, long)
	for _, ev := range events {
		if ev.id == "" {
			t.Errorf("an event without id: %q", ev.data)
		}
		fromStream.WriteString(ev.data)
	}
	if fromSocket.String() != fromStream.String() {
		t.Errorf("the stream's bytes differ from the socket's:\nsocket %q\nstream %q", fromSocket.String(), fromStream.String())
	}
	for _, want := range []string{"data-kind=\"join\"", "beforeend:#presence", "is typing", "data-edited", "data-kind=\"deleted\"", "hx-swap-oob=\"delete\""} {
		if !strings.Contains(fromStream.String(), want) {
			t.Errorf("the stream carried no %s", want)
		}
	}
	// The last event's id is where the stream stands: the newest entry,
	// and the newest change.
	rev, _ := srv.Store.RoomRev(t.Context(), 1)
	latest, _ := srv.Store.ListLatestMessages(t.Context(), 1, 1)
	if want := fmt.Sprintf("%d-%d", latest[0].ID, rev); events[len(events)-1].id != want {
		t.Errorf("last id %q, want %q", events[len(events)-1].id, want)
	}
}

// A stream that comes back with Last-Event-ID (or ?after=&rev=) gets each
// entry posted while it was away once, each change made meanwhile once,
// then goes on live.
func TestEventStreamResume(t *testing.T) {
	srv := newServer(t, withPostLimit(0))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)
	for i := range 3 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("before %d", i)}})
	}
	msgs, _ := srv.Store.ListLatestMessages(t.Context(), 1, 3)
	old := msgs[0].ID

	s := bob.stream(room + "/events").settle()
	alice.post(fmt.Sprintf("/messages/%d/boosts", old), url.Values{"emoji": {"👍"}})
	s.next(".boosts", long)
	away := s.last()
	if away == "" {
		t.Fatal("no id yet")
	}
	s.close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 0 }, "the closed stream is still held")

	// While bob is away: posts, an edit and a reaction on what he holds,
	// and an edit of one he has not seen.
	for i := range 5 {
		alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("missed %d", i)}})
	}
	msgs, _ = srv.Store.ListLatestMessages(t.Context(), 1, 1)
	unseen := msgs[0].ID
	alice.post(fmt.Sprintf("/messages/%d/edit", old), url.Values{"text": {"before 0, edited"}})
	alice.post(fmt.Sprintf("/messages/%d/boosts", old+1), url.Values{"emoji": {"🎉"}})
	alice.post(fmt.Sprintf("/messages/%d/edit", unseen), url.Values{"text": {"missed 4, edited"}})

	check := func(t *testing.T, s *sseClient) {
		t.Helper()
		marker := alice.mark(room)
		var got []string
		for _, ev := range s.through(func(d string) bool { return strings.Contains(d, marker) }, long) {
			doc, err := goquery.NewDocumentFromReader(strings.NewReader(ev.data))
			if err != nil {
				t.Fatal(err)
			}
			doc.Find("[id^=msg-], [id^=boosts-]").Each(func(_ int, e *goquery.Selection) {
				// Markers of this subtest and the ones before.
				if strings.HasPrefix(strings.TrimSpace(e.Find(".text").Text()), "marker ") || e.ParentsFiltered("[id^=msg-]").Length() > 0 {
					return
				}
				got = append(got, e.AttrOr("id", "")+" "+strings.TrimSpace(e.Find(".text").Text()))
			})
		}
		want := []string{
			// Changed while away, as they are now, in the order changed.
			fmt.Sprintf("msg-%d before 0, edited", old),
			fmt.Sprintf("msg-%d before 1", old+1),
			// Then each missed entry once, as it is now.
			fmt.Sprintf("msg-%d missed 0", unseen-4),
			fmt.Sprintf("msg-%d missed 1", unseen-3),
			fmt.Sprintf("msg-%d missed 2", unseen-2),
			fmt.Sprintf("msg-%d missed 3", unseen-1),
			fmt.Sprintf("msg-%d missed 4, edited", unseen),
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("after resuming:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
	t.Run("LastEventID", func(t *testing.T) {
		s := bob.stream(room+"/events", "Last-Event-ID", away)
		check(t, s)
		s.close()
	})
	t.Run("Query", func(t *testing.T) {
		after, rev, _ := strings.Cut(away, "-")
		// Last-Event-ID wins over the query the page first opened with.
		s := bob.stream(room+"/events?after=1&rev=0", "Last-Event-ID", away)
		check(t, s)
		s.close()
		s = bob.stream(room + "/events?after=" + after + "&rev=" + rev)
		check(t, s)
		s.close()
	})
	t.Run("NoGapNoDuplicateUnderLoad", func(t *testing.T) {
		poster := alice.dial(room, -1).settle()
		stop := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		defer func() {
			select {
			case <-stop:
			default:
				close(stop) // a failed check ends the poster too
			}
			wg.Wait()
		}()
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if poster.conn.WriteMessage(fws.TextMessage, []byte(fmt.Sprintf(`{"text": "live %d"}`, i))) != nil {
					return
				}
				time.Sleep(time.Millisecond) // the pace of the load, no synchronization
			}
		}()
		for range 10 {
			msgs, _ := srv.Store.ListLatestMessages(t.Context(), 1, 1)
			from := msgs[0].ID - 5
			s := bob.stream(room + "/events?after=" + strconv.FormatInt(from, 10))
			msgs, _ = srv.Store.ListLatestMessages(t.Context(), 1, 1)
			past := msgs[0].ID
			prev, got := from, 0
			deadline := time.After(long)
			for prev <= past || got < 5 {
				var ev sseEvent
				select {
				case ev = <-s.events:
				case <-deadline:
					t.Fatalf("after %d entries up to %d, none past %d in %v", got, prev, past, long)
				}
				for _, e := range entriesOf(t, ev.data) {
					id, _ := strconv.ParseInt(strings.Fields(e)[0], 10, 64)
					if id != prev+1 {
						t.Fatalf("after %d came %d: gap or duplicate", prev, id)
					}
					prev = id
					got++
				}
			}
			s.close()
		}
		close(stop)
		wg.Wait()
		poster.conn.Close()
		testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 0 }, "the poster's socket is still held")
	})
	t.Run("FromTheLastID", func(t *testing.T) {
		// A stream resumed from the id of its last event gets nothing
		// again.
		s := bob.stream(room+"/events", "Last-Event-ID", away)
		marker := alice.mark(room)
		s.through(func(d string) bool { return strings.Contains(d, marker) }, long)
		id := s.last()
		s.close()
		cur, _, _ := strings.Cut(id, "-")
		held, _ := strconv.ParseInt(cur, 10, 64)
		s = bob.stream(room+"/events", "Last-Event-ID", id)
		marker = alice.mark(room)
		for _, ev := range s.through(func(d string) bool { return strings.Contains(d, marker) }, long) {
			for _, e := range entriesOf(t, ev.data) {
				if n, _ := strconv.ParseInt(strings.Fields(e)[0], 10, 64); n <= held {
					t.Errorf("sent again: %q", e)
				}
			}
		}
	})
}

// A stream whose reader does not keep up is ended; the others get every
// entry.
func TestEventStreamSlowReader(t *testing.T) {
	srv := newServer(t, withPostLimit(0), withQueueLen(64))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")

	// A raw connection that reads nothing after its request.
	stuck, err := net.Dial("tcp", srv.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer stuck.Close()
	stuck.(*net.TCPConn).SetReadBuffer(4 << 10)
	fmt.Fprintf(stuck, "GET %s/events HTTP/1.1\r\nHost: %s\r\nCookie: chat_session=%s\r\n\r\n", room, srv.Host, bob.cookie("chat_session").Value)
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the stuck stream is not subscribed")
	fast := alice.stream(room + "/events").settle()

	// Posts until the stuck stream is let go (enough bytes to fill the
	// buffers between the server and it, then its queue), at most 4000.
	big := strings.Repeat("x", 3900)
	var posted atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					i := posted.Add(1)
					if i > 4000 {
						return
					}
					alice.post(room+"/messages", url.Values{"text": {fmt.Sprintf("%d %s", i, big)}})
				}
			}()
		}
		wg.Wait()
	}()
	// The stuck one is let go, though its reader never reads.
	testutil.Eventually(t, 5*time.Minute, func() bool { return srv.Hub.Conns() == 1 }, "the hub still holds the stuck stream")
	close(stop)
	<-done
	// The reading one got every post, the last ones too.
	sent := int(min(posted.Load(), 4000))
	marker := alice.mark(room)
	got := 0
	for _, ev := range fast.through(func(d string) bool { return strings.Contains(d, marker) }, long) {
		got += strings.Count(ev.data, `data-kind="post"`)
	}
	if got != sent+1 {
		t.Errorf("the reading stream got %d of %d posts", got-1, sent)
	}
}

// A stream closed for being too slow is sent its close event and nothing
// more: no event after the last whole one, empty or not.
func TestEventStreamTooSlowEndsClean(t *testing.T) {
	srv := newServer(t, withQueueLen(4))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	s := alice.stream(room + "/events").settle()
	frame := hub.Event{Data: []byte(`<div id="flood" hx-swap-oob="true">x</div>`)}
	id := roomIDOf(t, room)
	testutil.Eventually(t, long, func() bool {
		for range 50 {
			srv.Hub.Publish(id, frame)
		}
		return srv.Hub.Conns() == 0
	}, "the stream is not closed as too slow")
	deadline := time.After(long)
	for {
		select {
		case ev, ok := <-s.events:
			if !ok {
				t.Fatal("the stream ended without its close event")
			}
			if ev.name == "close" {
				if ev.data != "1013" {
					t.Errorf("close event %q, want 1013", ev.data)
				}
				return
			}
			if ev.data != string(frame.Data) && !strings.Contains(ev.data, `id="presence"`) {
				t.Fatalf("an event the room did not publish: %+v", ev)
			}
		case <-deadline:
			t.Fatal("no close event")
		}
	}
}

// Streams end as sockets do: on sign-out, deactivation, a password change
// elsewhere, and shutdown; the page is told why.
func TestEventStreamEnds(t *testing.T) {
	srv := newServer(t)
	root := srv.register(t, "root") // the first account: an admin
	room := root.createRoom("general")
	login := func(name string) *client {
		c := srv.anon(t)
		if res := c.post("/login", url.Values{"username": {name}, "password": {"password-" + name}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("login %s: %d", name, res.StatusCode)
		}
		return c
	}
	t.Run("Logout", func(t *testing.T) {
		srv.register(t, "lou")
		c := login("lou")
		s := c.stream(room + "/events").settle()
		u := c.stream("/events")
		other := login("lou")
		stays := other.stream(room + "/events").settle()
		c.post("/logout", nil)
		if code := s.ended(long); code != 1008 {
			t.Errorf("close %d, want 1008", code)
		}
		if code := u.ended(long); code != 1008 {
			t.Errorf("user stream: close %d, want 1008", code)
		}
		// Another session of the same user stays.
		marker := root.mark(room)
		stays.through(func(d string) bool { return strings.Contains(d, marker) }, long)
		// And the ended session's stream is refused.
		if _, res := c.tryStream(room + "/events"); res.StatusCode != http.StatusUnauthorized {
			t.Errorf("signed out, reconnect: %d", res.StatusCode)
		}
	})
	t.Run("Deactivation", func(t *testing.T) {
		dee := srv.register(t, "dee")
		s := dee.stream(room + "/events").settle()
		ws := dee.dial(room, -1).settle()
		if res := root.post("/admin/users/dee/deactivate", nil); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("deactivate: %d", res.StatusCode)
		}
		if code := s.ended(long); code != 1008 {
			t.Errorf("close %d, want 1008", code)
		}
		if code := ws.closeCode(long); code != 1008 {
			t.Errorf("socket close %d, want 1008", code)
		}
	})
	t.Run("PasswordChange", func(t *testing.T) {
		pat := srv.register(t, "pat")
		elsewhere := login("pat")
		s := elsewhere.stream(room + "/events").settle()
		mine := pat.stream(room + "/events").settle()
		res := pat.post("/account/password", url.Values{"current_password": {"password-pat"}, "new_password": {"another password"}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("password change: %d", res.StatusCode)
		}
		if code := s.ended(long); code != 1008 {
			t.Errorf("close %d, want 1008", code)
		}
		marker := root.mark(room)
		mine.through(func(d string) bool { return strings.Contains(d, marker) }, long)
	})
	t.Run("Shutdown", func(t *testing.T) {
		s := root.stream(room + "/events").settle()
		srv.Hub.Shutdown(1012, "restart")
		if code := s.ended(long); code != 1012 {
			t.Errorf("close %d, want 1012", code)
		}
		if _, res := root.tryStream(room + "/events"); res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("while shutting down: %d", res.StatusCode)
		}
	})
}

// The per-user cap counts streams and sockets together.
func TestEventStreamCapCountsSockets(t *testing.T) {
	srv := newServer(t, withMaxSockets(2))
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")

	ws := alice.dial(room, -1).settle()
	s := alice.stream("/events")
	if _, res := alice.tryStream(room + "/events"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third, as a stream: %d, want 429", res.StatusCode)
	}
	if _, res, err := alice.tryDial(room, -1, srv.URL); err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("a third, as a socket: %v", err)
	}
	s.close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the closed stream is still counted")
	alice.stream(room + "/events").settle()
	ws.conn.Close()
	testutil.Eventually(t, long, func() bool { return srv.Hub.Conns() == 1 }, "the closed socket is still counted")
	alice.stream(room + "/events").settle()
}

// Typing and posting without a socket: small POSTs, answered as the socket
// answers, pushed to everyone over their streams.
func TestPostsWithoutSocket(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	s := bob.stream(room + "/events").settle()

	if res := bob.post(room+"/typing", nil); res.StatusCode != http.StatusForbidden {
		t.Errorf("typing, not a member: %d", res.StatusCode)
	}
	if res := alice.post(room+"/typing", nil); res.StatusCode != http.StatusNoContent {
		t.Errorf("typing: %d", res.StatusCode)
	}
	if got := s.next(".typing-user", long).AttrOr("data-user", ""); got != "alice" {
		t.Errorf("typing of %q", got)
	}
	if res := alice.post("/rooms/999/typing", nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("typing in no room: %d", res.StatusCode)
	}

	htmx := []string{"HX-Request", "true"}
	res := alice.post(room+"/messages", url.Values{"text": {"over http"}, "client_id": {"abcdef123456"}}, htmx...)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("htmx post: %d", res.StatusCode)
	}
	if f := res.doc(t).Find(`form#compose[hx-swap-oob]`); f.Length() != 1 || f.Find(`textarea`).Text() != "" {
		t.Errorf("answer %q, want a fresh compose form", res.Body)
	}
	if got := s.next("[data-kind=post]", long).Find(".text").Text(); got != "over http" {
		t.Errorf("pushed %q", got)
	}
	// The same client id again lands once.
	alice.post(room+"/messages", url.Values{"text": {"over http"}, "client_id": {"abcdef123456"}}, htmx...)
	marker := alice.mark(room)
	for _, ev := range s.through(func(d string) bool { return strings.Contains(d, marker) }, long) {
		if strings.Contains(ev.data, "over http") {
			t.Errorf("sent twice: %q", ev.data)
		}
	}
	res = alice.post(room+"/messages", url.Values{"text": {"  "}}, htmx...)
	if res.StatusCode != http.StatusUnprocessableEntity || res.doc(t).Find(`#compose-error[data-kind=error][hx-swap-oob]`).Length() != 1 {
		t.Errorf("blank, htmx: %d %q", res.StatusCode, res.Body)
	}
	// A plain form returns to the room, which opens at its newest entry.
	res = alice.post(room+"/messages", url.Values{"text": {"plain"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != room {
		t.Errorf("plain post: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// The room page, before any script: who is online now, and a mark after
// the newest entry.
func TestRoomPageWithoutScript(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.stream(room + "/events").settle()
	carol := srv.register(t, "carol")
	carol.dial(room, -1).settle()

	doc := alice.get(room).doc(t)
	var online []string
	doc.Find("#presence [data-user]").Each(func(_ int, s *goquery.Selection) { online = append(online, s.AttrOr("data-user", "")) })
	if strings.Join(online, ",") != "bob,carol" {
		t.Errorf("#presence lists %v", online)
	}
	if doc.Find("#messages + #latest").Length() != 1 {
		t.Error("no #latest after #messages")
	}
	if ph := doc.Find("#compose textarea").AttrOr("placeholder", ""); strings.Contains(ph, "@") {
		t.Errorf("placeholder %q", ph)
	}
	if f := doc.Find("#compose"); f.AttrOr("hx-post", "") != room+"/messages" || f.AttrOr("action", "") != room+"/messages" {
		t.Error("the compose form posts nowhere")
	}
}

// The user's own stream (the lobby's, as /ws is its socket) carries the
// unread marks of their room list, live.
func TestUserEventStreamUnread(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	bob := srv.register(t, "bob")
	room := alice.createRoom("alpha")
	bob.post(room+"/join", nil)
	bob.get(room)
	s := bob.stream("/events")
	alice.post(room+"/messages", url.Values{"text": {"news"}})
	mark := s.next("#"+views.RoomLinkID(roomNumber(t, room))+" a[data-unread]", long)
	if mark.AttrOr("href", "") != room || mark.AttrOr("data-count", "") != "1" {
		t.Errorf("mark %q, count %q", mark.AttrOr("href", ""), mark.AttrOr("data-count", ""))
	}
	// Counted on: one more, and a mention of him.
	alice.post(room+"/messages", url.Values{"text": {"@bob news"}})
	mark = s.next("#"+views.RoomLinkID(roomNumber(t, room))+" a[data-mention]", long)
	if mark.AttrOr("data-count", "") != "2" {
		t.Errorf("count %q after a mention, want 2", mark.AttrOr("data-count", ""))
	}
}
