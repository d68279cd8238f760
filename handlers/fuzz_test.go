package handlers_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzForms posts arbitrary fields to every form: never a server error,
// and whatever is stored obeys the rules.
func FuzzForms(f *testing.F) {
	for _, seed := range [][2]string{
		{"alice", "password1"}, {"", ""}, {"<script>", "x"}, {"a\x00b", "\xff\xfe"}, {"  Room  ", "text\r\nmore"},
		{strings.Repeat("a", 70), strings.Repeat("b", 5000)}, {"%00", "%zz"}, {"Ωmega", "👍🏽"},
	} {
		f.Add(seed[0], seed[1])
	}
	srv := newServer(f)
	owner := srv.register(f, "owner")
	room := owner.createRoom("general")
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, a, b string) {
		forms := []struct {
			c    *client
			path string
			form url.Values
		}{
			{srv.anon(t), "/register", url.Values{"username": {a}, "password": {b}}},
			{srv.anon(t), "/login", url.Values{"username": {a}, "password": {b}}},
			{owner, "/rooms", url.Values{"name": {a}}},
			{owner, room + "/messages", url.Values{"text": {b}, "client_id": {a}}},
		}
		for _, fm := range forms {
			fm.c.t = t
			if res := fm.c.post(fm.path, fm.form); res.StatusCode >= 500 {
				t.Fatalf("POST %s %v: %d", fm.path, fm.form, res.StatusCode)
			}
		}
		if u, err := srv.Store.FindUserByUsername(ctx, a); err == nil && (len(u.Username) < 3 || len(u.Username) > 32) {
			t.Fatalf("stored username %q", u.Username)
		}
		rooms, err := srv.Store.ListRooms(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rooms {
			if n := utf8.RuneCountInString(r.Name); n < 1 || n > 64 || strings.TrimSpace(r.Name) != r.Name {
				t.Fatalf("stored room name %q", r.Name)
			}
		}
	})
}
