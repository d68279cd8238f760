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
	"path/filepath"
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
		if _, err := s.PutFile(ctx, store.NewFile{UserID: ada.ID, Name: "s.txt", Type: "text/plain", MaxSize: 100}, bytes.NewReader(randomBytes(101, 3))); !errors.Is(err, store.ErrTooLarge) {
			t.Errorf("101 bytes of 100 at most: %v", err)
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
			{UserID: ada.ID, Name: "a\x00.png", Type: "image/png"},
			{UserID: ada.ID, Name: "a\xff.png", Type: "image/png"},
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

func TestCreatePostFiles(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	eve := mustUser(t, s, "eve")
	r := room(t, s, "general", ada, bob)
	entries := func() int { return countRows(t, path, "SELECT count(*) FROM messages WHERE kind = 'post'") }

	t.Run("OK", func(t *testing.T) {
		a := putFile(t, s, ada.ID, "a.txt", []byte("a"))
		b := putFile(t, s, ada.ID, "b.txt", []byte("bb"))
		c := putFile(t, s, ada.ID, "c.txt", []byte("ccc"))
		m, created, err := createPostFiles(ctx, s, r.ID, ada.ID, "three files", "", []int64{c.ID, a.ID, b.ID})
		if err != nil || !created {
			t.Fatalf("%v %v", created, err)
		}
		if got := fileIDs(m.Files); !slices.Equal(got, []int64{c.ID, a.ID, b.ID}) {
			t.Errorf("files in the order given: %v", got)
		}
		found, err := s.FindMessage(ctx, m.ID)
		if err != nil || !slices.Equal(fileIDs(found.Files), []int64{c.ID, a.ID, b.ID}) || found.Files[1].Name != "a.txt" || found.Files[2].Size != 2 {
			t.Errorf("found %+v %v", found.Files, err)
		}
	})
	t.Run("NoText", func(t *testing.T) {
		a := putFile(t, s, ada.ID, "only.txt", []byte("a"))
		m, created, err := createPostFiles(ctx, s, r.ID, ada.ID, "", "", []int64{a.ID})
		if err != nil || !created || m.Text != "" || len(m.Files) != 1 {
			t.Errorf("%+v %v %v", m, created, err)
		}
	})
	t.Run("ErrNotFound", func(t *testing.T) {
		mine := putFile(t, s, ada.ID, "mine.txt", []byte("m"))
		theirs := putFile(t, s, bob.ID, "theirs.txt", []byte("t"))
		held := putFile(t, s, ada.ID, "held.txt", []byte("h"))
		if _, _, err := createPostFiles(ctx, s, r.ID, ada.ID, "held", "", []int64{held.ID}); err != nil {
			t.Fatal(err)
		}
		before := entries()
		for name, ids := range map[string][]int64{
			"AnotherUsers": {mine.ID, theirs.ID},
			"HeldAlready":  {mine.ID, held.ID},
			"NoSuchFile":   {mine.ID, 99999},
		} {
			_, _, err := createPostFiles(ctx, s, r.ID, ada.ID, "refused", "", ids)
			if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("%s: %v", name, err)
			}
		}
		if n := entries(); n != before {
			t.Errorf("refused posts stored: %d posts, %d before", n, before)
		}
		if n := countRows(t, path, "SELECT count(*) FROM files WHERE id = ? AND message_id IS NULL", mine.ID); n != 1 {
			t.Error("a refused post's file was attached")
		}
		// The other user's file is still theirs to post.
		if _, created, err := createPostFiles(ctx, s, r.ID, bob.ID, "", "", []int64{theirs.ID}); err != nil || !created {
			t.Errorf("bob posts his file: %v %v", created, err)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		var ids []int64
		for i := range store.MaxFilesPerPost + 1 {
			ids = append(ids, putFile(t, s, ada.ID, fmt.Sprintf("f%d.txt", i), []byte("x")).ID)
		}
		before := entries()
		if _, _, err := createPostFiles(ctx, s, r.ID, ada.ID, "too many", "", ids); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("%d files: %v", len(ids), err)
		}
		if _, _, err := createPostFiles(ctx, s, r.ID, ada.ID, "twice", "", []int64{ids[0], ids[0]}); !errors.Is(err, store.ErrInvalid) {
			t.Errorf("a file twice: %v", err)
		}
		if n := entries(); n != before {
			t.Errorf("refused posts stored: %d posts, %d before", n, before)
		}
		if _, created, err := createPostFiles(ctx, s, r.ID, ada.ID, "the most", "", ids[:store.MaxFilesPerPost]); err != nil || !created {
			t.Errorf("%d files: %v %v", store.MaxFilesPerPost, created, err)
		}
	})
	t.Run("ErrNotMember", func(t *testing.T) {
		f := putFile(t, s, eve.ID, "eve.txt", []byte("e"))
		if _, _, err := createPostFiles(ctx, s, r.ID, eve.ID, "let me in", "", []int64{f.ID}); !errors.Is(err, store.ErrNotMember) {
			t.Errorf("a stranger's post: %v", err)
		}
		if n := countRows(t, path, "SELECT count(*) FROM files WHERE id = ? AND message_id IS NULL", f.ID); n != 1 {
			t.Error("a refused post's file was attached")
		}
	})
	t.Run("ClientIDResent", func(t *testing.T) {
		first := putFile(t, s, ada.ID, "first.txt", []byte("1"))
		m, created, err := createPostFiles(ctx, s, r.ID, ada.ID, "once", "cid-1", []int64{first.ID})
		if err != nil || !created {
			t.Fatal(created, err)
		}
		again := putFile(t, s, ada.ID, "first.txt", []byte("1"))
		m2, created, err := createPostFiles(ctx, s, r.ID, ada.ID, "once", "cid-1", []int64{again.ID})
		if err != nil || created || m2.ID != m.ID || !slices.Equal(fileIDs(m2.Files), []int64{first.ID}) {
			t.Errorf("resent: %+v %v %v", m2, created, err)
		}
		if n := countRows(t, path, "SELECT count(*) FROM files WHERE id = ? AND message_id IS NULL", again.ID); n != 1 {
			t.Error("the resent post's new file was attached")
		}
		if err := s.DeleteUnattachedFiles(ctx, ada.ID, []int64{again.ID, first.ID}); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, path, "SELECT count(*) FROM files WHERE id IN (?, ?)", again.ID, first.ID); n != 1 {
			t.Errorf("%d files left of the attached one and the new one", n)
		}
		if got := readAll(t, s, m2.Files[0], false); string(got) != "1" {
			t.Errorf("the attached file reads %q", got)
		}
	})
}

func fileIDs(files []store.File) []int64 {
	var ids []int64
	for _, f := range files {
		ids = append(ids, f.ID)
	}
	return ids
}

func TestDeleteUnattachedFiles(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	mine := putFile(t, s, ada.ID, "mine.txt", randomBytes(chunk+1, 5))
	theirs := putFile(t, s, bob.ID, "theirs.txt", []byte("t"))
	if err := s.DeleteUnattachedFiles(ctx, ada.ID, []int64{mine.ID, theirs.ID}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, path, "SELECT count(*) FROM files WHERE id = ?", theirs.ID); n != 1 {
		t.Error("another user's file was deleted")
	}
	if n := countRows(t, path, "SELECT count(*) FROM files WHERE id = ?", mine.ID); n != 0 {
		t.Error("the user's file was kept")
	}
	if n := countRows(t, path, "SELECT count(*) FROM file_chunks WHERE file_id = ?", mine.ID); n != 0 {
		t.Errorf("%d chunks of a deleted file kept", n)
	}
}

func TestSweepFiles(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	path := testdb.New(t)
	s, err := store.Open(ctx, path, store.WithClock(clock))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	old := putFile(t, s, ada.ID, "old.txt", randomBytes(2*chunk, 6))
	posted := putFile(t, s, ada.ID, "posted.txt", []byte("p"))
	if _, _, err := createPostFiles(ctx, s, r.ID, ada.ID, "", "", []int64{posted.ID}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(time.Hour)
	mu.Unlock()
	recent := putFile(t, s, ada.ID, "recent.txt", []byte("r"))
	n, err := s.SweepFiles(ctx, now.Add(-time.Minute))
	if err != nil || n != 1 {
		t.Errorf("swept %d, %v", n, err)
	}
	left := countRows(t, path, "SELECT count(*) FROM files WHERE id IN (?, ?, ?)", old.ID, posted.ID, recent.ID)
	gone := countRows(t, path, "SELECT count(*) FROM files WHERE id = ?", old.ID)
	if left != 2 || gone != 0 {
		t.Errorf("%d files left, the old one %d times", left, gone)
	}
	if n := countRows(t, path, "SELECT count(*) FROM file_chunks WHERE file_id = ?", old.ID); n != 0 {
		t.Errorf("%d chunks of a swept file kept", n)
	}
}

// postWithFiles stores a post of u holding files of the names given, each
// of a chunk and a bit.
func postWithFiles(t *testing.T, s *store.Store, r store.Room, u store.User, text string, names ...string) store.Message {
	t.Helper()
	var ids []int64
	for i, name := range names {
		ids = append(ids, putFile(t, s, u.ID, name, randomBytes(chunk+i+1, uint64(i))).ID)
	}
	m, created, err := createPostFiles(context.Background(), s, r.ID, u.ID, text, "", ids)
	if err != nil || !created {
		t.Fatalf("post with files: %v %v", created, err)
	}
	return m
}

func TestDeletePostDeletesFiles(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	m := postWithFiles(t, s, r, ada, "see https://example.com", "a.pdf", "b.zip")
	kept := postWithFiles(t, s, r, ada, "kept", "c.pdf")
	img, err := s.PutCardImage(ctx, m.ID, randomBytes(300, 7), "image/png", 40, 30)
	if err != nil {
		t.Fatal(err)
	}
	if _, changed, err := setCard(ctx, s, m.ID, store.Card{URL: "https://example.com", Title: "Example", ImageID: img.ID}); err != nil || !changed {
		t.Fatal(changed, err)
	}
	found, err := s.FindFile(ctx, m.Files[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// A download under way when the post goes.
	r0 := s.OpenFile(ctx, found, false)
	defer r0.Close()
	if _, err := io.ReadFull(r0, make([]byte, 10)); err != nil {
		t.Fatal(err)
	}

	deleted, changed, err := deletePost(ctx, s, m.ID, ada.ID, false)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	if len(deleted.Files) != 0 || deleted.Card != nil {
		t.Errorf("a deleted post carries %d files and card %v", len(deleted.Files), deleted.Card)
	}
	for _, f := range append(m.Files, img) {
		if _, err := s.FindFile(ctx, f.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("file %d of a deleted post: %v", f.ID, err)
		}
	}
	if n := countRows(t, path, "SELECT count(*) FROM files WHERE message_id = ?", m.ID); n != 0 {
		t.Errorf("%d files of a deleted post kept", n)
	}
	if n := countRows(t, path, "SELECT count(*) FROM file_chunks"); n != 2 {
		t.Errorf("%d chunks kept, want the 2 of the other post's file", n)
	}
	if n := countRows(t, path, "SELECT count(*) FROM link_cards"); n != 0 {
		t.Errorf("%d cards kept", n)
	}
	if _, err := io.ReadAll(r0); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("reading on after the delete: %v", err)
	}
	if _, err := s.FindFile(ctx, kept.Files[0].ID); err != nil {
		t.Errorf("another post's file: %v", err)
	}
}

func TestPostsCarryFiles(t *testing.T) {
	ctx := context.Background()
	s, _ := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	r := room(t, s, "general", ada, bob)
	before := post(t, s, r, ada, "before")
	m := postWithFiles(t, s, r, ada, "with files", "one.pdf", "two.png")
	after := post(t, s, r, ada, "after")
	want := fileIDs(m.Files)
	check := func(name string, got store.Message) {
		t.Helper()
		if got.ID != m.ID || !slices.Equal(fileIDs(got.Files), want) || got.Files[0].RoomID != r.ID || got.Files[1].Name != "two.png" {
			t.Errorf("%s: entry %d with files %+v", name, got.ID, got.Files)
		}
	}
	pick := func(name string, msgs []store.Message, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, x := range msgs {
			if x.ID == m.ID {
				check(name, x)
				return
			}
			if len(x.Files) != 0 {
				t.Errorf("%s: entry %d carries files %v", name, x.ID, x.Files)
			}
		}
		t.Errorf("%s: the post is not listed", name)
	}
	msgs, err := s.ListLatestMessages(ctx, r.ID, 10)
	pick("Latest", msgs, err)
	msgs, err = s.ListMessagesBefore(ctx, r.ID, after.ID, 10)
	pick("Before", msgs, err)
	msgs, err = s.ListMessagesAfter(ctx, r.ID, before.ID, 10)
	pick("After", msgs, err)
	found, err := s.FindMessage(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	check("Find", found)

	edited, changed, err := editPost(ctx, s, m.ID, ada.ID, "edited, files kept")
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	check("Edit", edited)
	boosted, err := toggleBoost(ctx, s, m.ID, bob.ID, "👍")
	if err != nil {
		t.Fatal(err)
	}
	check("Boost", boosted)
	msgs, err = s.ListChangedMessages(ctx, r.ID, 0, after.ID, 10)
	pick("Changed", msgs, err)
	hits, err := s.SearchPosts(ctx, bob.ID, "kept", 10)
	if err != nil || len(hits) != 1 {
		t.Fatalf("search: %v %v", hits, err)
	}
	check("Search", hits[0].Message)
}

func TestSearchFileNames(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	onlyFile := postWithFiles(t, s, r, ada, "", "Quarterly-Report.pdf")
	// "Müller" decomposed, as a Mac names files.
	withText := postWithFiles(t, s, r, ada, "the budget", "spreadsheet.xlsx", "Notes Mu\u0308ller.txt")
	post(t, s, r, ada, "a report in words")
	search := func(q string) []int64 {
		t.Helper()
		hits, err := s.SearchPosts(ctx, ada.ID, q, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []int64
		for _, h := range hits {
			ids = append(ids, h.ID)
			if h.ID == withText.ID && q == "budget spreadsheet" && (len(h.Marks) != 1 || h.Text[h.Marks[0][0]:h.Marks[0][1]] != "budget") {
				t.Errorf("marks of %q in %q: %v", q, h.Text, h.Marks)
			}
		}
		return ids
	}
	checkAll := func(stage string) {
		t.Helper()
		for q, want := range map[string][]int64{
			"quarterly":                  {onlyFile.ID},
			"REPORT.pdf":                 {onlyFile.ID},
			"budget spreadsheet":         {withText.ID},
			"muller notes":               {withText.ID},
			"spreadsheet budget nothing": nil,
		} {
			if got := search(q); !slices.Equal(got, want) {
				t.Errorf("%s: %q finds %v, want %v", stage, q, got, want)
			}
		}
	}
	checkAll("unindexed")
	if _, _, err := s.IndexPosts(ctx, 100); err != nil {
		t.Fatal(err)
	}
	checkAll("indexed")
	ftsIntegrity(t, s, path)

	// An edit keeps the names found; a delete forgets them.
	if _, _, err := editPost(ctx, s, withText.ID, ada.ID, "the plan"); err != nil {
		t.Fatal(err)
	}
	if withText.Files[1].Name != "Notes Müller.txt" {
		t.Errorf("a name kept as %q, not composed", withText.Files[1].Name)
	}
	if got := search("spreadsheet plan"); !slices.Equal(got, []int64{withText.ID}) {
		t.Errorf("after an edit: %v", got)
	}
	if got := search("budget"); len(got) != 0 {
		t.Errorf("the old text after an edit: %v", got)
	}
	if _, _, err := deletePost(ctx, s, onlyFile.ID, ada.ID, false); err != nil {
		t.Fatal(err)
	}
	if got := search("quarterly"); len(got) != 0 {
		t.Errorf("a deleted post: %v", got)
	}
	ftsIntegrity(t, s, path)
}

// ftsIntegrity checks that the search index holds what its view of the
// posts says: FTS4's integrity-check on SQLite, IntegrityCheck on
// PostgreSQL.
func ftsIntegrity(t *testing.T, s *store.Store, path string) {
	t.Helper()
	if testdb.Postgres() {
		if v, err := s.IntegrityCheck(context.Background()); err != nil || v != "ok" {
			t.Errorf("integrity: %q %v", v, err)
		}
		return
	}
	db, err := sql.Open("sqlite3_chat", "file:"+path+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("INSERT INTO post_search (post_search) VALUES ('integrity-check')"); err != nil {
		t.Errorf("the search index differs from the posts: %v", err)
	}
}

func setCard(ctx context.Context, s *store.Store, msgID int64, c store.Card) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.SetCard(ctx, msgID, c)
		return err
	})
	return m, changed, err
}

func removeCard(ctx context.Context, s *store.Store, msgID, userID int64) (m store.Message, changed bool, err error) {
	err = s.WriteBatch(ctx, func(b *store.Batch) error {
		m, changed, err = b.RemoveCard(ctx, msgID, userID)
		return err
	})
	return m, changed, err
}

func TestCards(t *testing.T) {
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	bob := mustUser(t, s, "bob")
	r := room(t, s, "general", ada, bob)
	m := post(t, s, r, ada, "look https://example.com/page")
	pic := randomBytes(500, 8)
	img, err := s.PutCardImage(ctx, m.ID, pic, "image/png", 120, 60)
	if err != nil {
		t.Fatal(err)
	}
	card := store.Card{URL: "https://example.com/page", Title: "A page", Description: "What it says", Site: "example.com", ImageID: img.ID}
	withCard, changed, err := setCard(ctx, s, m.ID, card)
	if err != nil || !changed {
		t.Fatal(changed, err)
	}
	want := card
	want.ImageWidth, want.ImageHeight = 120, 60
	if withCard.Card == nil || *withCard.Card != want || withCard.Rev <= m.Rev {
		t.Errorf("set: card %+v, rev %d", withCard.Card, withCard.Rev)
	}
	found, err := s.FindMessage(ctx, m.ID)
	if err != nil || found.Card == nil || *found.Card != want {
		t.Errorf("found: %+v %v", found.Card, err)
	}
	changes, err := s.ListChangedMessages(ctx, r.ID, m.Rev, m.ID, 10)
	if err != nil || len(changes) != 1 || changes[0].Card == nil {
		t.Errorf("a card is a change: %+v %v", changes, err)
	}
	f, err := s.FindFile(ctx, img.ID)
	if err != nil || f.RoomID != r.ID || f.Width != 120 {
		t.Fatalf("the card's picture: %+v %v", f, err)
	}
	if got := readAll(t, s, f, false); !bytes.Equal(got, pic) {
		t.Error("the card's picture reads otherwise")
	}

	t.Run("OnlyOnce", func(t *testing.T) {
		other, err := s.PutCardImage(ctx, m.ID, []byte("png"), "image/png", 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, changed, err := setCard(ctx, s, m.ID, store.Card{URL: "https://other.example", ImageID: other.ID}); err != nil || changed {
			t.Errorf("a second card: %v %v", changed, err)
		}
		if _, err := s.FindFile(ctx, other.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("the picture of a card not set is kept: %v", err)
		}
	})
	t.Run("ErrForbidden", func(t *testing.T) {
		if _, _, err := removeCard(ctx, s, m.ID, bob.ID); !errors.Is(err, store.ErrForbidden) {
			t.Errorf("removed by another: %v", err)
		}
	})
	t.Run("Removed", func(t *testing.T) {
		removed, changed, err := removeCard(ctx, s, m.ID, ada.ID)
		if err != nil || !changed || removed.Card != nil || removed.Rev <= withCard.Rev {
			t.Fatalf("remove: %+v %v %v", removed, changed, err)
		}
		if _, err := s.FindFile(ctx, img.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a removed card's picture: %v", err)
		}
		if n := countRows(t, path, "SELECT count(*) FROM files WHERE message_id = ?", m.ID); n != 0 {
			t.Errorf("%d files of a removed card kept", n)
		}
		if _, changed, err := removeCard(ctx, s, m.ID, ada.ID); err != nil || changed {
			t.Errorf("removed again: %v %v", changed, err)
		}
		// Never back.
		if _, changed, err := setCard(ctx, s, m.ID, store.Card{URL: "https://example.com/page", Title: "Again"}); err != nil || changed {
			t.Errorf("set after removal: %v %v", changed, err)
		}
		found, err := s.FindMessage(ctx, m.ID)
		if err != nil || found.Card != nil {
			t.Errorf("after removal: %+v %v", found.Card, err)
		}
	})
	t.Run("DeletedPost", func(t *testing.T) {
		gone := post(t, s, r, ada, "https://gone.example")
		gonePic, err := s.PutCardImage(ctx, gone.ID, []byte("png"), "image/png", 1, 1)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := deletePost(ctx, s, gone.ID, ada.ID, false); err != nil {
			t.Fatal(err)
		}
		if _, changed, err := setCard(ctx, s, gone.ID, store.Card{URL: "https://gone.example", ImageID: gonePic.ID}); changed || (err != nil && !errors.Is(err, store.ErrNotFound)) {
			t.Errorf("a card for a deleted post: %v %v", changed, err)
		}
		if _, err := s.PutCardImage(ctx, gone.ID, []byte("png"), "image/png", 1, 1); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a picture for a deleted post: %v", err)
		}
		if n := countRows(t, path, "SELECT count(*) FROM link_cards WHERE message_id = ?", gone.ID); n != 0 {
			t.Errorf("a deleted post has %d cards", n)
		}
	})
	t.Run("ErrInvalid", func(t *testing.T) {
		bad := post(t, s, r, bob, "https://bad.example")
		for _, c := range []store.Card{{URL: "https://bad.example", Title: "nul\x00"}, {URL: "https://bad.example", Description: "\xc3("}} {
			if _, _, err := setCard(ctx, s, bad.ID, c); !errors.Is(err, store.ErrInvalid) {
				t.Errorf("%q: %v", c.Title+c.Description, err)
			}
		}
		if n := countRows(t, path, "SELECT count(*) FROM link_cards WHERE message_id = ?", bad.ID); n != 0 {
			t.Errorf("%d cards stored", n)
		}
	})
	t.Run("NoImage", func(t *testing.T) {
		plain := post(t, s, r, bob, "https://plain.example")
		got, changed, err := setCard(ctx, s, plain.ID, store.Card{URL: "https://plain.example", Title: "Plain"})
		if err != nil || !changed || got.Card == nil || got.Card.ImageID != 0 || got.Card.Title != "Plain" {
			t.Errorf("%+v %v %v", got.Card, changed, err)
		}
	})
}

// TestBackupKeepsFiles: chat backup copies the files with the rest.
func TestBackupKeepsFiles(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("on PostgreSQL, pg_dump backs up")
	}
	ctx := context.Background()
	s, path := openStore(t)
	ada := mustUser(t, s, "ada")
	r := room(t, s, "general", ada)
	m := postWithFiles(t, s, r, ada, "https://example.com", "kept.bin")
	img, err := s.PutCardImage(ctx, m.ID, []byte("png bytes"), "image/png", 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := setCard(ctx, s, m.ID, store.Card{URL: "https://example.com", Title: "Example", ImageID: img.ID}); err != nil {
		t.Fatal(err)
	}
	want := readAll(t, s, m.Files[0], false)
	dest := filepath.Join(t.TempDir(), "backup.db")
	if err := store.BackupFile(ctx, path, dest); err != nil {
		t.Fatal(err)
	}
	b, err := store.Open(ctx, dest)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	f, err := b.FindFile(ctx, m.Files[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if got := readAll(t, b, f, false); !bytes.Equal(got, want) || f.ETag != m.Files[0].ETag {
		t.Errorf("the backup's file: %d bytes, %d stored", len(got), len(want))
	}
	found, err := b.FindMessage(ctx, m.ID)
	if err != nil || found.Card == nil || found.Card.ImageID != img.ID || len(found.Files) != 1 {
		t.Errorf("the backup's post: %+v %v", found, err)
	}
	if got := readAll(t, b, store.File{ID: img.ID, Size: img.Size}, false); string(got) != "png bytes" {
		t.Errorf("the backup's card picture: %q", got)
	}
}
