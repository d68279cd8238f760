package hub_test

import (
	"fmt"
	"testing"

	"chat/hub"
)

// BenchmarkPublish delivers one event to 1,000 subscribers of a room: one
// op is one event, and allocs/op shows what each costs beyond the queues.
func BenchmarkPublish(b *testing.B) {
	h := hub.New(hub.Config{QueueLen: 1024})
	subs := make([]*hub.Sub, 1000)
	for i := range subs {
		subs[i], _ = h.Subscribe(1, fmt.Sprint("u", i), "s")
	}
	ev := hub.Event{Seq: 1, Data: []byte(`<div hx-swap-oob="beforeend:#messages"><li id="msg-1">hi</li></div>`)}
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		h.Publish(1, ev)
		if n++; n == 1000 {
			b.StopTimer()
			for _, s := range subs {
				s.Take(nil)
			}
			n = 0
			b.StartTimer()
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/1000, "ns/delivery")
}
