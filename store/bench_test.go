package store_test

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"testing"

	"chat/store"
)

// BenchmarkCreatePost stores posts one at a time, each its own durable
// transaction (synchronous=FULL): the cost of a lone post.
func BenchmarkCreatePost(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, "alice", "x")
	room, _, _ := s.CreateRoom(ctx, "bench", u.ID)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := createPost(ctx, s, room.ID, u.ID, "post number "+strconv.Itoa(i), ""); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}

// BenchmarkFile stores a file of 10 MB and reads it back, a chunk at a
// time both ways: the bytes allocated an operation stay far below the
// file's size on the way in; on the way out the driver gives each chunk
// as a new slice (go-sqlite3 and pgx copy a column's bytes), which is
// garbage at once.
func BenchmarkFile(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, "alice", "x")
	const size = 10 << 20
	data := randomBytes(size, 9)
	b.ReportAllocs()
	b.SetBytes(2 * size) // in and out
	for b.Loop() {
		f, err := s.PutFile(ctx, store.NewFile{UserID: u.ID, Name: "big.bin", Type: "application/octet-stream", MaxSize: size}, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		r := s.OpenFile(ctx, f, false)
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != size {
			b.Fatal(n, err)
		}
		if err := s.DeleteUnattachedFiles(ctx, u.ID, []int64{f.ID}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)*2*size/(1<<20)/b.Elapsed().Seconds(), "MB/s")
}

// BenchmarkPutFile is the way in alone.
func BenchmarkPutFile(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, "alice", "x")
	const size = 10 << 20
	data := randomBytes(size, 9)
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		f, err := s.PutFile(ctx, store.NewFile{UserID: u.ID, Name: "big.bin", Type: "application/octet-stream"}, bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := s.DeleteUnattachedFiles(ctx, u.ID, []int64{f.ID}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// BenchmarkOpenFile is the way out alone.
func BenchmarkOpenFile(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, "alice", "x")
	const size = 10 << 20
	f, err := s.PutFile(ctx, store.NewFile{UserID: u.ID, Name: "big.bin", Type: "application/octet-stream"}, bytes.NewReader(randomBytes(size, 9)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(size)
	for b.Loop() {
		r := s.OpenFile(ctx, f, false)
		n, err := io.Copy(io.Discard, r)
		r.Close()
		if err != nil || n != size {
			b.Fatal(n, err)
		}
	}
}

// BenchmarkCreatePostClientID is BenchmarkCreatePost with a client id on
// each post, as pages and sockets send them, in a room of 20,000 such
// posts already: the look for the id, which makes a post sent twice land
// once, is part of each.
func BenchmarkCreatePostClientID(b *testing.B) {
	s, _ := openStore(b)
	ctx := context.Background()
	u, _ := s.CreateUser(ctx, "alice", "x")
	room, _, _ := s.CreateRoom(ctx, "bench", u.ID)
	for i := range 20000 {
		if _, _, err := createPost(ctx, s, room.ID, u.ID, "post number "+strconv.Itoa(i), "seed-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, _, err := createPost(ctx, s, room.ID, u.ID, "post number "+strconv.Itoa(i), "bench-"+strconv.Itoa(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "posts/s")
}
