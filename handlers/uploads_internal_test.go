package handlers

import (
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
