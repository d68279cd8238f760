package webhooks

import (
	"testing"

	"chat/store"
)

// Entries that do not come back are let go oldest first, one for each kept
// past the bound, and handed on rather than dropped; those that came back
// are never let go again.
func TestWrittenBounded(t *testing.T) {
	var wr written
	wr.init()
	for id := int64(1); id <= writtenMax; id++ {
		if _, let := wr.add(store.Message{ID: id}); let {
			t.Fatalf("let %d go within the bound", id)
		}
	}
	if _, ok := wr.take(1); !ok {
		t.Fatal("entry 1 did not come back")
	}
	if _, let := wr.add(store.Message{ID: writtenMax + 1}); let {
		t.Error("let one go while there was room")
	}
	old, let := wr.add(store.Message{ID: writtenMax + 2})
	if !let || old.ID != 2 {
		t.Errorf("let go %d (%v), want the oldest waiting, 2", old.ID, let)
	}
	for id := int64(3); id <= writtenMax+2; id++ {
		wr.take(id)
	}
	for id := int64(writtenMax + 3); id <= 3*writtenMax; id++ {
		if _, let := wr.add(store.Message{ID: id}); let {
			t.Fatalf("let %d go with %d waiting", id, len(wr.m))
		}
		wr.take(id)
	}
	if len(wr.m) != 0 || len(wr.order) > 2*writtenMax {
		t.Errorf("%d waiting, %d ids in order: not bounded", len(wr.m), len(wr.order))
	}
}
