package handlers_test

import (
	"bufio"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"chat/internal/testutil"
)

// metric reads one sample from /metrics: name with its labels as written
// there, e.g. `chat_posts_total{outcome="stored"}`.
func (c *client) metric(t *testing.T, sample string) float64 {
	t.Helper()
	res := c.get("/metrics")
	if res.StatusCode != 200 {
		t.Fatalf("/metrics: %d", res.StatusCode)
	}
	sc := bufio.NewScanner(strings.NewReader(res.Body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, sample+" ") {
			v, err := strconv.ParseFloat(strings.TrimPrefix(line, sample+" "), 64)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
	}
	t.Fatalf("no %s in /metrics", sample)
	return 0
}

func TestMetricsMove(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	bob := srv.register(t, "bob")
	bob.post(room+"/join", nil)
	sockets := []*wsClient{alice.dial(room, -1).settle(), alice.dial(room, -1).settle(), bob.dial(room, -1).settle()}

	stored := alice.metric(t, `chat_posts_total{outcome="stored"}`)
	rejected := alice.metric(t, `chat_posts_total{outcome="rejected"}`)
	deliveries := alice.metric(t, `chat_deliveries_total`)
	if n := alice.metric(t, `chat_ws_connections`); n != 3 {
		t.Errorf("chat_ws_connections %v, want 3", n)
	}
	if n := alice.metric(t, `chat_rooms_active`); n != 1 {
		t.Errorf("chat_rooms_active %v, want 1", n)
	}

	sockets[0].post("counted")
	// The sender's fresh form comes once the post is counted (the entry
	// may reach the sockets first), after the entry.
	sockets[0].through(has("form#compose[hx-swap-oob]"), long)
	for _, ws := range sockets[1:] {
		ws.entriesUntil(1, long)
	}
	if d := alice.metric(t, `chat_posts_total{outcome="stored"}`) - stored; d != 1 {
		t.Errorf("stored went up by %v, want 1", d)
	}
	if d := alice.metric(t, `chat_deliveries_total`) - deliveries; d != 3 {
		t.Errorf("deliveries went up by %v, want 3 (the sockets of the room)", d)
	}
	sockets[0].post("")
	sockets[0].next("[data-kind=error]", long)
	if d := alice.metric(t, `chat_posts_total{outcome="rejected"}`) - rejected; d != 1 {
		t.Errorf("rejected went up by %v, want 1", d)
	}
	if n := alice.metric(t, `chat_post_store_seconds_count`); n < 1 {
		t.Errorf("no post store time observed")
	}
	if n := alice.metric(t, `chat_post_delivery_seconds_count`); n < 1 {
		t.Errorf("no post delivery time observed")
	}
	// Route patterns, never raw paths.
	if n := alice.metric(t, `chat_http_requests_total{route="/rooms/:id/join",status="303"}`); n != 1 {
		t.Errorf("join requests %v, want 1", n)
	}
	if strings.Contains(alice.get("/metrics").Body, `route="/rooms/1`) {
		t.Error("a raw path in the metrics")
	}
	// Closes by reason.
	client := alice.metric(t, `chat_ws_closed_total{reason="client"}`)
	sockets[2].conn.Close()
	testutil.Eventually(t, long, func() bool {
		return alice.metric(t, `chat_ws_closed_total{reason="client"}`) == client+1
	}, "a client's close was not counted")
	bob.post("/logout", nil)
	// Go runtime and process collectors are there.
	body := alice.get("/metrics").Body
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes", "chat_http_request_seconds_bucket"} {
		if !strings.Contains(body, name) {
			t.Errorf("no %s", name)
		}
	}
	if res := srv.anon(t).get("/metrics"); res.StatusCode != 303 {
		t.Errorf("signed-out /metrics: %d", res.StatusCode)
	}
}

// The logs carry no password, session token or message text.
func TestLogsHoldNoSecrets(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	login(srv.anon(t), "alice", "password-alice")
	login(srv.anon(t), "alice", "wrong-password-9")
	room := alice.createRoom("general")
	ws := alice.dial(room, -1).settle()
	ws.post("the secret plan is tea")
	ws.entriesUntil(1, long)
	alice.post(room+"/messages", url.Values{"text": {"form secret words"}})
	alice.post("/account/password", url.Values{"current_password": {"password-alice"}, "new_password": {"brand-new-secret"}})
	logs := srv.Logs.String()
	for _, secret := range []string{"password-alice", "wrong-password-9", "brand-new-secret", alice.cookie("chat_session").Value, "secret plan", "form secret"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q", secret)
		}
	}
	for _, want := range []string{"request_id=", "route=/rooms/:id/ws", "socket open", "status=303"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the logs lack %q", want)
		}
	}
}
