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
		{Data: []byte("opened"), Meta: &hub.Meta{Opened: 3, OpenedSeen: 41}},
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
		{kind: kindUser, from: "a1", user: "ann", room: 5, ev: hub.Event{Data: []byte("link"), Meta: &hub.Meta{Opened: 5, OpenedSeen: 1 << 40}}},
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

// An event in several languages reaches the other instances in all of
// them, each whole, rendered by the sender once each.
func TestRoomEventInLanguages(t *testing.T) {
	renders := 0
	text := hub.NewText(3, func(lang int) []byte {
		renders++
		return []byte([]string{"<p>joined</p>", "<p>se unió</p>", ""}[lang])
	})
	for _, b := range [][]byte{
		appendRoomEvent(nil, hub.Event{Seq: 5, Prev: 4, Text: text}),
		appendControl(nil, control{kind: kindUser, from: "a1", user: "ann", room: 2, ev: hub.Event{Text: text}}),
	} {
		var ev hub.Event
		if b[0] == kindUser {
			m, err := parseControl(b)
			if err != nil {
				t.Fatal(err)
			}
			ev = m.ev
		} else {
			var err error
			if ev, err = parseRoomEvent(b); err != nil {
				t.Fatal(err)
			}
		}
		if ev.Text == nil || ev.Data != nil {
			t.Fatalf("parsed %+v: no text", ev)
		}
		for lang, want := range []string{"<p>joined</p>", "<p>se unió</p>", "", "<p>joined</p>"} {
			if got := string(ev.Bytes(lang)); got != want {
				t.Errorf("language %d: %q, want %q", lang, got, want)
			}
		}
	}
	if renders != 3 {
		t.Errorf("rendered %d times, want once a language", renders)
	}
	// Cut before the last language starts: refused.
	b := appendRoomEvent(nil, hub.Event{Text: text})
	last := len(b) - len("") - len("<p>se unió</p>") - 1 // kind, meta, count, two lengths
	for n := 1; n < last; n++ {
		if _, err := parseRoomEvent(b[:n]); err == nil {
			t.Errorf("cut at %d of %d parsed", n, len(b))
		}
	}
}

// Whatever arrives on a room's subject is refused or read whole: never a
// panic, and what is read encodes back to what reads the same.
func FuzzRoomEvent(f *testing.F) {
	f.Add(appendRoomEvent(nil, hub.Event{Seq: 3, Prev: 2, Data: []byte("<p>x</p>")}))
	f.Add(appendRoomEvent(nil, hub.Event{Rev: 4, Text: hub.Rendered([][]byte{[]byte("en"), []byte("es")}), Meta: &hub.Meta{Author: "ana", Kind: "post"}}))
	f.Add([]byte{kindEvent, 0, 200, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := parseRoomEvent(append([]byte(nil), b...))
		if err != nil {
			return
		}
		again, err := parseRoomEvent(appendRoomEvent(nil, ev))
		if err != nil {
			t.Fatalf("%x read, but its encoding is refused: %v", b, err)
		}
		for lang := range maxLangs + 1 {
			if x, y := ev.Bytes(lang), again.Bytes(lang); string(x) != string(y) {
				t.Fatalf("%x: language %d reads %q, then %q", b, lang, x, y)
			}
		}
	})
}
