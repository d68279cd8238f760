package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/store"
)

// The load tool against a real chat on loopback: every post reaches every
// connection of its room, and the counts say so.
func TestRunLoad(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(handlers.Deps{Store: db, Hub: h, Logger: slog.New(slog.DiscardHandler),
		Argon2: handlers.Argon2Params{Memory: 1024, Time: 1, Threads: 1}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go app.Listener(ln)
	t.Cleanup(func() {
		h.Shutdown(hub.CloseServiceReboot, "")
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Wait(ctx)
		app.ShutdownWithContext(ctx)
		db.Close()
	})
	out := filepath.Join(t.TempDir(), "result.json")
	o := options{url: "http://" + ln.Addr().String(), users: 6, rooms: 2, conns: 24, senders: 4, rate: 40,
		duration: 2 * time.Second, jsonOut: out, accounts: filepath.Join(t.TempDir(), "accounts.json")}
	if err := runLoad(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	var res loadResult
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	// 80 posts, each to the 12 connections of its room.
	if res.ConnectionsHeld != 24 || res.PostsSent < 70 || res.Expected != res.PostsSent*12 ||
		res.Received != res.Expected || res.Missing != 0 || res.Duplicated != 0 || res.P99ms <= 0 {
		t.Errorf("result %+v", res)
	}
	// Again with the accounts kept from the first run.
	if err := runLoad(context.Background(), o, io.Discard); err != nil {
		t.Fatalf("second run with kept accounts: %v", err)
	}
}
