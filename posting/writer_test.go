package posting

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"chat/hub"
	"chat/internal/testdb"
	"chat/metrics"
	"chat/store"
)

// Writes from many goroutines are committed together, pushed in the order
// stored, and answered only once stored.
func TestEntryWriterGroupsAndOrders(t *testing.T) {
	db, err := store.Open(context.Background(), testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	h := hub.New(hub.Config{QueueLen: 10000})
	w := New(Config{Store: db, Hub: h, Metrics: metrics.New(h), Log: slog.New(slog.DiscardHandler), Frame: func(m store.Message) *hub.Text { return hub.Same([]byte(m.Text)) }})
	w.Start()
	ctx := context.Background()
	u, _ := db.CreateUser(ctx, "alice", "x")
	room, _, _ := db.CreateRoom(ctx, "general", u.ID)
	sub, _ := h.Subscribe(room.ID, "watcher", "s")

	const writers, each = 16, 100
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked := map[int64]bool{}
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				m, created, err := w.Write(ctx, room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
					return b.CreatePost(ctx, room.ID, u.ID, fmt.Sprintf("%d-%d", g, i), "")
				})
				if err != nil || !created {
					t.Errorf("write: %v %v", created, err)
					return
				}
				// Answered: it is in the database already.
				if got, _ := db.ListMessagesAfter(ctx, room.ID, m.ID-1, 1); len(got) != 1 || got[0].ID != m.ID {
					t.Errorf("answered before stored: %d", m.ID)
				}
				mu.Lock()
				acked[m.ID] = true
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	// A write refused inside a batch leaves the rest of the batch standing.
	_, _, err = w.Write(ctx, room.ID, func(ctx context.Context, b *store.Batch) (store.Message, bool, error) {
		return b.CreatePost(ctx, room.ID, 999, "no such member", "")
	})
	if err == nil {
		t.Error("a non-member's post was stored")
	}
	w.Close()
	if _, _, err := w.Write(ctx, room.ID, nil); err != ErrShuttingDown {
		t.Errorf("write after close: %v", err)
	}

	var prev int64
	n := 0
	for _, ev := range sub.Take(nil) {
		if ev.Seq == 0 {
			continue
		}
		if ev.Seq <= prev {
			t.Fatalf("pushed %d after %d", ev.Seq, prev)
		}
		if !acked[ev.Seq] {
			t.Fatalf("pushed %d, which no writer was told of", ev.Seq)
		}
		prev = ev.Seq
		n++
	}
	if n != writers*each {
		t.Errorf("pushed %d of %d", n, writers*each)
	}
	if c, wr := w.commits.Load(), w.writes.Load(); c >= wr {
		t.Errorf("%d writes in %d commits: none shared a commit", wr, c)
	}
	t.Logf("%d writes in %d commits", w.writes.Load(), w.commits.Load())
}

// benchWriter is a running writer on a store at path, with a user who is
// a member of a room; all are closed when the benchmark ends.
func benchWriter(b *testing.B, path string) (*Writer, store.User, store.Room) {
	b.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	h := hub.New(hub.Config{})
	w := New(Config{Store: db, Hub: h, Metrics: metrics.New(h), Log: slog.New(slog.DiscardHandler), Frame: func(m store.Message) *hub.Text { return hub.Same([]byte(m.Text)) }})
	w.Start()
	b.Cleanup(w.Close)
	ctx := context.Background()
	u, err := db.CreateUser(ctx, "alice", "x")
	if err != nil {
		b.Fatal(err)
	}
	room, _, err := db.CreateRoom(ctx, "general", u.ID)
	if err != nil {
		b.Fatal(err)
	}
	return w, u, room
}

// BenchmarkEntryWriter stores posts from many senders at once through the
// group commit, each durable (synchronous=FULL) before it is answered.
func BenchmarkEntryWriter(b *testing.B) {
	w, u, room := benchWriter(b, testdb.New(b))
	ctx := context.Background()
	b.SetParallelism(128) // senders per core
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := w.Write(ctx, room.ID, func(ctx context.Context, bt *store.Batch) (store.Message, bool, error) {
				return bt.CreatePost(ctx, room.ID, u.ID, "a post of a usual length, with some words in it", "")
			}); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
	b.ReportMetric(float64(w.writes.Load())/float64(w.commits.Load()), "posts/commit")
}

// BenchmarkBurstIndexed: a burst of posts from 256 senders at once, each
// durable before it is answered, then the search index catching up behind
// it. It reports how long the burst took to be stored and how long after
// its last post the index held every post (search reads the posts the
// index has not taken yet, so a post is found at once either way; what the
// wait costs is searches reading that tail). SQLite only: it reads the
// index's progress from the file.
func BenchmarkBurstIndexed(b *testing.B) {
	if testdb.Postgres() {
		b.Skip("reads the SQLite file")
	}
	path := testdb.New(b)
	w, u, room := benchWriter(b, path)
	probe, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer probe.Close()
	ctx := context.Background()
	const burst, senders = 20000, 256
	var stored, indexed time.Duration
	for range b.N {
		start := time.Now()
		var last atomic.Int64
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := s; i < burst; i += senders {
					m, _, err := w.Write(ctx, room.ID, func(ctx context.Context, bt *store.Batch) (store.Message, bool, error) {
						return bt.CreatePost(ctx, room.ID, u.ID, fmt.Sprintf("a post of a usual length, number %d, with some words in it", i), "")
					})
					if err != nil {
						b.Error(err)
						return
					}
					for {
						old := last.Load()
						if m.ID <= old || last.CompareAndSwap(old, m.ID) {
							break
						}
					}
				}
			}()
		}
		wg.Wait()
		done := time.Now()
		stored += done.Sub(start)
		for {
			var upto int64
			if err := probe.QueryRow("SELECT indexed_upto FROM search_state").Scan(&upto); err != nil {
				b.Fatal(err)
			}
			if upto >= last.Load() {
				break
			}
			time.Sleep(time.Millisecond) // polling the file; what is measured is the writer's work
		}
		indexed += time.Since(done)
	}
	b.ReportMetric(float64(burst*b.N)/stored.Seconds(), "stored/s")
	b.ReportMetric(stored.Seconds()*1000/float64(b.N), "burst_ms")
	b.ReportMetric(indexed.Seconds()*1000/float64(b.N), "indexed_after_ms")
	b.ReportMetric(float64(burst*b.N)/(stored+indexed).Seconds(), "stored+indexed/s")
}
