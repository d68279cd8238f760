package handlers_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
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

const benchEntries = 1_000_000

// seededDB is a database with one room of a million posts, made once and
// kept in the temporary directory for later runs. It returns the file and
// a session token of the room's member. The posts are 6 to 14 words drawn
// from a vocabulary of 20,000 with a long tail, as conversation is: a few
// words in most posts, most words in few.
func seededDB(b *testing.B) (string, string) {
	if testdb.Postgres() {
		return seededPostgres(b)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("chat-bench-%d-v4.db", benchEntries))
	tokenFile := path + ".token"
	if tok, err := os.ReadFile(tokenFile); err == nil {
		return path, string(tok)
	}
	os.Remove(path)
	token := seed(b, path)
	os.WriteFile(tokenFile, []byte(token), 0o600)
	return path, token
}

// seededPostgres is seededDB on PostgreSQL: a schema of its own in the
// tests' database, kept for later runs.
func seededPostgres(b *testing.B) (string, string) {
	schema := fmt.Sprintf("chat_bench_%d_v1", benchEntries)
	tokenFile := filepath.Join(os.TempDir(), schema+".token")
	u, err := url.Parse(os.Getenv(testdb.EnvPostgres))
	if err != nil {
		b.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	if tok, err := os.ReadFile(tokenFile); err == nil {
		return u.String(), string(tok)
	}
	if _, err := testdb.Column(os.Getenv(testdb.EnvPostgres), "DROP SCHEMA IF EXISTS "+schema+" CASCADE"); err != nil {
		b.Fatal(err)
	}
	if _, err := testdb.Column(os.Getenv(testdb.EnvPostgres), "CREATE SCHEMA "+schema); err != nil {
		b.Fatal(err)
	}
	token := seed(b, u.String())
	os.WriteFile(tokenFile, []byte(token), 0o600)
	return u.String(), token
}

// seed fills a new database with the room of a million posts and returns
// a session token of its member.
func seed(b *testing.B, path string) string {
	ctx := context.Background()
	s, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	u, _ := s.CreateUser(ctx, "reader", "x")
	room, _, _ := s.CreateRoom(ctx, "big", u.ID)
	token, _, _ := s.CreateSession(ctx, u.ID)
	words := benchVocabulary()
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rand.New(rand.NewPCG(3, 4)), 1.1, 1, uint64(len(words)-1))
	for done := 0; done < benchEntries; {
		err := s.WriteBatch(ctx, func(bt *store.Batch) error {
			for i := 0; i < 5000 && done < benchEntries; i++ {
				n := 6 + rng.IntN(9)
				text := make([]byte, 0, 80)
				for w := range n {
					if w > 0 {
						text = append(text, ' ')
					}
					text = append(text, words[zipf.Uint64()]...)
				}
				if _, _, err := bt.CreatePost(ctx, room.ID, u.ID, string(text), ""); err != nil {
					return err
				}
				done++
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	// The search index takes them all, as a running chat would have.
	for more := true; more; {
		if _, more, err = s.IndexPosts(ctx, 20000); err != nil {
			b.Fatal(err)
		}
	}
	return token
}

// benchVocabulary makes 20,000 distinct words from syllables, the first
// ones short and common.
func benchVocabulary() []string {
	syllables := []string{"ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "be", "da", "fi", "go", "hu", "je", "pa", "zo", "tra", "sel", "mon", "dir"}
	seen := map[string]bool{}
	var words []string
	rng := rand.New(rand.NewPCG(5, 6))
	for len(words) < 20000 {
		n := 1 + rng.IntN(3) + len(words)/5000
		w := ""
		for range n {
			w += syllables[rng.IntN(len(syllables))]
		}
		if !seen[w] {
			seen[w] = true
			words = append(words, w)
		}
	}
	return words
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

// BenchmarkSearch searches a million posts over HTTP: a word in most posts,
// a rare word, a substring inside words, two words together, and a word in
// no post at all (the whole index is asked and nothing found).
func BenchmarkSearch(b *testing.B) {
	words := benchVocabulary()
	for _, q := range []struct{ name, q string }{
		{"common", words[1]},
		{"rare", words[15000]},
		{"substring", words[15000][1:4]},
		{"two-words", words[3] + " " + words[40]},
		{"absent", "qqqzzz"},
	} {
		b.Run(q.name, func(b *testing.B) {
			benchGet(b, func() string { return "/search?q=" + url.QueryEscape(q.q) })
		})
	}
}
