package views

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestEntryCacheBound: the markup kept stays within the cache's bound,
// whatever number of entries pass through it, and each entry still
// renders as MessageItem does.
func TestEntryCacheBound(t *testing.T) {
	const bound = 16 << 10
	c := NewEntryCache(bound)
	ctx := WithEntryCache(context.Background(), c)
	for id := int64(1); id <= 500; id++ {
		e := Entry{ID: id, RoomID: 1, Kind: "post", Author: "alice", Text: "hello", Time: time.UnixMilli(id).UTC()}
		var got, want bytes.Buffer
		if err := cachedMessageItem(e).Render(ctx, &got); err != nil {
			t.Fatal(err)
		}
		if err := MessageItem(e).Render(context.Background(), &want); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Fatalf("entry %d: %s, want %s", id, got.String(), want.String())
		}
		c.mu.Lock()
		kept := c.bytes
		c.mu.Unlock()
		if kept > bound {
			t.Fatalf("after %d entries, %d bytes kept, bound %d", id, kept, bound)
		}
	}
	if n := c.Len(); n == 0 || n >= 500 {
		t.Errorf("%d entries kept of 500", n)
	}
}
