package store_test

import (
	"context"
	"strconv"
	"testing"
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
