package handlers_test

import (
	"regexp"
	"sort"
	"strings"
	"testing"
	"unicode"

	"chat/i18n"

	"github.com/PuerkitoBio/goquery"
	"golang.org/x/net/html"
)

// visibleText is every piece of a page's words a reader meets: its text
// (in templates too) and the attributes a browser shows or reads aloud.
func visibleText(t testing.TB, body string) []string {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	add := func(s string) {
		if s = strings.Join(strings.Fields(s), " "); s != "" {
			out = append(out, s)
		}
	}
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		switch n.Type {
		case html.TextNode:
			if p := n.Parent; p == nil || (p.Data != "script" && p.Data != "style") {
				add(n.Data)
			}
		case html.ElementNode:
			for _, a := range n.Attr {
				switch a.Key {
				case "title", "aria-label", "placeholder", "alt", "aria-description", "aria-roledescription", "data-title", "data-body", "data-confirm", "hx-confirm", "data-label":
					add(a.Val)
				case "value":
					if n.Data == "input" && (attr(n, "type") == "submit" || attr(n, "type") == "button") {
						add(a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	for _, n := range doc.Nodes {
		walk(n)
	}
	return out
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// untranslated lists what a page in another language (other) still says
// in English: words of the English catalog that the language does not
// share, and any piece of words the English page (en) has too, unless it
// is made of the ignored words alone (user names, rooms, posts: never
// translated), numbers and signs.
func untranslated(t testing.TB, lang, en, other string, ignore ...string) []string {
	t.Helper()
	cat := i18n.Default()
	l, ok := cat.Lookup(lang)
	if !ok {
		t.Fatalf("no language %q", lang)
	}
	shared := map[string]bool{}
	for _, l := range cat.Langs() {
		shared[l.Name] = true
	}
	for _, k := range l.Keys() {
		for _, p := range l.Parts(k) {
			shared[strings.TrimSpace(p.Text)] = true
		}
	}
	var english []*regexp.Regexp
	for _, k := range cat.English().Keys() {
		for _, p := range cat.English().Parts(k) {
			s := strings.TrimSpace(p.Text)
			if letters(s) < 3 || shared[s] {
				continue
			}
			english = append(english, regexp.MustCompile(`(^|[^\pL])`+regexp.QuoteMeta(s)+`($|[^\pL])`))
		}
	}
	// alike are the words both languages share, longest first: a short
	// one ("a") must not break a longer ("· Chat").
	var alike []string
	for w := range shared {
		if letters(w) > 0 {
			alike = append(alike, w)
		}
	}
	sort.Slice(alike, func(i, j int) bool { return len(alike[i]) > len(alike[j]) })
	inEnglish := map[string]bool{}
	for _, s := range visibleText(t, en) {
		inEnglish[s] = true
	}
	var out []string
	for _, s := range visibleText(t, other) {
		rest := s
		for _, ig := range ignore {
			if ig != "" {
				rest = strings.ReplaceAll(rest, ig, " ")
			}
		}
		if letters(rest) == 0 {
			continue
		}
		// Words both languages say alike ("Chat" in "general · Chat")
		// are no sign of English either.
		same := rest
		for _, w := range alike {
			same = strings.ReplaceAll(same, w, " ")
		}
		if inEnglish[s] && !shared[s] && letters(same) > 0 {
			out = append(out, "same as in English: "+s)
			continue
		}
		for _, re := range english {
			if re.MatchString(rest) {
				out = append(out, "English words: "+s)
				break
			}
		}
	}
	return out
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// assertTranslated asks for a page in English and in Spanish (by
// Accept-Language) and fails on what the Spanish one says in English, or
// on a key with no message in either.
func assertTranslated(t testing.TB, c *client, path string, ignore ...string) {
	t.Helper()
	assertTranslatedBy(t, path, 0, func(lang string) response { return c.get(path, "Accept-Language", lang) }, ignore...)
}

// assertTranslatedBy is assertTranslated for any request: fetch asks for
// the answer in a language (its Accept-Language), once in English and
// once in Spanish; want, unless 0, is the status both must have. It
// returns the Spanish answer.
func assertTranslatedBy(t testing.TB, what string, want int, fetch func(lang string) response, ignore ...string) response {
	t.Helper()
	en, es := fetch("en"), fetch("es")
	if en.StatusCode != es.StatusCode || want != 0 && es.StatusCode != want {
		t.Fatalf("%s: %d in English, %d in Spanish, want %d", what, en.StatusCode, es.StatusCode, want)
	}
	for _, body := range []string{en.Body, es.Body} {
		if i := strings.Index(body, i18n.MissingMark); i >= 0 {
			t.Errorf("%s: a key with no message: %s", what, body[i:min(len(body), i+80)])
		}
	}
	for _, s := range untranslated(t, "es", en.Body, es.Body, ignore...) {
		t.Errorf("%s in Spanish: %s", what, s)
	}
	return es
}
