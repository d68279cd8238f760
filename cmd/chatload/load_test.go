package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"chat/cluster"
	"chat/handlers"
	"chat/hub"
	"chat/internal/testdb"
	"chat/internal/testnats"
	"chat/internal/testutil"
	"chat/store"

	"github.com/gofiber/fiber/v2"
)

// The load tool against a real chat on loopback: every post reaches every
// connection of its room, and the counts say so.
func TestRunLoad(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(testDeps(db, h))
	base := serve(t, app, h, db.Close)
	out := filepath.Join(t.TempDir(), "result.json")
	o := options{url: base, users: 6, rooms: 2, conns: 24, senders: 4, rate: 40,
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
	// How busy the cores were: the machine's is read from /proc; the
	// chat's is not, without -pid.
	if res.Cores != runtime.NumCPU() || res.MachineCores <= 0 || res.MachineCores > float64(res.Cores)+0.5 ||
		res.ToolCores < 0 || res.ServerCores != 0 || res.StealCores < 0 {
		t.Errorf("cores busy: %+v", res)
	}
	// Again with the accounts kept from the first run.
	if err := runLoad(context.Background(), o, io.Discard); err != nil {
		t.Fatalf("second run with kept accounts: %v", err)
	}
}

// The pages workload against a real chat: every route answers, every
// acknowledged post is found stored.
func TestRunHTTP(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(testDeps(db, h))
	base := serve(t, app, h, db.Close)
	out := filepath.Join(t.TempDir(), "result.json")
	o := options{url: base, clients: 4, duration: 500 * time.Millisecond, warmup: 100 * time.Millisecond, jsonOut: out}
	if err := runHTTP(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	var res []httpResult
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if len(res) != 5 {
		t.Fatalf("%d routes measured: %+v", len(res), res)
	}
	for _, r := range res {
		if r.Requests == 0 || r.Failed != 0 || r.Latency.P99 <= 0 {
			t.Errorf("%s: %+v", r.Route, r)
		}
	}
	if posts := res[4]; posts.Acknowledged == 0 || posts.Stored < posts.Acknowledged {
		t.Errorf("audit: %d acknowledged, %d stored", posts.Acknowledged, posts.Stored)
	}
}

// The same over event streams, the senders posting over HTTP.
func TestRunLoadStreams(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(testDeps(db, h))
	base := serve(t, app, h, db.Close)
	out := filepath.Join(t.TempDir(), "result.json")
	o := options{url: base, transport: "sse", users: 6, rooms: 2, conns: 24, senders: 4, rate: 40,
		duration: 2 * time.Second, jsonOut: out}
	if err := runLoad(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	var res loadResult
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.Transport != "sse" || res.ConnectionsHeld != 24 || res.PostsSent < 70 || res.Expected != res.PostsSent*12 ||
		res.Received != res.Expected || res.Missing != 0 || res.Duplicated != 0 || res.P99ms <= 0 {
		t.Errorf("result %+v", res)
	}
	// How busy the cores were: the machine's is read from /proc; the
	// chat's is not, without -pid.
	if res.Cores != runtime.NumCPU() || res.MachineCores <= 0 || res.MachineCores > float64(res.Cores)+0.5 ||
		res.ToolCores < 0 || res.ServerCores != 0 || res.StealCores < 0 {
		t.Errorf("cores busy: %+v", res)
	}
	if h.Conns() != 0 {
		testutil.Eventually(t, 30*time.Second, func() bool { return h.Conns() == 0 }, "the streams closed are still held")
	}
}

// Across instances: two chats linked over NATS on one PostgreSQL schema,
// the connections spread over both; every post reaches every connection
// of its room once, whichever instance it was posted on.
func TestRunLoadAcrossInstances(t *testing.T) {
	testdb.RequirePostgres(t)
	natsURL := testnats.Start(t)
	dbURL := testdb.NewPostgres(t)
	var urls []string
	for range 2 {
		db, err := store.Open(context.Background(), dbURL)
		if err != nil {
			t.Fatal(err)
		}
		h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
		deps := testDeps(db, h)
		deps.Clustered = true
		app, hooks := handlers.NewClusteredApp(deps)
		link, err := cluster.Start(context.Background(), cluster.Config{URL: natsURL, Hub: h,
			Latest: hooks.Latest, Fill: hooks.Fill, OnEntry: hooks.OnEntry, OnUser: hooks.OnUser})
		if err != nil {
			t.Fatal(err)
		}
		urls = append(urls, serve(t, app, h, link.Close, db.Close))
	}
	out := filepath.Join(t.TempDir(), "result.json")
	// Three rooms over two instances: each room has connections on both.
	o := options{url: urls[0], urls: urls, users: 6, rooms: 3, conns: 24, senders: 4, rate: 40,
		duration: 2 * time.Second, jsonOut: out}
	if err := runLoad(context.Background(), o, io.Discard); err != nil {
		t.Fatal(err)
	}
	var res loadResult
	b, _ := os.ReadFile(out)
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	if res.ConnectionsHeld != 24 || res.PostsSent < 70 || res.Expected != res.PostsSent*8 ||
		res.Received != res.Expected || res.Missing != 0 || res.Duplicated != 0 {
		t.Errorf("result %+v", res)
	}
	if res.URL != strings.Join(urls, ",") {
		t.Errorf("result names %q", res.URL)
	}
}

func testDeps(db *store.Store, h *hub.Hub) handlers.Deps {
	return handlers.Deps{Store: db, Hub: h, Logger: slog.New(slog.DiscardHandler),
		Argon2: handlers.Argon2Params{Memory: 1024, Time: 1, Threads: 1}}
}

// serve runs the app on a loopback port until the test ends, then stops
// it and calls closers, in order; it returns the app's URL.
func serve(t *testing.T, app *fiber.App, h *hub.Hub, closers ...func() error) string {
	t.Helper()
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
		for _, c := range closers {
			c()
		}
	})
	return "http://" + ln.Addr().String()
}

// The files mode uploads files and reads every one back, byte for byte,
// and says so.
func TestRunFiles(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "chat.db"))
	if err != nil {
		t.Fatal(err)
	}
	h := hub.New(hub.Config{Presence: handlers.PresenceFrames()})
	app := handlers.NewApp(testDeps(db, h))
	base := serve(t, app, h, db.Close)
	var out strings.Builder
	o := options{url: base, clients: 2, files: 3, fileSize: 600 << 10, pid: os.Getpid()}
	if err := runFiles(context.Background(), o, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"files: 3 of 0.6 MiB", "upload:", "download:", ", 0 with other bytes", "chat RSS:"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}
