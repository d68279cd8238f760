package handlers_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/internal/testdb"
	"chat/internal/testutil"
	"chat/store"

	"github.com/PuerkitoBio/goquery"
)

// testArgon2 is a real argon2id hash at a lower cost, so that a suite that
// signs up dozens of users stays quick under the race detector.
var testArgon2 = handlers.Argon2Params{Memory: 1024, Time: 1, Threads: 1}

type testServer struct {
	URL   string
	Host  string
	Store *store.Store
	Hub   *hub.Hub
	Logs  *testutil.LogBuffer
	DB    string // the database's path or URL
}

// long bounds the tests' waits for the server: generous for a loaded
// machine, and free when things are fast, as a wait that is met returns.
const long = 30 * time.Second

type serverOption func(*handlers.Deps)

func withPostLimit(n int) serverOption { return func(d *handlers.Deps) { d.PostLimit = n } }

func withTrustedProxies(p ...string) serverOption {
	return func(d *handlers.Deps) {
		for _, s := range p {
			d.TrustedProxies = append(d.TrustedProxies, netip.MustParsePrefix(s))
		}
	}
}

func withLoginLimit(n int) serverOption { return func(d *handlers.Deps) { d.LoginLimit = n } }

func withRoomLimit(n int) serverOption { return func(d *handlers.Deps) { d.RoomLimit = n } }

func withBodyLimit(n int) serverOption { return func(d *handlers.Deps) { d.BodyLimit = n } }

func withMaxSockets(n int) serverOption {
	return func(d *handlers.Deps) {
		d.Hub = hub.New(hub.Config{MaxPerUser: n, Presence: handlers.PresenceFrames()})
	}
}

// clock is a time the test moves by hand.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func withClock(c *clock) serverOption { return func(d *handlers.Deps) { d.Clock = c.Now } }

func withQueueLen(n int) serverOption {
	return func(d *handlers.Deps) { d.Hub = hub.New(hub.Config{QueueLen: n, Presence: handlers.PresenceFrames()}) }
}

func TestMain(m *testing.M) { os.Exit(testdb.RunBoth(m)) }

// newServer serves the chat on 127.0.0.1:0 with a fresh database file.
func newServer(t testing.TB, opts ...serverOption) *testServer {
	t.Helper()
	dbPath := testdb.New(t)
	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	logs := testutil.NewLogBuffer(nil)
	deps := handlers.Deps{
		Store:  db,
		Hub:    hub.New(hub.Config{Presence: handlers.PresenceFrames()}),
		Logger: slog.New(slog.NewTextHandler(logs, nil)),
		Argon2: testArgon2,
	}
	for _, o := range opts {
		o(&deps)
	}
	app := handlers.NewApp(deps)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		deps.Hub.Shutdown(hub.CloseServiceReboot, "test over")
		ctx, cancel := context.WithTimeout(context.Background(), 5e9)
		defer cancel()
		deps.Hub.Wait(ctx)
		app.ShutdownWithContext(ctx)
		db.Close()
	})
	return &testServer{URL: "http://" + ln.Addr().String(), Host: ln.Addr().String(), Store: db, Hub: deps.Hub, Logs: logs, DB: dbPath}
}

// client is one browser: its own cookie jar, redirects not followed.
type client struct {
	t    testing.TB
	srv  *testServer
	name string
	http *http.Client
}

func (s *testServer) anon(t testing.TB) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, srv: s, http: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// register signs up a user and returns their signed-in browser.
func (s *testServer) register(t testing.TB, name string) *client {
	t.Helper()
	c := s.anon(t)
	res := c.post("/register", url.Values{"username": {name}, "password": {"password-" + name}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("register %s: %d %s", name, res.StatusCode, res.Body)
	}
	c.name = name
	return c
}

type response struct {
	StatusCode int
	Header     http.Header
	Body       string
}

func (r response) doc(t testing.TB) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (c *client) do(req *http.Request) response {
	c.t.Helper()
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		c.t.Fatal(err)
	}
	return response{StatusCode: res.StatusCode, Header: res.Header, Body: string(body)}
}

func (c *client) get(path string, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, c.srv.URL+path, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return c.do(req)
}

// post sends a form as a browser on this site would; headers are pairs of
// name and value set on top.
func (c *client) post(path string, form url.Values, headers ...string) response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
		} else {
			req.Header.Set(headers[i], headers[i+1])
		}
	}
	return c.do(req)
}

func (c *client) cookie(name string) *http.Cookie {
	u, _ := url.Parse(c.srv.URL)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck
		}
	}
	return nil
}

// createRoom makes a room through the form and returns its id path.
func (c *client) createRoom(name string) string {
	c.t.Helper()
	res := c.post("/rooms", url.Values{"name": {name}})
	if res.StatusCode != http.StatusSeeOther {
		c.t.Fatalf("create room %q: %d", name, res.StatusCode)
	}
	return res.Header.Get("Location")
}
