package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"chat/internal/testdb"
	"chat/store"
)

// chunk is the store's chunk size: the tests' files straddle it.
const chunk = 256 << 10

// randomBytes are n bytes of a fixed pseudo-random sequence.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func putFile(t *testing.T, s *store.Store, userID int64, name string, data []byte) store.File {
	t.Helper()
	f, err := s.PutFile(context.Background(), store.NewFile{UserID: userID, Name: name, Type: "application/octet-stream"}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func createPostFiles(ctx context.Context, s *store.Store, roomID, userID int64, text, clientID string, ids []int64) (m store.Message, created bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, created, err = b.CreatePostFiles(ctx, roomID, userID, text, clientID, ids)
		return err
	})
	return m, created, err
}

func readAll(t *testing.T, s *store.Store, f store.File, preview bool) []byte {
	t.Helper()
	r := s.OpenFile(context.Background(), f, preview)
	defer r.Close()
	got, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestFileRoundTrip(t *testing.T) {
	s, _ := openStore(t)
	ctx := context.Background()
	ada := mustUser(t, s, "ada")
	room, _, err := s.CreateRoom(ctx, "lobby", ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(3*chunk+1234, 1)
	preview := randomBytes(chunk+7, 2)
	f, err := s.PutFile(ctx, store.NewFile{UserID: ada.ID, Name: "big.png", Type: "image/png", Width: 3000, Height: 2000,
		Preview: preview, PreviewType: "image/jpeg", PreviewWidth: 600, PreviewHeight: 400, MaxSize: int64(len(data))}, bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if f.Size != int64(len(data)) || f.ETag != hex.EncodeToString(sum[:]) || f.PreviewSize != int64(len(preview)) || f.MessageID != 0 {
		t.Errorf("stored %+v", f)
	}
	if _, err := s.FindFile(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a file no post holds was found: %v", err)
	}
	m, created, err := createPostFiles(ctx, s, room.ID, ada.ID, "", "", []int64{f.ID})
	if err != nil || !created {
		t.Fatalf("post: %v %v", created, err)
	}
	if len(m.Files) != 1 || m.Files[0].ID != f.ID || m.Files[0].MessageID != m.ID || m.Files[0].RoomID != room.ID {
		t.Fatalf("post's files: %+v", m.Files)
	}
	found, err := s.FindFile(ctx, f.ID)
	if err != nil {
		t.Fatal(err)
	}
	if found.RoomID != room.ID || found.MessageID != m.ID || found.Size != f.Size || found.ETag != f.ETag || found.Width != 3000 ||
		found.PreviewType != "image/jpeg" || found.PreviewWidth != 600 || found.Name != "big.png" || found.Type != "image/png" {
		t.Errorf("found %+v", found)
	}
	if got := readAll(t, s, found, false); !bytes.Equal(got, data) {
		t.Errorf("read %d bytes, not the %d stored", len(got), len(data))
	}
	if got := readAll(t, s, found, true); !bytes.Equal(got, preview) {
		t.Errorf("read a preview of %d bytes, not the %d stored", len(got), len(preview))
	}
	t.Run("ReadPartThenClose", func(t *testing.T) {
		r := s.OpenFile(ctx, found, false)
		part := make([]byte, chunk+10)
		if _, err := io.ReadFull(r, part); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(part, data[:len(part)]) {
			t.Error("the first bytes differ")
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Read(part); err == nil {
			t.Error("read after close")
		}
	})
	t.Run("ListsCarryFiles", func(t *testing.T) {
		msgs, err := s.ListLatestMessages(ctx, room.ID, 10)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(msgs, func(x store.Message) bool { return x.ID == m.ID })
		if i < 0 || len(msgs[i].Files) != 1 || msgs[i].Files[0].ETag != f.ETag {
			t.Errorf("latest: %+v", msgs)
		}
	})
}

// countRows counts the rows of a table of the database at path, read
// beside the store.
func countRows(t *testing.T, path, query string, args ...any) int {
	t.Helper()
	driver, dsn := "sqlite3", "file:"+path+"?mode=ro"
	if testdb.Postgres() {
		driver, dsn = "pgx", path
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if testdb.Postgres() {
		for i := 1; strings.Contains(query, "?"); i++ {
			query = strings.Replace(query, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	var n int
	if err := db.QueryRow(query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func fileRows(t *testing.T, path string) (files, chunks int) {
	t.Helper()
	return countRows(t, path, "SELECT count(*) FROM files"), countRows(t, path, "SELECT count(*) FROM file_chunks")
}

func TestPutFileLimits(t *testing.T) {
	ctx := context.Background()
	t.Run("ErrTooLarge", func(t *testing.T) {
		s, path := openStore(t)
		ada := mustUser(t, s, "ada")
		max := int64(3 * chunk)
		for _, size := range []int64{max + 1, 5 * chunk, max + chunk} {
			_, err := s.PutFile(ctx, store.NewFile{UserID: ada.ID, Name: "x.bin", Type: "application/zip", MaxSize: max}, bytes.NewReader(randomBytes(int(size), 3)))
			if !errors.Is(err, store.ErrTooLarge) {
				t.Errorf("%d bytes of %d at most: %v", size, max, err)
			}
		}
		if f, c := fileRows(t, path); f != 0 || c != 0 {
			t.Errorf("refused files left %d files and %d chunks", f, c)
		}
		f, err := s.PutFile(ctx, store.NewFile{UserID: ada.ID, Name: "x.bin", Type: "application/zip", MaxSize: max}, bytes.NewReader(randomBytes(int(max), 3)))
		if err != nil || f.Size != max {
			t.Errorf("exactly the most: %+v %v", f, err)
		}
		if f, c := fileRows(t, path); f != 1 || c != 3 {
			t.Errorf("a file of 3 chunks is %d files and %d chunks", f, c)
		}
	})
	t.Run("ErrEmpty", func(t *testing.T) {
		s, path := openStore(t)
		ada := mustUser(t, s, "ada")
		if _, err := s.PutFile(ctx, store.NewFile{UserID: ada.ID, Name: "e.txt", Type: "text/plain"}, bytes.NewReader(nil)); !errors.Is(err, store.ErrEmpty) {
			t.Errorf("empty: %v", err)
		}
		if f, c := fileRows(t, path); f != 0 || c != 0 {
			t.Errorf("an empty file left %d files and %d chunks", f, c)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		s, _ := openStore(t)
		ada := mustUser(t, s, "ada")
		for _, nf := range []store.NewFile{
			{UserID: ada.ID, Type: "text/plain"},
			{UserID: ada.ID, Name: "a.txt"},
			{UserID: ada.ID, Name: "a.png", Type: "image/png", Preview: []byte("x")},
		} {
			if _, err := s.PutFile(ctx, nf, bytes.NewReader([]byte("x"))); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%+v: %v", nf, err)
			}
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		s, path := openStore(t)
		if _, err := s.PutFile(ctx, store.NewFile{UserID: 999, Name: "a.txt", Type: "text/plain"}, bytes.NewReader([]byte("x"))); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a file of no user: %v", err)
		}
		if f, c := fileRows(t, path); f != 0 || c != 0 {
			t.Errorf("left %d files and %d chunks", f, c)
		}
	})
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s, err := store.Open(ctx, testdb.New(t), store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	const quota = 1000
	put := func(u store.User, n int) error {
		_, err := s.PutFile(ctx, store.NewFile{UserID: u.ID, Name: "q.bin", Type: "application/octet-stream", Quota: quota}, bytes.NewReader(randomBytes(n, 4)))
		return err
	}
	if err := put(ada, 600); err != nil {
		t.Fatal(err)
	}
	if err := put(ada, 401); !errors.Is(err, store.ErrQuota) {
		t.Errorf("one byte past the quota: %v", err)
	}
	if err := put(ada, 400); err != nil {
		t.Errorf("up to the quota exactly: %v", err)
	}
	if err := put(ada, 1); !errors.Is(err, store.ErrQuota) {
		t.Errorf("past the quota: %v", err)
	}
	if used, err := s.UploadedToday(ctx, ada.ID); err != nil || used != quota {
		t.Errorf("uploaded today: %d %v", used, err)
	}
	if err := put(bob, 1000); err != nil {
		t.Errorf("another user's quota: %v", err)
	}
	// The window is the last 24 hours: an upload of 24 hours ago no
	// longer counts.
	mu.Lock()
	now = now.Add(store.QuotaWindow - time.Millisecond)
	mu.Unlock()
	if err := put(ada, 1); !errors.Is(err, store.ErrQuota) {
		t.Errorf("a millisecond short of 24 h after: %v", err)
	}
	mu.Lock()
	now = now.Add(time.Millisecond)
	mu.Unlock()
	if err := put(ada, 1000); err != nil {
		t.Errorf("24 h after: %v", err)
	}

	t.Run("Concurrent", func(t *testing.T) {
		// Ten uploads at once, against a quota that three fit in: the
		// check and the commit of each are one step. A few rounds, for a
		// race is caught by chance.
		const size = 300
		for round := range 5 {
			u := mustUser(t, s, fmt.Sprintf("racer%d", round))
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 10)
			for i := range errs {
				wg.Go(func() {
					<-start
					errs[i] = put(u, size)
				})
			}
			close(start)
			wg.Wait()
			ok := 0
			for _, err := range errs {
				switch {
				case err == nil:
					ok++
				case !errors.Is(err, store.ErrQuota):
					t.Errorf("upload: %v", err)
				}
			}
			used, err := s.UploadedToday(ctx, u.ID)
			if err != nil || used > quota || ok != 3 || used != int64(ok*size) {
				t.Fatalf("round %d: %d of 10 uploads of %d bytes passed a quota of %d: %d bytes stored (%v)", round, ok, size, quota, used, err)
			}
		}
	})
}
