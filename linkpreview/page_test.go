package linkpreview

import (
	"errors"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// endless is a reader of bytes without end that counts what was read.
type endless struct{ read int64 }

func (e *endless) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'x'
	}
	e.read += int64(len(p))
	return len(p), nil
}

// TestReadAtMost: a body without end is read to the cap and one byte
// more, no further.
func TestReadAtMost(t *testing.T) {
	r := &endless{}
	_, err := readAtMost(r, 512<<10)
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("error %v, want ErrTooLarge", err)
	}
	if r.read != 512<<10+1 {
		t.Errorf("read %d bytes of an endless body, want the cap and one", r.read)
	}
	body, err := readAtMost(strings.NewReader("abc"), 3)
	if err != nil || string(body) != "abc" {
		t.Errorf("%q, %v", body, err)
	}
}

// TestClean: a card's text is trimmed, its white space collapsed,
// bounded, its control and direction characters dropped, and invalid
// bytes too.
func TestClean(t *testing.T) {
	long := strings.Repeat("é", 250)
	for _, c := range []struct {
		in, want string
		limit    int
	}{
		{"  a \t\n b  ", "a b", 10},
		{"a\u00a0\u2028b\u3000c", "a b c", 10},
		{"evil\u202egnp.exe", "evilgnp.exe", 20},
		{"\u2066x\u2069\u200e\u200f\u061c\u202a\u202b\u202c\u202d", "x", 20},
		{"a\x00b\x07c\x1bd\x7fe\u0085f", "abcde f", 20},
		{"zero\u200bwidth\ufeff", "zerowidth", 20},
		{"bad\xff\xfebytes", "badbytes", 20},
		{"\ufffd\ufffe\uffffok", "ok", 20},
		{"emoji 👩‍💻 kept", "emoji 👩‍💻 kept", 20},
		{long, strings.Repeat("é", 199) + "…", 200},
		{strings.Repeat("é", 200), strings.Repeat("é", 200), 200},
		{"abcd efgh", "abcd…", 6},
		{"abcdef", "abcdef", 6},
		{"   ", "", 5},
	} {
		got := clean(c.in, c.limit)
		if got != c.want {
			t.Errorf("clean(%q, %d) = %q, want %q", c.in, c.limit, got, c.want)
		}
	}
}

// FuzzClean: whatever the text, what is left is valid UTF-8, within the
// limit, without control or direction characters, and with no white space
// but single spaces between words.
func FuzzClean(f *testing.F) {
	f.Add("  a \t\n b  ", 10)
	f.Add("evil\u202egnp.exe\xff", 5)
	f.Add(strings.Repeat("x ", 300), 200)
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 1 || limit > 1000 {
			return
		}
		got := clean(s, limit)
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8: %q", got)
		}
		if n := utf8.RuneCountInString(got); n > limit {
			t.Fatalf("%d characters, limit %d", n, limit)
		}
		if got != strings.TrimSpace(got) || strings.Contains(got, "  ") {
			t.Fatalf("white space left: %q", got)
		}
		for _, r := range got {
			if dropped(r) || unicode.IsSpace(r) && r != ' ' {
				t.Fatalf("%U left in %q", r, got)
			}
		}
	})
}

// TestParseMeta: the first of each tag, by property or name; the title's
// entities decoded, as the attributes'.
func TestParseMeta(t *testing.T) {
	page := `<html><head>
<meta property="og:title" content="OG &lt;b&gt; title">
<meta property="og:title" content="second">
<meta name="twitter:title" content="tw">
<meta name="description" content="desc">
<meta property="og:description" content="og desc">
<meta name="og:image" content="/a.png">
<meta property="twitter:image" content="/b.png">
<meta property="og:site_name" content="Site">
<meta content="no key">
<title>Tom &amp; Jerry &#8212; <b>not a tag</b></title>
<title>second title</title>
</head></html>`
	m := parseMeta([]byte(page))
	want := meta{title: "Tom & Jerry — <b>not a tag</b>", twitterTitle: "tw", ogTitle: "OG <b> title", description: "desc",
		ogDescription: "og desc", ogImage: "/a.png", twitImage: "/b.png", siteName: "Site"}
	if m != want {
		t.Errorf("got  %+v\nwant %+v", m, want)
	}
	// A drawing's title is not the page's.
	m = parseMeta([]byte(`<body><svg><title>icon</title><svg/></svg><title>the page</title>`))
	if m.title != "the page" {
		t.Errorf("title %q, want the page's", m.title)
	}
	// A title left open is the page's rest, bounded.
	m = parseMeta([]byte("<title>" + strings.Repeat("a", 1<<20)))
	if len(m.title) == 0 || len(m.title) > 8*maxTitle*utf8.UTFMax {
		t.Errorf("an open title kept %d bytes", len(m.title))
	}
}

// FuzzParseMeta: any bytes parse, and the card's text made of them obeys
// its rules.
func FuzzParseMeta(f *testing.F) {
	f.Add([]byte(`<title>x</title><meta property="og:title" content="y">`))
	f.Add([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"))
	f.Add([]byte(`<meta charset="shift_jis"><title>\x82\xa0</title>`))
	f.Fuzz(func(t *testing.T, page []byte) {
		m := parseMeta(utf8Page(page, "text/html"))
		title := first(maxTitle, m.ogTitle, m.twitterTitle, m.title)
		if !utf8.ValidString(title) || utf8.RuneCountInString(title) > maxTitle {
			t.Fatalf("title %q", title)
		}
	})
}
