package handlers

import (
	"context"
	"testing"
)

// TestDecodeSlots: no more than avatarDecodes pictures are decoded at
// once; the next waits, and gives up when its request ends.
func TestDecodeSlots(t *testing.T) {
	var d decodeSlots
	for i := range avatarDecodes {
		if !d.acquire(context.Background()) {
			t.Fatalf("slot %d refused", i)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if d.acquire(ctx) {
		t.Fatal("a slot past avatarDecodes was given")
	}
	d.release()
	if !d.acquire(context.Background()) {
		t.Fatal("a released slot was not given again")
	}
}
