// Package i18n holds the chat's words in every language it speaks: one
// catalog file per language under locales/ (adding a language is adding a
// file), read with go-i18n, which knows each language's plural rules
// (CLDR), and chosen for a reader with golang.org/x/text/language.
//
// Words are looked up by key: Lang.T for a plain string, Lang.F for one
// with named values ({{.Name}}), Lang.N for one that depends on a count.
// The chosen Lang travels in a context (With, From), so that templ
// components, which all receive one, find it there.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
)

//go:embed locales/*.json
var files embed.FS

// Catalog is every language's words. It is read once and never changes.
type Catalog struct {
	langs   []*Lang
	byTag   map[string]*Lang
	matcher language.Matcher
}

// Lang is one language of a catalog.
type Lang struct {
	// Index is the language's place in Catalog.Langs, from 0 (English):
	// a small number that things rendered once per language are kept by.
	Index int
	// Tag is the language's BCP 47 tag as the chat writes it: "en", "es".
	Tag string
	// Name is the language's name in itself ("English", "Español").
	Name string

	plain  map[string]string
	script []byte
	filled map[string][]piece
	plural map[string]*goi18n.Message
	// forms are the plural messages split where their values go, by
	// form name; formOf the language's form of each count below
	// formsKept, asked of go-i18n once at load (N asks it for others).
	forms  map[string]map[string][]piece
	formOf [formsKept]string
	loc    *goi18n.Localizer
}

// piece is a part of a message with named values: literal text, or (when
// name is set) the value of that name.
type piece struct {
	text, name string
}

// English is the language a reader gets when nothing says otherwise, and
// the language every other one is checked against.
const English = "en"

// nameKey is each catalog's name for its own language.
const nameKey = "language.name"

var (
	defaultOnce sync.Once
	defaultCat  *Catalog
)

// Default is the catalog of the files built into the chat, read on first
// use: immutable data, shared like a table.
func Default() *Catalog {
	defaultOnce.Do(func() {
		c, err := Load(files)
		if err != nil {
			panic(err)
		}
		defaultCat = c
	})
	return defaultCat
}

// Load reads every locales/<tag>.json of fsys. English must be among them.
// A message with values may use only {{.Name}}; a key that English gives
// plural forms is plural in every language, even one whose rules have a
// single form ("other"). That each language has all of English's keys is
// checked by the tests (TestCatalogsAgree), so that a catalog missing a
// word still serves the rest.
func Load(fsys fs.FS) (*Catalog, error) {
	names, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, err
	}
	// The files are read with one bundle, and only the plural messages
	// are kept in another, for N: a bundle holds every message it read
	// parsed as a template, which the garbage collector would scan on
	// every cycle for nothing.
	bundle := goi18n.NewBundle(language.English)
	plurals := goi18n.NewBundle(language.English)
	c := &Catalog{byTag: make(map[string]*Lang)}
	var tags []language.Tag
	// A language's words may be split over several files (area.es.json):
	// they are one catalog, and a key may be in only one of them.
	byTag := map[string][]*goi18n.Message{}
	var order []string
	for _, name := range names {
		buf, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		mf, err := bundle.ParseMessageFileBytes(buf, path.Base(name))
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", name, err)
		}
		base, _ := mf.Tag.Base()
		tag := base.String()
		if _, ok := byTag[tag]; !ok {
			order = append(order, tag)
		}
		byTag[tag] = append(byTag[tag], mf.Messages...)
	}
	plural := map[string]bool{}
	for _, m := range byTag[English] {
		plural[m.ID] = hasForms(m)
	}
	for _, tag := range order {
		l, err := newLang(plurals, tag, byTag[tag], plural)
		if err != nil {
			return nil, fmt.Errorf("i18n: %s: %w", tag, err)
		}
		c.langs = append(c.langs, l)
	}
	sort.SliceStable(c.langs, func(i, j int) bool {
		if (c.langs[i].Tag == English) != (c.langs[j].Tag == English) {
			return c.langs[i].Tag == English
		}
		return c.langs[i].Tag < c.langs[j].Tag
	})
	if len(c.langs) == 0 || c.langs[0].Tag != English {
		return nil, fmt.Errorf("i18n: no English catalog")
	}
	for i, l := range c.langs {
		l.Index = i
		c.byTag[l.Tag] = l
		tags = append(tags, language.Make(l.Tag))
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// hasForms reports whether a message has plural forms besides "other".
func hasForms(m *goi18n.Message) bool {
	return m.One != "" || m.Few != "" || m.Many != "" || m.Two != "" || m.Zero != ""
}

// formsKept is how many counts (from 0) a language knows the plural form
// of without asking go-i18n.
const formsKept = 256

// formKey is the message each language's plural bundle holds to tell a
// count's form: its forms say their own names.
const formKey = "\x00form"

func newLang(bundle *goi18n.Bundle, tag string, messages []*goi18n.Message, plural map[string]bool) (*Lang, error) {
	l := &Lang{
		Tag:    tag,
		plain:  make(map[string]string),
		filled: make(map[string][]piece),
		plural: make(map[string]*goi18n.Message),
		forms:  make(map[string]map[string][]piece),
		loc:    goi18n.NewLocalizer(bundle, tag),
	}
	names := &goi18n.Message{ID: formKey, Zero: "zero", One: "one", Two: "two", Few: "few", Many: "many", Other: "other"}
	if err := bundle.AddMessages(language.Make(tag), names); err != nil {
		return nil, err
	}
	for n := range l.formOf {
		l.formOf[n] = l.askForm(n)
	}
	seen := map[string]bool{}
	for _, m := range messages {
		if seen[m.ID] {
			return nil, fmt.Errorf("%q twice", m.ID)
		}
		seen[m.ID] = true
		if hasForms(m) || plural[m.ID] {
			l.plural[m.ID] = m
			l.forms[m.ID] = map[string][]piece{}
			for name, text := range formsOf(m) {
				pieces, err := parsePieces(text)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", m.ID, err)
				}
				l.forms[m.ID][name] = pieces
			}
			continue
		}
		if !strings.Contains(m.Other, "{{") {
			l.plain[m.ID] = m.Other
			continue
		}
		pieces, err := parsePieces(m.Other)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", m.ID, err)
		}
		l.filled[m.ID] = pieces
	}
	script, err := l.scriptWords()
	if err != nil {
		return nil, err
	}
	l.script = script
	l.Name = l.plain[nameKey]
	if l.Name == "" {
		return nil, fmt.Errorf("no %q", nameKey)
	}
	return l, nil
}

// parsePieces splits a message at its {{.Name}} values.
func parsePieces(s string) ([]piece, error) {
	var out []piece
	for s != "" {
		i := strings.Index(s, "{{")
		if i < 0 {
			out = append(out, piece{text: s})
			break
		}
		if i > 0 {
			out = append(out, piece{text: s[:i]})
		}
		j := strings.Index(s[i:], "}}")
		if j < 0 {
			return nil, fmt.Errorf("unclosed {{ in %q", s)
		}
		name := strings.TrimSpace(s[i+2 : i+j])
		if !strings.HasPrefix(name, ".") || !isIdent(name[1:]) {
			return nil, fmt.Errorf("only {{.Name}} may stand in a message: %q", s)
		}
		out = append(out, piece{name: name[1:]})
		s = s[i+j+2:]
	}
	return out, nil
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || i > 0 && '0' <= r && r <= '9') {
			return false
		}
	}
	return true
}

// Langs is every language, English first.
func (c *Catalog) Langs() []*Lang { return c.langs }

// English is the catalog's English.
func (c *Catalog) English() *Lang { return c.langs[0] }

// Lookup is the language of a tag the catalog has ("es"), or false.
func (c *Catalog) Lookup(tag string) (*Lang, bool) {
	l, ok := c.byTag[tag]
	return l, ok
}

// Negotiate picks a reader's language: their own choice, when it is one
// the catalog has; else the best match for an Accept-Language header;
// else English.
func (c *Catalog) Negotiate(choice, acceptLanguage string) *Lang {
	if l, ok := c.byTag[choice]; ok {
		return l
	}
	if acceptLanguage == "" {
		return c.English()
	}
	tags, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(tags) == 0 {
		return c.English()
	}
	_, i, conf := c.matcher.Match(tags...)
	if conf == language.No {
		return c.English()
	}
	return c.langs[i]
}

// missing is what a key with no message in the language says: visible,
// and what the tests look for.
func missing(id string) string { return "⟦" + id + "⟧" }

// MissingMark starts what a key without a message renders as.
const MissingMark = "⟦"

// T is the plain message of a key.
func (l *Lang) T(id string) string {
	if s, ok := l.plain[id]; ok {
		return s
	}
	return missing(id)
}

// F is the message of a key with its named values given as pairs: F(id,
// "Name", "alice", "Count", 3). Values are strings or integers.
func (l *Lang) F(id string, pairs ...any) string {
	pieces, ok := l.filled[id]
	if !ok {
		if s, ok := l.plain[id]; ok {
			return s
		}
		return missing(id)
	}
	var b strings.Builder
	for _, p := range pieces {
		if p.name == "" {
			b.WriteString(p.text)
			continue
		}
		b.WriteString(lookupPair(pairs, p.name))
	}
	return b.String()
}

// AppendF appends the message of a key with values to dst, asking value
// to append each value by its name: F without a string made for each
// value, for words written on every message of a page.
func (l *Lang) AppendF(dst []byte, id string, value func(dst []byte, name string) []byte) []byte {
	pieces, ok := l.filled[id]
	if !ok {
		if s, ok := l.plain[id]; ok {
			return append(dst, s...)
		}
		return append(dst, missing(id)...)
	}
	for _, p := range pieces {
		if p.name == "" {
			dst = append(dst, p.text...)
		} else {
			dst = value(dst, p.name)
		}
	}
	return dst
}

func lookupPair(pairs []any, name string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if k, _ := pairs[i].(string); k == name {
			return format(pairs[i+1])
		}
	}
	return missing("." + name)
}

func format(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case fmt.Stringer:
		return v.String()
	default:
		return fmt.Sprint(v)
	}
}

// N is the message of a key in the plural form the count asks for in the
// language ("1 mensaje nuevo", "3 mensajes nuevos"); the count is
// {{.Count}} in it, and other values are given as in F.
func (l *Lang) N(id string, count int, pairs ...any) string {
	forms, ok := l.forms[id]
	if !ok {
		return missing(id)
	}
	form := "other"
	if count >= 0 && count < formsKept {
		form = l.formOf[count]
	} else {
		form = l.askForm(count)
	}
	pieces, ok := forms[form]
	if !ok {
		pieces = forms["other"]
	}
	var b strings.Builder
	for _, p := range pieces {
		switch p.name {
		case "":
			b.WriteString(p.text)
		case "Count":
			b.WriteString(strconv.Itoa(count))
		default:
			b.WriteString(lookupPair(pairs, p.name))
		}
	}
	return b.String()
}

// askForm is the name of the plural form of a count in the language, by
// go-i18n's rules (CLDR).
func (l *Lang) askForm(count int) string {
	form, err := l.loc.Localize(&goi18n.LocalizeConfig{MessageID: formKey, PluralCount: count})
	if err != nil || form == "" {
		return "other"
	}
	return form
}

// formsOf is a message's forms by name, those it has.
func formsOf(m *goi18n.Message) map[string]string {
	out := map[string]string{}
	for name, s := range map[string]string{"zero": m.Zero, "one": m.One, "two": m.Two, "few": m.Few, "many": m.Many, "other": m.Other} {
		if s != "" {
			out[name] = s
		}
	}
	return out
}

// Forms is a plural message's forms by CLDR name ("one", "other", …), for
// the page's script, which picks one with Intl.PluralRules; nil when the
// key has none.
func (l *Lang) Forms(id string) map[string]string {
	m, ok := l.plural[id]
	if !ok {
		return nil
	}
	return formsOf(m)
}

// Keys is every key of the language, sorted.
func (l *Lang) Keys() []string {
	var keys []string
	for k := range l.plain {
		keys = append(keys, k)
	}
	for k := range l.filled {
		keys = append(keys, k)
	}
	for k := range l.plural {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Has reports whether the language has a message for the key.
func (l *Lang) Has(id string) bool {
	_, a := l.plain[id]
	_, b := l.filled[id]
	_, c := l.plural[id]
	return a || b || c
}

// Plain is every message of the language that has no values, by key: what
// a test compares a page's words with.
func (l *Lang) Plain() map[string]string { return l.plain }

// Part is a piece of a message with values: literal text, or (Name set)
// where a value goes.
type Part struct{ Text, Name string }

// Parts is a message with values split where they go, for a renderer
// whose values are markup (a bold name, a link); a plain message is one
// part, and a key with no message its missing mark.
func (l *Lang) Parts(id string) []Part {
	if ps, ok := l.filled[id]; ok {
		out := make([]Part, len(ps))
		for i, p := range ps {
			out[i] = Part{Text: p.text, Name: p.name}
		}
		return out
	}
	if s, ok := l.plain[id]; ok {
		return []Part{{Text: s}}
	}
	return []Part{{Text: missing(id)}}
}

// ScriptPrefix starts the keys of the words the page's script says.
const ScriptPrefix = "script."

// Script is the words of the page's script (keys under ScriptPrefix,
// without it) as a JSON object: a plain message as a string, one with
// plural forms as an object of them. Values stand in them as {{.Name}}.
func (l *Lang) Script() []byte { return l.script }

func (l *Lang) scriptWords() ([]byte, error) {
	words := map[string]any{}
	for _, k := range l.Keys() {
		if !strings.HasPrefix(k, ScriptPrefix) {
			continue
		}
		name := strings.TrimPrefix(k, ScriptPrefix)
		if forms := l.Forms(k); forms != nil {
			words[name] = forms
			continue
		}
		var b strings.Builder
		for _, p := range l.Parts(k) {
			if p.Name != "" {
				b.WriteString("{{." + p.Name + "}}")
			} else {
				b.WriteString(p.Text)
			}
		}
		words[name] = b.String()
	}
	return json.Marshal(words)
}

type ctxKey struct{}

// With is ctx carrying the reader's language.
func With(ctx context.Context, l *Lang) context.Context {
	if l == nil {
		return ctx
	}
	return context.WithValue(ctx, ctxKey{}, l)
}

// From is the language ctx carries, or English.
func From(ctx context.Context) *Lang {
	if ctx != nil {
		if l, ok := ctx.Value(ctxKey{}).(*Lang); ok {
			return l
		}
	}
	return Default().English()
}
