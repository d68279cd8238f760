package handlers_test

import (
	"net/http"
	"net/url"
	"testing"
)

// Names and queries with bytes no text column holds (NUL, invalid UTF-8)
// are nothing there is, on either engine: PostgreSQL refuses such text
// outright, SQLite finds nothing; neither may turn into a 500.
func TestOddBytesInLookups(t *testing.T) {
	srv := newServer(t)
	alice := srv.register(t, "alice")
	room := alice.createRoom("general")
	for _, name := range []string{"%00alice", "ali%00ce", "%FF%FE", "alice%C3"} {
		for _, path := range []string{"/users/" + name, "/users/" + name + "/avatar"} {
			if res := alice.get(path); res.StatusCode != http.StatusNotFound {
				t.Errorf("GET %s: %d, want 404", path, res.StatusCode)
			}
		}
		if res := alice.post("/users/"+name+"/dm", nil); res.StatusCode != http.StatusNotFound {
			t.Errorf("POST /users/%s/dm: %d, want 404", name, res.StatusCode)
		}
	}
	for _, q := range []string{"%00", "al%00", "%FF"} {
		if res := alice.get(room + "/mentions?q=" + q); res.StatusCode != http.StatusOK {
			t.Errorf("mention options for %s: %d, want 200", q, res.StatusCode)
		}
		if res := alice.get("/search?q=" + q + "abc"); res.StatusCode >= 500 {
			t.Errorf("search %s: %d", q, res.StatusCode)
		}
	}
	anon := srv.anon(t)
	if res := anon.post("/login", url.Values{"username": {"ali\x00ce"}, "password": {"password-alice"}}); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("login with a NUL in the name: %d, want 401", res.StatusCode)
	}
	if res := alice.post("/rooms", url.Values{"name": {"bad\x00room"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a room name with a NUL: %d, want 422", res.StatusCode)
	}
}
