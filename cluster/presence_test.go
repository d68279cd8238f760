package cluster

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// The presence protocol between instances, with no NATS: what one
// instance says (own) goes through the codec to another (peers).

func heardVia(t *testing.T, ps *peers, m control, now time.Time) ([]string, bool) {
	t.Helper()
	m, err := parseControl(appendControl(nil, m))
	if err != nil {
		t.Fatal(err)
	}
	changes, ask := ps.heard(m, now)
	var out []string
	for _, c := range changes {
		out = append(out, fmt.Sprintf("%d:%s=%d", c.room, c.user, c.n))
	}
	slices.Sort(out)
	return out, ask
}

func TestPresenceProtocol(t *testing.T) {
	hb := time.Second
	a := own{id: "a", rooms: make(map[int64]map[string]struct{})}
	b := own{id: "b", rooms: make(map[int64]map[string]struct{})}
	ps := newPeers(hb)
	now := t0
	step := func(name string, m control, want []string, wantAsk bool) {
		t.Helper()
		got, ask := heardVia(t, ps, m, now)
		if !slices.Equal(got, want) || ask != wantAsk {
			t.Errorf("%s: changes %q ask %v, want %q ask %v", name, got, ask, want, wantAsk)
		}
	}

	a.change(1, "ann", true) // before anyone listened
	step("a's delta, a unknown", a.change(1, "bo", true), nil, true)
	step("asked again at once", a.alive(), nil, false)
	step("a's whole list", a.full(), []string{"1:ann=1", "1:bo=1"}, false)
	step("a's next delta", a.change(2, "ann", true), []string{"2:ann=1"}, false)
	step("a's heartbeat, in step", a.alive(), nil, false)
	a.change(2, "ann", false) // lost
	now = now.Add(hb)
	step("a's delta after a lost one", a.change(1, "bo", false), nil, true)
	step("a's list again", a.full(), []string{"1:bo=0", "2:ann=0"}, false)

	step("b's list", b.full(), nil, false)
	step("b's delta", b.change(1, "ann", true), []string{"1:ann=2"}, false)
	step("a says goodbye", control{kind: kindBye, from: "a"}, []string{"1:ann=1"}, false)
	step("a's goodbye again", control{kind: kindBye, from: "a"}, nil, false)

	changes, gone := ps.expire(now.Add(3 * hb))
	if len(changes) != 0 || len(gone) != 0 {
		t.Errorf("b expired after three heartbeats exactly: %v %v", changes, gone)
	}
	changes, gone = ps.expire(now.Add(3*hb + time.Millisecond))
	if len(changes) != 1 || changes[0] != (presenceChange{1, "ann", 0}) || !slices.Equal(gone, []string{"b"}) {
		t.Errorf("b silent: changes %v, gone %v", changes, gone)
	}
}
