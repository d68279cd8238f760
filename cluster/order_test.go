package cluster

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"chat/hub"
)

// The ordering core, with no NATS and no clock: arrivals in, events out.

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

const gap = 250 * time.Millisecond

// entry is entry seq of the room, after prev.
func entry(seq, prev int64) hub.Event {
	return hub.Event{Seq: seq, Prev: prev, Data: fmt.Appendf(nil, "e%d", seq)}
}

func change(s string) hub.Event { return hub.Event{Data: []byte(s)} }

func names(evs []hub.Event) []string {
	out := []string{}
	for _, ev := range evs {
		out = append(out, string(ev.Bytes(0)))
	}
	return out
}

// step is one call to the core: an arrival (entry or other event), or a
// fill that reads back the given entries.
type step struct {
	arrive hub.Event
	fill   []hub.Event // read back, for a fill step
	isFill bool
	out    []string // what comes out
	fillAt bool     // whether a fill is asked for
}

func TestOrder(t *testing.T) {
	for _, c := range []struct {
		name  string
		steps []step
	}{
		{"InOrder", []step{
			{arrive: entry(11, 10), out: []string{"e11"}},
			{arrive: entry(12, 11), out: []string{"e12"}},
		}},
		{"CrossedHeldThenBoth", []step{
			{arrive: entry(12, 11), out: []string{}, fillAt: true},
			{arrive: entry(11, 10), out: []string{"e11", "e12"}},
		}},
		{"OneFillAskedPerGap", []step{
			{arrive: entry(13, 12), out: []string{}, fillAt: true},
			{arrive: entry(12, 11), out: []string{}},
			{arrive: entry(11, 10), out: []string{"e11", "e12", "e13"}},
		}},
		{"LostEntryReadBack", []step{
			{arrive: entry(12, 11), out: []string{}, fillAt: true},
			{isFill: true, fill: []hub.Event{entry(11, 10), entry(12, 11)}, out: []string{"e11", "e12"}},
			{arrive: entry(11, 10), out: []string{}},
			{arrive: entry(13, 12), out: []string{"e13"}},
		}},
		{"LateCopiesDropped", []step{
			{arrive: entry(11, 10), out: []string{"e11"}},
			{arrive: entry(11, 10), out: []string{}},
			{arrive: entry(9, 8), out: []string{}},
			{arrive: entry(10, 9), out: []string{}},
		}},
		{"ReadStoppedShortAsksAgain", []step{
			{arrive: entry(14, 13), out: []string{}, fillAt: true},
			{isFill: true, fill: []hub.Event{entry(11, 10), entry(12, 11)}, out: []string{"e11", "e12"}, fillAt: true},
			{isFill: true, fill: []hub.Event{entry(13, 12), entry(14, 13)}, out: []string{"e13", "e14"}},
		}},
		{"ChangeFollowsWaitingEntries", []step{
			{arrive: entry(12, 11), out: []string{}, fillAt: true},
			{arrive: change("edit e12"), out: []string{}},
			{arrive: entry(11, 10), out: []string{"e11", "e12", "edit e12"}},
			{arrive: change("typing"), out: []string{"typing"}},
		}},
		{"GapClosedBeforeFillReadsNothing", []step{
			{arrive: entry(12, 11), out: []string{}, fillAt: true},
			{arrive: entry(11, 10), out: []string{"e11", "e12"}},
			{isFill: true, out: []string{}},
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := newOrder(gap, map[int64]int64{1: 10})
			for i, s := range c.steps {
				var out []hub.Event
				var fillAt time.Time
				switch {
				case s.isFill:
					after, ok := o.startFill(1)
					if !ok {
						break
					}
					var read []hub.Event
					for _, ev := range s.fill {
						if ev.Seq > after {
							read = append(read, ev)
						}
					}
					out, fillAt = o.filled(1, read, t0)
				case s.arrive.Seq != 0:
					out, fillAt = o.entry(1, s.arrive, t0)
				default:
					out = o.other(1, s.arrive)
				}
				if got := names(out); !slices.Equal(got, s.out) {
					t.Errorf("step %d: out %q, want %q", i, got, s.out)
				}
				if !fillAt.IsZero() != s.fillAt {
					t.Errorf("step %d: fill asked at %v, want a fill: %v", i, fillAt, s.fillAt)
				}
			}
		})
	}
}

func TestOrderFillTimes(t *testing.T) {
	o := newOrder(gap, nil)
	if _, at := o.entry(1, entry(2, 1), t0); !at.Equal(t0.Add(gap)) {
		t.Errorf("gap fill asked at %v, want GapWait later", at)
	}
	if _, ok := o.startFill(1); !ok {
		t.Fatal("an entry waits, yet no fill")
	}
	if _, ok := o.startCatchUp(1); ok {
		t.Error("a catch-up started while a fill is on its way")
	}
	if at := o.fillFailed(1, t0); !at.Equal(t0.Add(gap)) {
		t.Errorf("after a failed read, next asked at %v, want GapWait later", at)
	}
	if _, ok := o.startFill(1); !ok {
		t.Fatal("no fill after the failed one")
	}
	out, at := o.filled(1, []hub.Event{entry(1, 0), entry(2, 1)}, t0)
	if !at.IsZero() || !slices.Equal(names(out), []string{"e1", "e2"}) {
		t.Errorf("filled: %q, next at %v", names(out), at)
	}
	// A room new since start: its first entry has no predecessor.
	if out, _ := o.entry(7, entry(30, 0), t0); !slices.Equal(names(out), []string{"e30"}) {
		t.Errorf("a new room's first entry: %q", names(out))
	}
}

// deliverAll plays the room's entries in the arrival order given by
// choose (copies, losses), with fills from the "database" whenever a fill
// is due and choose says so, then a last fill; it returns what came out.
func deliverAll(t *testing.T, entries []hub.Event, choose func(n int) int) []hub.Event {
	t.Helper()
	o := newOrder(gap, map[int64]int64{1: entries[0].Prev})
	var out []hub.Event
	due := false
	fill := func() {
		after, ok := o.startFill(1)
		if !ok {
			due = false
			return
		}
		i, _ := slices.BinarySearchFunc(entries, after+1, func(ev hub.Event, seq int64) int { return int(ev.Seq - seq) })
		// Read back at most three entries at a time (a page).
		got, at := o.filled(1, entries[i:min(i+3, len(entries))], t0)
		out = append(out, got...)
		due = !at.IsZero()
	}
	for range 4 * len(entries) {
		if due && choose(4) == 0 {
			fill()
			continue
		}
		ev := entries[choose(len(entries))]
		if choose(8) == 0 {
			continue // lost
		}
		got, at := o.entry(1, ev, t0)
		out = append(out, got...)
		due = due || !at.IsZero()
	}
	for due {
		fill()
	}
	// What never came and waited for nothing is read back at the
	// room's next entry: a catch-up here.
	if after, ok := o.startCatchUp(1); ok {
		i, _ := slices.BinarySearchFunc(entries, after+1, func(ev hub.Event, seq int64) int { return int(ev.Seq - seq) })
		got, _ := o.filled(1, entries[i:], t0)
		out = append(out, got...)
	}
	return out
}

// entriesOf makes n entries with ids that skip (other rooms' ids).
func entriesOf(n int, skip func() int64) []hub.Event {
	var evs []hub.Event
	prev := int64(100)
	for range n {
		seq := prev + 1 + skip()
		evs = append(evs, entry(seq, prev))
		prev = seq
	}
	return evs
}

func checkOnceInOrder(t *testing.T, entries, out []hub.Event) {
	t.Helper()
	if !slices.Equal(names(out), names(entries)) {
		t.Fatalf("delivered %q\nwant      %q", names(out), names(entries))
	}
}

// TestOrderRandomArrivals: whatever the arrival order, copies and losses,
// every entry comes out once, in order.
func TestOrderRandomArrivals(t *testing.T) {
	for seed := range uint64(500) {
		r := rand.New(rand.NewPCG(seed, seed))
		entries := entriesOf(1+r.IntN(40), func() int64 { return int64(r.IntN(3)) })
		out := deliverAll(t, entries, r.IntN)
		checkOnceInOrder(t, entries, out)
	}
}

func FuzzOrder(f *testing.F) {
	f.Add([]byte{5, 1, 2, 3, 4, 0, 0, 9})
	f.Add([]byte{40, 255, 0, 17, 3, 3, 3, 8, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) == 0 {
			return
		}
		next := func() int {
			if len(b) == 0 {
				return 0
			}
			c := int(b[0])
			b = b[1:]
			return c
		}
		entries := entriesOf(1+next()%40, func() int64 { return int64(next() % 3) })
		out := deliverAll(t, entries, func(n int) int { return next() % n })
		checkOnceInOrder(t, entries, out)
	})
}
