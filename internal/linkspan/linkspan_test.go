package linkspan

import "testing"

// A link starts at a word's start, ends before the punctuation that ends
// a sentence and a bracket it did not open, and is a link only with a host.
func TestLinkSpans(t *testing.T) {
	for _, c := range []struct {
		text string
		at   int
		want string // "" when no link starts at at
	}{
		{"see https://example.com/a.", 4, "https://example.com/a"},
		{"(http://example.com/x) ok", 1, "http://example.com/x"},
		{"http://en.wikipedia.org/wiki/Go_(game)!", 0, "http://en.wikipedia.org/wiki/Go_(game)"},
		{"xhttp://example.com", 1, ""},
		{"https://example.com?q=1, next", 0, "https://example.com?q=1"},
	} {
		if !Start(c.text, c.at) {
			if c.want != "" {
				t.Errorf("%q: no link starts at %d", c.text, c.at)
			}
			continue
		}
		if c.want == "" {
			t.Errorf("%q: a link starts at %d", c.text, c.at)
			continue
		}
		end := End(c.text, c.at, len(c.text), func(int) bool { return false })
		if got := c.text[c.at:end]; got != c.want || !Link(got) {
			t.Errorf("%q: %q (link %v), want %q", c.text, got, Link(got), c.want)
		}
	}
	for _, s := range []string{"https://", "http:///path"} {
		if Link(s) {
			t.Errorf("%q is a link", s)
		}
	}
}
