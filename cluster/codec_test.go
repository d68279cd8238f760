package cluster

import (
	"errors"
	"reflect"
	"testing"

	"chat/hub"
)

func TestRoomEventRoundTrip(t *testing.T) {
	for _, ev := range []hub.Event{
		{Seq: 42, Prev: 40, Data: []byte("<div>entry</div>"), Meta: &hub.Meta{AuthorID: 7, Author: "ada", Kind: "post"}},
		{Seq: 1, Data: []byte("first")},
		{Rev: 9, Data: []byte("<li>changed</li>")},
		{Data: []byte("typing")},
		{Data: []byte("opened"), Meta: &hub.Meta{Opened: 3}},
		{Meta: &hub.Meta{AuthorID: -1, Author: "ünï ✓", Kind: ""}},
	} {
		got, err := parseRoomEvent(appendRoomEvent(nil, ev))
		if err != nil {
			t.Fatalf("%+v: %v", ev, err)
		}
		if len(ev.Data) == 0 {
			ev.Data = got.Data // empty either way
		}
		if !reflect.DeepEqual(got, ev) {
			t.Errorf("round trip of %+v gave %+v", ev, got)
		}
	}
}

func TestControlRoundTrip(t *testing.T) {
	for _, m := range []control{
		{kind: kindDelta, from: "a1", version: 9, room: 4, user: "ann", present: true},
		{kind: kindDelta, from: "a1", version: 10, room: 4, user: "ann"},
		{kind: kindFull, from: "a1", version: 3, rooms: map[int64]map[string]struct{}{
			1: {"ann": {}, "bo": {}}, 2: {"cat": {}},
		}},
		{kind: kindFull, from: "a1", rooms: map[int64]map[string]struct{}{}},
		{kind: kindAlive, from: "a1", version: 77},
		{kind: kindWant, from: "a1", target: "b2"},
		{kind: kindBye, from: "a1"},
		{kind: kindSession, from: "a1", session: "s-1", code: 1008, reason: "signed out"},
		{kind: kindUser, from: "a1", user: "ann", room: 5, ev: hub.Event{Data: []byte("link"), Meta: &hub.Meta{Opened: 5}}},
	} {
		got, err := parseControl(appendControl(nil, m))
		if err != nil {
			t.Fatalf("%+v: %v", m, err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip of %+v gave %+v", m, got)
		}
	}
}

// A message cut short is refused, never half read.
func TestCodecShort(t *testing.T) {
	entry := appendRoomEvent(nil, hub.Event{Seq: 300, Prev: 200, Meta: &hub.Meta{AuthorID: 1, Author: "ada", Kind: "post"}})
	// Every cut before the data starts.
	for n := range len(entry) {
		if _, err := parseRoomEvent(entry[:n]); err == nil {
			t.Errorf("an entry cut to %d bytes was read", n)
		}
	}
	delta := appendControl(nil, control{kind: kindDelta, from: "a1", version: 300, room: 4, user: "ann"})
	for n := range len(delta) {
		if _, err := parseControl(delta[:n]); err == nil {
			t.Errorf("a delta cut to %d bytes was read", n)
		}
	}
	if _, err := parseControl([]byte{'?', 0}); !errors.Is(err, errKind) {
		t.Errorf("an unknown kind: %v", err)
	}
}
