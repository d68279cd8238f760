package handlers

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"chat/internal/testdb"

	"github.com/gofiber/fiber/v2"
)

// A change of the user made after the request's session was read, and
// before its page is made, is on the next page: the page was made from
// the session read before the change, so it must not be kept as if made
// after it. The chat's own middleware, in its order, with the change
// made between loading the session and keeping the page.
func TestKeptPageNotOlderThanItsSession(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("pages are kept on SQLite alone")
	}
	a, _, db := newTestApp(t, nil)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, "alice", "x")
	if err != nil {
		t.Fatal(err)
	}
	token, _, err := db.CreateSession(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	changeOnce := true
	app := fiber.New()
	app.Use(a.loadSession)
	app.Use(func(c *fiber.Ctx) error {
		if changeOnce {
			changeOnce = false
			if err := db.SetSound(ctx, u.ID, true); err != nil {
				return err
			}
		}
		return c.Next()
	})
	app.Use(a.chooseLanguage)
	app.Get("/", a.keepPage, a.handleLobby)

	lobby := func() string {
		t.Helper()
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
		res, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET /: %d", res.StatusCode)
		}
		return string(body)
	}
	if strings.Contains(lobby(), "data-sound") {
		t.Fatal("the first page, made from the session read before the change, has the sound on")
	}
	if !strings.Contains(lobby(), "data-sound") {
		t.Error("the page after the sound was turned on still has it off")
	}
}

// One session asking for page after page drops its own pages asked for
// least lately, not another session's, nor the one it keeps asking for;
// and all of them stay within the whole bound.
func TestKeptPagesBounds(t *testing.T) {
	const page = 10 << 10
	k := newKeptPages(100*page, 10*page)
	body := make([]byte, page-512)
	put := func(session string, i int) pageKey {
		key := pageKey{session: session, uri: "/search?q=" + strings.Repeat("x", i)}
		k.put(key, &keptPage{body: body})
		return key
	}
	stamp := pageStamp{}
	other := put("bob", 0)
	lobby := put("alice", 5000)
	var alices []pageKey
	for i := range 1000 {
		alices = append(alices, put("alice", i))
		if k.get(lobby, stamp) == nil {
			t.Fatalf("alice's page asked for after each other was dropped, at %d", i)
		}
	}
	if k.get(other, stamp) == nil {
		t.Error("alice's thousand pages pushed out bob's one")
	}
	kept := 0
	for i, key := range alices {
		if k.get(key, stamp) != nil {
			kept++
			if i < len(alices)-9 {
				t.Errorf("alice's page %d kept, older than her last nine", i)
			}
		}
	}
	if kept == 0 || k.sessions["alice"].bytes > 10*page {
		t.Errorf("alice keeps %d pages, %d bytes", kept, k.sessions["alice"].bytes)
	}
	for i := range 1000 {
		put(strings.Repeat("s", i+1), i)
	}
	if k.bytes > 100*page {
		t.Errorf("%d bytes kept, past the bound of %d", k.bytes, 100*page)
	}
	total := 0
	for key, p := range k.m {
		total += pageSize(key, p)
	}
	if total != k.bytes {
		t.Errorf("kept pages are %d bytes, counted %d", total, k.bytes)
	}
}
