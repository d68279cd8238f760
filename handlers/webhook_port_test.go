package handlers_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBotWebhookPort: a webhook whose port is no port (0, past 65535, not
// a number) is refused when the bot is made, saying why, and no bot is
// made; a port that is one is taken.
func TestBotWebhookPort(t *testing.T) {
	srv := newServer(t, withWebhooks("127.0.0.1", "hooks.example"))
	root := srv.register(t, "root")
	for _, hook := range []string{
		"http://127.0.0.1:99999/hook",
		"http://127.0.0.1:65536/hook",
		"http://127.0.0.1:0/hook",
		"http://127.0.0.1:00/hook",
		"https://hooks.example:http/hook",
		"http://127.0.0.1:-1/hook",
		"http://[::1]:99999/hook",
	} {
		res := root.post("/admin/bots", url.Values{"name": {"helper"}, "webhook_url": {hook}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "from 1 to 65535") {
			t.Errorf("%s: %d, want 422 saying what is wrong with the port", hook, res.StatusCode)
		}
		if res.doc(t).Find("#bot-token").Length() != 0 {
			t.Errorf("%s: a token was shown", hook)
		}
	}
	if n := root.get("/admin").doc(t).Find(`tr[data-user="helper"]`).Length(); n != 0 {
		t.Errorf("a bot was made with a webhook on no port")
	}
	for i, hook := range []string{"http://127.0.0.1:1/hook", "https://hooks.example:65535/hook", "https://hooks.example/hook"} {
		createBot(t, root, "helper"+string(rune('a'+i)), hook)
	}
}
