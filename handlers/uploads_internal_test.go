package handlers

import (
	"context"
	"testing"
	"time"
)

// TestUploadSlots: places per user and in all, given back by release or
// lapsing when an upload's body never came.
func TestUploadSlots(t *testing.T) {
	var u uploadSlots
	now := time.Unix(1_000_000, 0)
	for id := range int64(uploadsAtOnce / uploadsPerUser) {
		for range uploadsPerUser {
			if !u.take(id, now) {
				t.Fatalf("user %d refused a place with %d held", id, u.total)
			}
		}
		if u.take(id, now) {
			t.Fatalf("user %d got a place past %d", id, uploadsPerUser)
		}
	}
	if u.take(999, now) {
		t.Fatalf("a place past %d in all", uploadsAtOnce)
	}
	u.release(0)
	if !u.take(999, now) {
		t.Fatal("a place given back was not taken again")
	}
	u.release(42) // none held: nothing to give
	if u.total != uploadsAtOnce {
		t.Fatalf("%d held, want %d", u.total, uploadsAtOnce)
	}
	later := now.Add(uploadHold)
	if !u.take(1, later) || u.total != 1 {
		t.Fatalf("after the hold, %d places are still held", u.total-1)
	}
}

// A user's second decode waits for the first, and no one else's does.
func TestPerUser(t *testing.T) {
	var p perUser
	ctx := context.Background()
	if err := p.take(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := p.take(ctx, 2); err != nil {
		t.Fatalf("another user waits: %v", err)
	}
	short, cancel := context.WithCancel(ctx)
	cancel()
	if err := p.take(short, 1); err == nil {
		t.Fatal("a user's second turn did not wait for the first")
	}
	got := make(chan error, 1)
	go func() { got <- p.take(ctx, 1) }()
	p.release(1)
	if err := <-got; err != nil {
		t.Fatalf("after the first ended: %v", err)
	}
	p.release(1)
	p.release(1) // nothing to end: nothing happens
}

// An upload may take as long as its body takes at the slowest rate
// allowed, within bounds.
func TestUploadTime(t *testing.T) {
	if got := uploadTime(1000); got != readTimeout {
		t.Errorf("a small body: %v", got)
	}
	if got, want := uploadTime(10<<20), readTimeout+160*time.Second; got != want {
		t.Errorf("10 MiB: %v, want %v", got, want)
	}
	if got := uploadTime(101 << 20); got != uploadMaxTime {
		t.Errorf("101 MiB: %v, want %v", got, uploadMaxTime)
	}
}

// A place given back after it lapsed gives back no other: the user's next
// upload's place stays held.
func TestUploadReleaseAt(t *testing.T) {
	var u uploadSlots
	now := time.Unix(1_000_000, 0)
	first, _ := u.takeUntil(7, now, time.Minute)
	later := now.Add(2 * time.Minute) // the first has lapsed
	second, ok := u.takeUntil(7, later, time.Minute)
	if !ok || u.total != 1 {
		t.Fatalf("a second place: %v, %d held", ok, u.total)
	}
	u.releaseAt(7, first)
	if u.total != 1 {
		t.Fatalf("the lapsed place's release gave back the live one: %d held", u.total)
	}
	u.releaseAt(7, second)
	if u.total != 0 {
		t.Fatalf("%d held after its release", u.total)
	}
}
