package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/store"
)

const benchEntries = 1_000_000

// seededDB is a database with one room of a million entries, made once and
// kept in the temporary directory for later runs. It returns the file and
// a session token of the room's member.
func seededDB(b *testing.B) (string, string) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("chat-bench-%d-v2.db", benchEntries))
	tokenFile := path + ".token"
	if tok, err := os.ReadFile(tokenFile); err == nil {
		return path, string(tok)
	}
	os.Remove(path)
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	u, _ := s.CreateUser(ctx, "reader", "x")
	s.CreateRoom(ctx, "big", u.ID)
	token, _, _ := s.CreateSession(ctx, u.ID)
	s.Close()
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, _ := db.Begin()
	st, _ := tx.Prepare("INSERT INTO messages (room_id, user_id, kind, body, created_at) VALUES (1, 1, 'post', ?, ?)")
	start := time.Now().Add(-benchEntries * time.Second).UnixMilli()
	for i := range benchEntries {
		if _, err := st.Exec(fmt.Sprintf("entry %d: a post of an ordinary length, about a line of text", i), start+int64(i)*1000); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	os.WriteFile(tokenFile, []byte(token), 0o600)
	return path, token
}

func benchServer(b *testing.B) (string, *http.Client, string) {
	path, token := seededDB(b)
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	app := handlers.NewApp(handlers.Deps{Store: db, Hub: hub.New(hub.Config{}), Logger: slog.New(slog.DiscardHandler)})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go app.Listener(ln)
	b.Cleanup(func() { app.Shutdown() })
	return "http://" + ln.Addr().String(), &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}, token
}

func benchGet(b *testing.B, path func() string) {
	base, client, token := benchServer(b)
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, base+path(), nil)
		req.AddCookie(&http.Cookie{Name: "chat_session", Value: token})
		began := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		took = append(took, time.Since(began))
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkRoomPage serves the page of a room of a million entries (its
// latest 50), round trip over loopback.
func BenchmarkRoomPage(b *testing.B) { benchGet(b, func() string { return "/rooms/1" }) }

// BenchmarkHistoryPage serves 50 older entries from anywhere in a room of a
// million entries.
func BenchmarkHistoryPage(b *testing.B) {
	benchGet(b, func() string { return fmt.Sprintf("/rooms/1/messages?before=%d", 2+rand.IntN(benchEntries)) })
}
