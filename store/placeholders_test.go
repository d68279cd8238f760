package store

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

func TestToDollars(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"Bare", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = $1 AND c = $2"},
		{"Numbered", "WHERE room_id = ?1 AND user_id = ?2 OR room_id = ?1", "WHERE room_id = $1 AND user_id = $2 OR room_id = $1"},
		{"BareAfterNumbered", "VALUES (?2, ?, ?1)", "VALUES ($2, $3, $1)"},
		{"StringWithQuestionMark", "WHERE body = 'what?' AND id = ?", "WHERE body = 'what?' AND id = $1"},
		{"DoubledQuote", "WHERE body = 'it''s ?' AND id = ?", "WHERE body = 'it''s ?' AND id = $1"},
		{"CommentWithQuote", "WHERE a = ? -- it's the user's?\n AND b = ?", "WHERE a = $1 -- it's the user's?\n AND b = $2"},
		{"QuotedName", `WHERE "we?rd" = ?`, `WHERE "we?rd" = $1`},
		{"Cast", "SELECT ?1::bigint, CAST(?2 AS BIGINT)", "SELECT $1::bigint, CAST($2 AS BIGINT)"},
		{"Limit", "ORDER BY id DESC LIMIT ? OFFSET ?", "ORDER BY id DESC LIMIT $1 OFFSET $2"},
		{"Array", "WHERE id = ANY(?) AND tokens @> ?", "WHERE id = ANY($1) AND tokens @> $2"},
		{"Like", `WHERE name LIKE ? ESCAPE '\'`, `WHERE name LIKE $1 ESCAPE '\'`},
		{"NoPlaceholder", "SELECT 1", "SELECT 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := toDollars(c.in)
			if err != nil || got != c.want {
				t.Errorf("toDollars(%q) = %q, %v; want %q", c.in, got, err, c.want)
			}
		})
	}
	for _, c := range []struct{ name, in string }{
		{"JSONBHasKey", "WHERE data ? 'key'"},
		{"JSONBHasKeyParam", "WHERE data ? ?"},
		{"JSONBAnyKey", "WHERE data ?| ARRAY['a', 'b']"},
		{"JSONBAllKeys", "WHERE data ?& ?"},
		{"JSONBAfterBracket", "WHERE (data) ? 'key'"},
		{"JSONBAfterLiteral", "WHERE data->'a' ? 'b'"},
		{"JSONPath", "WHERE data @? '$.a'"},
		{"EString", `WHERE body = E'it\'s ?' AND id = ?`},
		{"DollarNumber", "WHERE id = $1"},
		{"DollarQuote", "SELECT $$ ? $$"},
		{"BlockComment", "WHERE id = ? /* the user's? */"},
		{"Unterminated", "WHERE body = 'what? AND id = ?"},
		{"ParameterZero", "WHERE id = ?0"},
	} {
		t.Run("Refuses"+c.name, func(t *testing.T) {
			got, err := toDollars(c.in)
			if !errors.Is(err, errPlaceholders) {
				t.Errorf("toDollars(%q) = %q, %v; want errPlaceholders", c.in, got, err)
			}
		})
	}
}

// TestToPlusParams: SQLite's read pool gets each parameter as +?, but the
// patterns of LIKE, GLOB and MATCH, and what toDollars refuses, as
// written.
func TestToPlusParams(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"Bare", "SELECT a FROM t WHERE b = ? AND c = ?", "SELECT a FROM t WHERE b = +? AND c = +?"},
		{"Numbered", "WHERE room_id = ?1 AND user_id = ?2 OR room_id = ?1", "WHERE room_id = +?1 AND user_id = +?2 OR room_id = +?1"},
		{"Limit", "ORDER BY id DESC LIMIT ? OFFSET ?", "ORDER BY id DESC LIMIT +? OFFSET +?"},
		{"In", "WHERE id IN (?, ?,?)", "WHERE id IN (+?, +?,+?)"},
		{"StringWithQuestionMark", "WHERE body = 'what?' AND id = ?", "WHERE body = 'what?' AND id = +?"},
		{"Like", `WHERE name LIKE ? ESCAPE '\' AND id = ?`, `WHERE name LIKE ? ESCAPE '\' AND id = +?`},
		{"LikeNumbered", "WHERE (x.mentions || ' ') like ?5", "WHERE (x.mentions || ' ') like ?5"},
		{"Match", "WHERE post_search MATCH ? AND docid < ?", "WHERE post_search MATCH ? AND docid < +?"},
		{"Glob", "WHERE name GLOB ?", "WHERE name GLOB ?"},
		{"LikeThenBracket", "WHERE name LIKE (?)", "WHERE name LIKE (+?)"},
		{"Refused", "WHERE id = ? /* the user's? */", "WHERE id = ? /* the user's? */"},
		{"NoPlaceholder", "SELECT 1", "SELECT 1"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := toPlusParams(c.in); got != c.want {
				t.Errorf("toPlusParams(%q) = %q; want %q", c.in, got, c.want)
			}
		})
	}
}

// TestStoreQueriesRewrite: every string of the store's code that holds a
// placeholder is one the rewrite takes, so that no query is refused on
// PostgreSQL alone, where a pass without a server would not see it.
func TestStoreQueriesRewrite(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	n := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || f == "placeholders.go" {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(af, func(node ast.Node) bool {
			lit, ok := node.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !strings.Contains(s, "?") {
				return true
			}
			n++
			if _, err := toDollars(s); err != nil {
				t.Errorf("%s: %v", fset.Position(lit.Pos()), err)
			}
			return true
		})
	}
	if n < 50 {
		t.Fatalf("found %d queries with placeholders: the scan is broken", n)
	}
}

// TestRewriteRefused: a query the rewrite refuses is an error
// where it is used, on PostgreSQL; SQLite runs it as it is.
func TestRewriteRefused(t *testing.T) {
	var q pgFlag = true
	if _, err := q.q("SELECT data ? 'key' FROM t"); !errors.Is(err, errPlaceholders) {
		t.Errorf("refused query on PostgreSQL: %v", err)
	}
	r := row{err: errPlaceholders}
	if err := r.Scan(new(int)); !errors.Is(err, errPlaceholders) {
		t.Errorf("row of a refused query scans as %v", err)
	}
	if got, err := pgFlag(false).q("SELECT data ? 'key'"); err != nil || got != "SELECT data ? 'key'" {
		t.Errorf("SQLite query changed: %q, %v", got, err)
	}
}

// FuzzToDollars builds a query out of conditions whose rewrite it knows
// (or knows must be refused) and checks the rewrite against that.
func FuzzToDollars(f *testing.F) {
	for _, seed := range []string{"\x00\x01\x02", "\x05\x02ab'?", "\x06", "\x08it\\'s", "\x0a", "\x01\x07\x00\x04", "\x03\x0b\x0c"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g := &queryGen{data: data}
		in, want, refused := g.query()
		got, err := toDollars(in)
		switch {
		case refused && !errors.Is(err, errPlaceholders):
			t.Fatalf("toDollars(%q) = %q, %v; want it refused", in, got, err)
		case !refused && err != nil:
			t.Fatalf("toDollars(%q) refused: %v; want %q", in, err, want)
		case !refused && got != want:
			t.Fatalf("toDollars(%q) = %q; want %q", in, got, want)
		}
	})
}

// queryGen makes a query, and what it must become, from fuzz bytes.
type queryGen struct {
	data []byte
	next int // the highest parameter number so far
}

func (g *queryGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

// text is up to 8 characters of the alphabet, with quote doubled.
func (g *queryGen) text(quote byte) string {
	const alphabet = "a?'\"-\\ \n;$/*:&|1"
	var b strings.Builder
	for n := int(g.byte() % 8); n > 0; n-- {
		c := alphabet[int(g.byte())%len(alphabet)]
		if c == quote {
			b.WriteByte(c)
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (g *queryGen) param() (string, string) {
	g.next++
	return "?", "$" + strconv.Itoa(g.next)
}

func (g *queryGen) numbered() (string, string) {
	n := 1 + int(g.byte()%12)
	g.next = max(g.next, n)
	return "?" + strconv.Itoa(n), "$" + strconv.Itoa(n)
}

// cond is one condition: as written, as rewritten, and whether the
// rewrite must refuse it.
func (g *queryGen) cond() (in, want string, refused bool) {
	switch g.byte() % 16 {
	case 0:
		p, d := g.param()
		return "c = " + p, "c = " + d, false
	case 1:
		p, d := g.numbered()
		return "c = " + p, "c = " + d, false
	case 2:
		lit := "'" + g.text('\'') + "'"
		return "c = " + lit, "c = " + lit, false
	case 3:
		name := `"` + g.text('"') + `"`
		p, d := g.param()
		return name + " = " + p, name + " = " + d, false
	case 4:
		p1, d1 := g.param()
		lit := "'" + g.text('\'') + "'"
		p2, d2 := g.numbered()
		return "c IN (" + p1 + ", " + lit + ", " + p2 + ")", "c IN (" + d1 + ", " + lit + ", " + d2 + ")", false
	case 5:
		comment := "-- " + strings.ReplaceAll(g.text(0), "\n", " ") + "\n"
		p, d := g.param()
		return comment + "c = " + p, comment + "c = " + d, false
	case 6:
		return "c ? '" + g.text('\'') + "'", "", true
	case 7:
		return "c ?| ARRAY['a']", "", true
	case 8:
		return "c = E'" + strings.ReplaceAll(g.text('\''), `\`, `\\`) + `\''`, "", true
	case 9:
		return "c = $" + strconv.Itoa(int(g.byte()%9)), "", true
	case 10:
		return "/* " + g.text(0) + " */ c = 1", "", true
	case 11:
		p, d := g.param()
		return "c @> " + p + "::integer[]", "c @> " + d + "::integer[]", false
	case 12:
		p, d := g.numbered()
		return "CAST(" + p + " AS BIGINT) = c", "CAST(" + d + " AS BIGINT) = c", false
	case 13:
		return "c ?& ?", "", true
	case 14:
		return "(c) ? 'k'", "", true
	default:
		p, d := g.param()
		return "c LIKE " + p + ` ESCAPE '\'`, "c LIKE " + d + ` ESCAPE '\'`, false
	}
}

func (g *queryGen) query() (in, want string, refused bool) {
	in, want = "SELECT c FROM t WHERE ", "SELECT c FROM t WHERE "
	for i := 0; len(g.data) > 0 && i < 12; i++ {
		if i > 0 {
			in, want = in+" AND ", want+" AND "
		}
		ci, cw, cr := g.cond()
		in, want, refused = in+ci, want+cw, refused || cr
	}
	if g.next > 0 {
		p, d := g.param()
		in, want = in+" LIMIT "+p, want+" LIMIT "+d
	}
	return in, want, refused
}

// FuzzToDollarsAnyText rewrites any text: it is refused, or it comes out
// the same but for its placeholders, each ? become one $.
func FuzzToDollarsAnyText(f *testing.F) {
	for _, seed := range []string{
		"SELECT ? -- what's?\n, ?", "WHERE a = 'what?' AND b = ?2", "WHERE d ? 'k'", `E'\'?'`, "?1::int, ?", `"a?" = ?`,
	} {
		f.Add(seed)
	}
	marks := regexp.MustCompile(`[?$][0-9]*`)
	f.Fuzz(func(t *testing.T, in string) {
		out, err := toDollars(in)
		if err != nil {
			if !errors.Is(err, errPlaceholders) {
				t.Fatalf("toDollars(%q): %v is not errPlaceholders", in, err)
			}
			return
		}
		if a, b := marks.ReplaceAllString(in, ""), marks.ReplaceAllString(out, ""); a != b {
			t.Fatalf("toDollars(%q) = %q: changed more than its placeholders", in, out)
		}
		placeholders := strings.Count(in, "?") - strings.Count(out, "?")
		if dollars := strings.Count(out, "$") - strings.Count(in, "$"); placeholders < 0 || dollars != placeholders {
			t.Fatalf("toDollars(%q) = %q: %d ? gone, %d $ new", in, out, placeholders, dollars)
		}
	})
}
