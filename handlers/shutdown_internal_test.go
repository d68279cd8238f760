package handlers

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A post that arrives while the server stops is refused with 503 and
// stores nothing, rather than answering a server fault.
func TestPostWhileShuttingDown(t *testing.T) {
	a, app, db := newTestApp(t, nil)
	ctx := context.Background()
	u, _ := db.CreateUser(ctx, "alice", "x")
	room, _, _ := db.CreateRoom(ctx, "general", u.ID)
	token, _, _ := db.CreateSession(ctx, u.ID)
	a.writer.Close()
	req := httptest.NewRequest(http.MethodPost, fmt.Sprintf("/rooms/%d/messages", room.ID), strings.NewReader("text=hello"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: token})
	res, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("got %d, want 503", res.StatusCode)
	}
	if msgs, _ := db.ListLatestMessages(ctx, room.ID, 10); len(msgs) != 1 {
		t.Errorf("%d entries, want only the creator's join", len(msgs))
	}
}
