package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"chat/handlers"
	"chat/hub"
	"chat/internal/testdb"
	"chat/store"
)

// Fifty rooms of 3,000 posts each that the reader, a member of all,
// has not seen; one post in 500 mentions them.
const (
	unreadRooms = 50
	unreadPosts = 3000
)

// unreadDB is the database of BenchmarkLobbyUnread, made once and kept in
// the temporary directory (on SQLite; on PostgreSQL, made for each run).
func unreadDB(b *testing.B) (string, string) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("chat-bench-unread-%dx%d-v2.db", unreadRooms, unreadPosts))
	if testdb.Postgres() {
		path = testdb.New(b)
	} else if tok, err := os.ReadFile(path + ".token"); err == nil {
		return path, string(tok)
	}
	os.Remove(path)
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	reader, _ := s.CreateUser(ctx, "reader", "x")
	writer, _ := s.CreateUser(ctx, "writer", "x")
	token, _, _ := s.CreateSession(ctx, reader.ID)
	for r := range unreadRooms {
		room, join, err := s.CreateRoom(ctx, fmt.Sprintf("room %02d", r), reader.ID)
		if err != nil {
			b.Fatal(err)
		}
		if err := s.MarkRead(ctx, store.ReadMark{UserID: reader.ID, RoomID: room.ID, LastID: join.ID}); err != nil {
			b.Fatal(err)
		}
		err = s.WriteBatch(ctx, func(bt *store.Batch) error {
			if _, _, err := bt.JoinRoom(ctx, room.ID, writer.ID); err != nil {
				return err
			}
			for i := range unreadPosts {
				text := fmt.Sprintf("post %d of room %d", i, r)
				if i%500 == 7 {
					text += " @reader"
				}
				if _, _, err := bt.CreatePost(ctx, room.ID, writer.ID, text, ""); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if !testdb.Postgres() {
		os.WriteFile(path+".token", []byte(token), 0o600)
	}
	return path, token
}

// BenchmarkLobbyUnread serves the lobby of a member of 50 rooms, each
// with 3,000 posts unread: every room's count (bounded at 100) and
// mention mark, round trip over loopback.
func BenchmarkLobbyUnread(b *testing.B) {
	path, token := unreadDB(b)
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	app := handlers.NewApp(handlers.Deps{Store: db, Hub: hub.New(hub.Config{}), Logger: slog.New(slog.DiscardHandler)})
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	go app.Listener(ln)
	b.Cleanup(func() { app.Shutdown() })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	var took []time.Duration
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest(http.MethodGet, "http://"+ln.Addr().String()+"/", nil)
		req.AddCookie(&http.Cookie{Name: "chat_session", Value: token})
		began := time.Now()
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		took = append(took, time.Since(began))
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		if n, m := countOf(body, `data-count="100"`), countOf(body, `data-mention`); n != unreadRooms || m != unreadRooms {
			b.Fatalf("%d rooms counted 100 and %d marked, want %d", n, m, unreadRooms)
		}
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[len(took)*99/100].Microseconds())/1000, "p99-ms")
}

func countOf(body []byte, s string) int {
	n := 0
	for i := 0; i+len(s) <= len(body); i++ {
		if string(body[i:i+len(s)]) == s {
			n++
		}
	}
	return n
}
