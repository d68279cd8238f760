package hub_test

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"chat/hub"
)

// An event reaches each connection in its language, and is rendered once
// per language its readers read: never for a language nobody reads,
// however many connections take it at once.
func TestTextOncePerLanguage(t *testing.T) {
	h := hub.New(hub.Config{})
	var subs []*hub.Sub
	for i := range 12 {
		lang := 0
		if i%4 == 0 {
			lang = 2 // three readers of the third language; none of the second
		}
		s, err := h.SubscribeIn(1, fmt.Sprintf("u%d", i), fmt.Sprintf("s%d", i), lang)
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	var renders [3]atomic.Int32
	h.Publish(1, hub.Event{Seq: 1, Text: hub.NewText(3, func(lang int) []byte {
		renders[lang].Add(1)
		return []byte(fmt.Sprintf("entry in %d", lang))
	})})
	var wg sync.WaitGroup
	got := make([]string, len(subs))
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, ev := range s.Take(nil) {
				got[i] = string(ev.Bytes(s.Lang))
			}
		}()
	}
	wg.Wait()
	for i, s := range subs {
		if want := fmt.Sprintf("entry in %d", s.Lang); got[i] != want {
			t.Errorf("connection %d (language %d) got %q", i, s.Lang, got[i])
		}
	}
	if a, b, c := renders[0].Load(), renders[1].Load(), renders[2].Load(); a != 1 || b != 0 || c != 1 {
		t.Errorf("rendered %d, %d, %d times; want once for each language read", a, b, c)
	}
}

func TestTextOutOfRange(t *testing.T) {
	txt := hub.Rendered([][]byte{[]byte("en"), []byte("es")})
	for lang, want := range map[int]string{-1: "en", 0: "en", 1: "es", 7: "en"} {
		if got := string(txt.In(lang)); got != want {
			t.Errorf("In(%d) = %q, want %q", lang, got, want)
		}
	}
	if got := string((hub.Event{Data: []byte("same")}).Bytes(1)); got != "same" {
		t.Errorf("Bytes of Data = %q", got)
	}
}

// A rendered event with nothing in a language gives the first's, and one
// with nothing at all gives nothing, at once.
func TestTextHoles(t *testing.T) {
	if got := hub.Rendered(nil).In(0); got != nil {
		t.Errorf("empty: %q", got)
	}
	if got := string(hub.Rendered([][]byte{[]byte("en"), nil}).In(1)); got != "" {
		t.Errorf("a stored empty language: %q", got)
	}
}
