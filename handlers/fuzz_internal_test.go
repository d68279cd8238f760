package handlers

import (
	"context"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"chat/hub"
	"chat/i18n"
	"chat/store"
)

// FuzzWSFrame feeds arbitrary bytes to the socket's frame handler: it never
// panics, and whatever it stores is a post fit to store.
func FuzzWSFrame(f *testing.F) {
	for _, seed := range []string{
		`{"text":"hello"}`, `{"text":"hi","HEADERS":{"HX-Request":"true"}}`, `{"typing":true}`, `{"text":""}`,
		`{"text":"  \n "}`, `{"text":42}`, `{"text":null}`, `null`, `[]`, `"text"`, `{`, ``, "\xff\xfe",
		`{"text":"a","client_id":"abcdefgh12"}`, `{"text":"a","client_id":"<script>"}`, `{"text":"\u0000bad"}`,
		`{"text":"` + strings.Repeat("é", 4001) + `"}`, `{"text":"ok","text":"twice"}`, `{"Text":"case"}`,
		`{"text":"\ud800"}`, `{"typing":"yes"}`,
	} {
		f.Add([]byte(seed))
	}
	h := hub.New(hub.Config{QueueLen: 1 << 16})
	a, _, db := newTestApp(f, h)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, "alice", "x")
	if err != nil {
		f.Fatal(err)
	}
	room, _, err := db.CreateRoom(ctx, "general", u.ID)
	if err != nil {
		f.Fatal(err)
	}
	sub, err := h.Subscribe(room.ID, u.Username, "s")
	if err != nil {
		f.Fatal(err)
	}
	// A Spanish reader: the refusals it is sent are worded in its language.
	es, _ := a.langs.Lookup("es")
	p := wsParams{roomID: room.ID, roomName: room.Name, user: u, session: "s", after: -1, lang: es}
	var last int64
	f.Fuzz(func(t *testing.T, frame []byte) {
		var typing time.Time
		a.handleFrame(sub, &p, frame, &typing)
		sub.Take(nil)
		msgs, err := db.ListMessagesAfter(ctx, room.ID, last, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			last = m.ID
			if m.Kind != store.KindPost {
				continue
			}
			if !utf8.ValidString(m.Text) || m.Text == "" || strings.TrimSpace(m.Text) != m.Text || utf8.RuneCountInString(m.Text) > postMax {
				t.Fatalf("stored %q from %q", m.Text, frame)
			}
			for _, r := range m.Text {
				if unicode.IsControl(r) && r != '\n' && r != '\t' {
					t.Fatalf("stored a control character from %q", frame)
				}
			}
		}
	})
}

// FuzzValidators: what the validators accept keeps the contract's rules.
func FuzzValidators(f *testing.F) {
	for _, seed := range []string{"alice", "ab", "a b", "<script>", "Ünïcode", strings.Repeat("x", 33), "a.b-c_d", "  Room  ", "☕ café", "\t", "line\nbreak", "\xff", strings.Repeat("é", 65)} {
		f.Add(seed)
	}
	en := i18n.Default().English()
	f.Fuzz(func(t *testing.T, s string) {
		if validateUsername(en, s) == "" {
			if len(s) < 3 || len(s) > 32 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != "" {
				t.Fatalf("username %q accepted", s)
			}
		}
		if validatePassword(en, s) == "" {
			if n := utf8.RuneCountInString(s); !utf8.ValidString(s) || n < 8 || n > 256 {
				t.Fatalf("password %q accepted", s)
			}
		}
		if name, problem := cleanRoomName(en, s); problem == "" {
			n := utf8.RuneCountInString(name)
			if !utf8.ValidString(name) || n < 1 || n > 64 || strings.TrimSpace(name) != name || strings.IndexFunc(name, unicode.IsControl) >= 0 {
				t.Fatalf("room name %q accepted as %q", s, name)
			}
		}
		if text, problem := cleanPost(en, s, false); problem == "" {
			if !utf8.ValidString(text) || text == "" || utf8.RuneCountInString(text) > 4000 || strings.Contains(text, "\r") {
				t.Fatalf("post %q accepted as %q", s, text)
			}
		}
		if validClientID(s) && s != "" {
			if len(s) < 8 || len(s) > 64 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") != "" {
				t.Fatalf("client id %q accepted", s)
			}
		}
	})
}
