package store_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"slices"
	"testing"

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
