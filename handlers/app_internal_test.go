package handlers

import (
	"context"
	"testing"

	"chat/hub"
	"chat/internal/testdb"
	"chat/store"

	"github.com/gofiber/fiber/v2"
)

// newTestApp is the chat's App and Fiber application on a database of
// the test's own, with hub (a plain one if nil) and a password hashing
// cheap enough for tests; both are closed when the test ends.
func newTestApp(t testing.TB, h *hub.Hub) (*App, *fiber.App, *store.Store) {
	t.Helper()
	db, err := store.Open(context.Background(), testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = hub.New(hub.Config{})
	}
	a, app := newApp(Deps{Store: db, Hub: h, Argon2: Argon2Params{Memory: 64, Time: 1, Threads: 1}})
	t.Cleanup(func() {
		app.Shutdown()
		db.Close()
	})
	return a, app, db
}
