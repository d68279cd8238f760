package i18n_test

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"chat/i18n"
)

// Every language has exactly English's keys, each of the same kind and
// with the same values: a key missing from one language, or left over in
// it, fails here.
func TestCatalogsAgree(t *testing.T) {
	c := i18n.Default()
	if len(c.Langs()) < 2 {
		t.Fatalf("langs = %d, want English and Spanish at least", len(c.Langs()))
	}
	en := c.English()
	for _, l := range c.Langs()[1:] {
		if d := diff(en.Keys(), l.Keys()); d != "" {
			t.Errorf("%s against en: %s", l.Tag, d)
		}
		for _, k := range en.Keys() {
			if !l.Has(k) {
				continue
			}
			if (en.Forms(k) == nil) != (l.Forms(k) == nil) {
				t.Errorf("%s: %q has plural forms in one language only", l.Tag, k)
			}
			if a, b := names(en.Parts(k)), names(l.Parts(k)); a != b {
				t.Errorf("%s: %q takes values %q, English %q", l.Tag, k, b, a)
			}
			if l.Tag != en.Tag && strings.TrimSpace(l.T(k)) == "" && en.Forms(k) == nil && len(en.Parts(k)) == 1 {
				t.Errorf("%s: %q is empty", l.Tag, k)
			}
		}
	}
}

func names(ps []i18n.Part) string {
	var n []string
	for _, p := range ps {
		if p.Name != "" {
			n = append(n, p.Name)
		}
	}
	sort.Strings(n)
	return strings.Join(n, ",")
}

func diff(want, got []string) string {
	in := func(xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			m[x] = true
		}
		return m
	}
	w, g := in(want), in(got)
	var out []string
	for _, k := range want {
		if !g[k] {
			out = append(out, "missing "+k)
		}
	}
	for _, k := range got {
		if !w[k] {
			out = append(out, "extra "+k)
		}
	}
	return strings.Join(out, "; ")
}

// Every plural message has the forms its language's rules ask for, for
// the counts a chat meets.
func TestPluralForms(t *testing.T) {
	for _, l := range i18n.Default().Langs() {
		for _, k := range l.Keys() {
			if l.Forms(k) == nil {
				continue
			}
			// Every value its forms name, given.
			var values []any
			for _, form := range l.Forms(k) {
				for _, m := range valueName.FindAllStringSubmatch(form, -1) {
					values = append(values, m[1], "x")
				}
			}
			for _, n := range []int{0, 1, 2, 5, 21, 255, 256, 1000000} {
				s := l.N(k, n, values...)
				if strings.Contains(s, i18n.MissingMark) || s == "" || !strings.Contains(s, strconv.Itoa(n)) && strings.Contains(l.Forms(k)["other"], "{{.Count}}") && n > 1 {
					t.Errorf("%s %q with %d = %q", l.Tag, k, n, s)
				}
			}
		}
	}
}

var valueName = regexp.MustCompile(`\{\{\.([A-Za-z_][A-Za-z0-9_]*)\}\}`)

// N picks each language's form by its rules, for small counts and large.
func TestPluralChoice(t *testing.T) {
	es, _ := i18n.Default().Lookup("es")
	en := i18n.Default().English()
	for _, tc := range []struct {
		l    *i18n.Lang
		n    int
		want string
	}{
		{en, 1, "1 new message"}, {en, 0, "0 new messages"}, {en, 300, "300 new messages"},
		{es, 1, "1 mensaje nuevo"}, {es, 3, "3 mensajes nuevos"}, {es, 1000000, "1000000 de mensajes nuevos"}, {es, 2000, "2000 mensajes nuevos"},
	} {
		c, err := i18n.Load(fstest.MapFS{
			"locales/en.json": {Data: []byte(`{"language.name":"English","n":{"one":"{{.Count}} new message","other":"{{.Count}} new messages"}}`)},
			"locales/es.json": {Data: []byte(`{"language.name":"Español","n":{"one":"{{.Count}} mensaje nuevo","many":"{{.Count}} de mensajes nuevos","other":"{{.Count}} mensajes nuevos"}}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		l, _ := c.Lookup(tc.l.Tag)
		if got := l.N("n", tc.n); got != tc.want {
			t.Errorf("%s N(%d) = %q, want %q", tc.l.Tag, tc.n, got, tc.want)
		}
	}
}

func TestNegotiate(t *testing.T) {
	c := i18n.Default()
	for _, tc := range []struct{ choice, accept, want string }{
		{"", "", "en"},
		{"", "es", "es"},
		{"", "es-MX,es;q=0.9,en;q=0.8", "es"},
		{"", "fr-FR,fr;q=0.9", "en"},
		{"", "fr;q=0.9,es;q=0.5", "es"},
		{"", "en-GB,es;q=0.1", "en"},
		{"en", "es", "en"},
		{"es", "en-US", "es"},
		{"xx", "es", "es"},
		{"", "garbage;;;", "en"},
	} {
		if got := c.Negotiate(tc.choice, tc.accept).Tag; got != tc.want {
			t.Errorf("Negotiate(%q, %q) = %s, want %s", tc.choice, tc.accept, got, tc.want)
		}
	}
}

func TestLookupsAndContext(t *testing.T) {
	c, err := i18n.Load(fstest.MapFS{
		"locales/en.json": {Data: []byte(`{"language.name":"English","hi":"Hello, {{.Name}}","n":{"one":"{{.Count}} message","other":"{{.Count}} messages"},"p":"Plain"}`)},
		"locales/es.json": {Data: []byte(`{"language.name":"Español","hi":"Hola, {{.Name}}","n":{"one":"{{.Count}} mensaje","many":"{{.Count}} de mensajes","other":"{{.Count}} mensajes"},"p":"Llano"}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	es, _ := c.Lookup("es")
	for _, tc := range []struct{ got, want string }{
		{es.T("p"), "Llano"},
		{es.F("hi", "Name", "ana"), "Hola, ana"},
		{es.N("n", 1), "1 mensaje"},
		{es.N("n", 3), "3 mensajes"},
		{es.N("n", 1000000), "1000000 de mensajes"},
		{c.English().N("n", 1), "1 message"},
		{es.T("nope"), "⟦nope⟧"},
		{i18n.From(i18n.With(context.Background(), es)).Tag, "es"},
		{i18n.From(context.Background()).Tag, "en"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if _, err := i18n.Load(fstest.MapFS{"locales/en.json": {Data: []byte(`{"language.name":"English","x":"{{if .A}}a{{end}}"}`)}}); err == nil {
		t.Error("a message with template logic was accepted")
	}
	if _, err := i18n.Load(fstest.MapFS{"locales/es.json": {Data: []byte(`{"language.name":"Español"}`)}}); err == nil {
		t.Error("a catalog without English was accepted")
	}
}

// A language whose rules have one form gives a plural message as "other"
// alone, and it is still plural there.
func TestOneFormLanguage(t *testing.T) {
	c, err := i18n.Load(fstest.MapFS{
		"locales/en.json": {Data: []byte(`{"language.name":"English","n":{"one":"{{.Count}} message","other":"{{.Count}} messages"}}`)},
		"locales/ja.json": {Data: []byte(`{"language.name":"日本語","n":{"other":"{{.Count}}件のメッセージ"}}`)},
	})
	if err != nil {
		t.Fatal(err)
	}
	ja, _ := c.Lookup("ja")
	if got := ja.N("n", 3); got != "3件のメッセージ" {
		t.Errorf("N = %q", got)
	}
	if ja.Forms("n") == nil {
		t.Error("the message is not plural in Japanese")
	}
}

// BenchmarkWords measures the lookups a page makes for each entry and
// room link: a plain message, one with a value, one with a count.
func BenchmarkWords(b *testing.B) {
	es, _ := i18n.Default().Lookup("es")
	b.Run("T", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = es.T("frames.try_again")
		}
	})
	b.Run("F", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = es.F("entry.joined", "Name", "ana")
		}
	})
	b.Run("N", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = es.N("unread.note", 7)
		}
	})
}
