package store_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"chat/internal/testdb"
	"chat/store"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver, to read the schema
)

// schemaDiffers are the tables one engine has and the other has not, or
// has in another shape, each for a reason.
var schemaDiffers = map[string]string{
	"post_search":        "the search index: FTS4 on SQLite, an array of trigram hashes with a GIN index on PostgreSQL",
	"post_search_source": "SQLite's view that FTS4 rebuilds the index from",
	"rate_logs":          "rate limits shared by instances, on PostgreSQL alone (SQLite serves one, which keeps them in memory)",
}

// TestSchemasAgree migrates a database on each engine and compares what
// the chat relies on: the tables, their columns (kind of value and
// whether NULL is allowed), primary keys, unique and other indexes, and
// foreign keys with what a delete does.
func TestSchemasAgree(t *testing.T) {
	if testdb.Postgres() {
		t.Skip("compared once, in the SQLite pass")
	}
	testdb.RequirePostgres(t)
	ctx := context.Background()
	lite := filepath.Join(t.TempDir(), "chat.db")
	pgURL := testdb.NewPostgres(t)
	for _, path := range []string{lite, pgURL} {
		s, err := store.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	got := map[string][]string{}
	for engine, read := range map[string]func() ([]string, error){
		"sqlite":   func() ([]string, error) { return sqliteSchema(lite) },
		"postgres": func() ([]string, error) { return postgresSchema(pgURL) },
	} {
		lines, err := read()
		if err != nil {
			t.Fatalf("read the %s schema: %v", engine, err)
		}
		if len(lines) < 10 {
			t.Fatalf("%s schema has %d lines: %q", engine, len(lines), lines)
		}
		got[engine] = lines
	}
	for _, line := range got["sqlite"] {
		if !slices.Contains(got["postgres"], line) {
			t.Errorf("SQLite has, PostgreSQL has not: %s", line)
		}
	}
	for _, line := range got["postgres"] {
		if !slices.Contains(got["sqlite"], line) {
			t.Errorf("PostgreSQL has, SQLite has not: %s", line)
		}
	}
}

// kinds maps each engine's column types to the kind of value the chat
// keeps in them.
var kinds = map[string]string{
	"integer": "integer", "bigint": "integer", "text": "text", "citext": "text", "blob": "bytes", "bytea": "bytes",
}

func kindOf(typ string) string {
	if k, ok := kinds[strings.ToLower(typ)]; ok {
		return k
	}
	return "?" + typ
}

func nullable(null bool) string {
	if null {
		return "NULL"
	}
	return "NOT NULL"
}

func sqliteSchema(path string) ([]string, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := column(db, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tables {
		if _, ok := schemaDiffers[t]; ok || strings.HasPrefix(t, "post_search_") {
			continue // the FTS4 table and its shadow tables
		}
		out = append(out, "table "+t)
		rows, err := db.Query(`SELECT name, type, "notnull", pk FROM pragma_table_info(?) ORDER BY cid`, t)
		if err != nil {
			return nil, err
		}
		var pk []string
		pkAt := map[int]string{}
		for rows.Next() {
			var name, typ string
			var notNull bool
			var at int
			if err := rows.Scan(&name, &typ, &notNull, &at); err != nil {
				rows.Close()
				return nil, err
			}
			if at > 0 {
				pkAt[at] = name
				notNull = true // a rowid, or a key of a table WITHOUT ROWID
			}
			out = append(out, fmt.Sprintf("column %s.%s %s %s", t, name, kindOf(typ), nullable(!notNull)))
		}
		rows.Close()
		for i := 1; i <= len(pkAt); i++ {
			pk = append(pk, pkAt[i])
		}
		out = append(out, fmt.Sprintf("primary key %s(%s)", t, strings.Join(pk, ", ")))
		indexes, err := rowsOf(db, `SELECT name, "unique", partial FROM pragma_index_list(?) WHERE origin != 'pk'`, t)
		if err != nil {
			return nil, err
		}
		for _, ix := range indexes {
			cols, err := column(db, `SELECT name FROM pragma_index_info(?) ORDER BY seqno`, ix[0])
			if err != nil {
				return nil, err
			}
			out = append(out, indexLine(t, cols, ix[1] == "1", ix[2] == "1"))
		}
		fks, err := rowsOf(db, `SELECT "from", "table", "to", on_delete FROM pragma_foreign_key_list(?)`, t)
		if err != nil {
			return nil, err
		}
		for _, fk := range fks {
			out = append(out, fmt.Sprintf("foreign key %s.%s → %s(%s) ON DELETE %s", t, fk[0], fk[1], fk[2], strings.ToUpper(fk[3])))
		}
	}
	slices.Sort(out)
	return out, nil
}

func postgresSchema(url string) ([]string, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tables, err := column(db, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, t := range tables {
		if _, ok := schemaDiffers[t]; ok {
			continue
		}
		out = append(out, "table "+t)
		cols, err := rowsOf(db, `SELECT column_name, udt_name, is_nullable FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, t)
		if err != nil {
			return nil, err
		}
		for _, c := range cols {
			typ := map[string]string{"int8": "bigint", "int4": "integer"}[c[1]]
			if typ == "" {
				typ = c[1]
			}
			out = append(out, fmt.Sprintf("column %s.%s %s %s", t, c[0], kindOf(typ), nullable(c[2] == "YES")))
		}
		indexes, err := rowsOf(db, `SELECT i.relname, ix.indisunique, ix.indpred IS NOT NULL, ix.indisprimary,
				(SELECT string_agg(a.attname, ', ' ORDER BY k.n) FROM unnest(ix.indkey) WITH ORDINALITY k(attnum, n)
					JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
			FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid JOIN pg_class c ON c.oid = ix.indrelid
			WHERE c.relname = $1 AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`, t)
		if err != nil {
			return nil, err
		}
		for _, ix := range indexes {
			if ix[3] == "true" {
				out = append(out, fmt.Sprintf("primary key %s(%s)", t, ix[4]))
				continue
			}
			out = append(out, indexLine(t, strings.Split(ix[4], ", "), ix[1] == "true", ix[2] == "true"))
		}
		fks, err := rowsOf(db, `SELECT a.attname, r.relname, ra.attname,
				CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE con.confdeltype::text END
			FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid JOIN pg_class r ON r.oid = con.confrelid
			JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
			JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
			WHERE con.contype = 'f' AND c.relname = $1 AND c.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())`, t)
		if err != nil {
			return nil, err
		}
		for _, fk := range fks {
			out = append(out, fmt.Sprintf("foreign key %s.%s → %s(%s) ON DELETE %s", t, fk[0], fk[1], fk[2], fk[3]))
		}
	}
	slices.Sort(out)
	return out, nil
}

func indexLine(table string, cols []string, unique, partial bool) string {
	line := fmt.Sprintf("index %s(%s)", table, strings.Join(cols, ", "))
	if unique {
		line = "unique " + line
	}
	if partial {
		line += " partial"
	}
	return line
}

func column(db *sql.DB, query string, args ...any) ([]string, error) {
	rows, err := rowsOf(db, query, args...)
	var out []string
	for _, r := range rows {
		out = append(out, r[0])
	}
	return out, err
}

// rowsOf runs a query and returns its rows as text.
func rowsOf(db *sql.DB, query string, args ...any) ([][]string, error) {
	rows, err := db.Query(query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return nil, err
	}
	var out [][]string
	for rows.Next() {
		vals := make([]sql.NullString, len(cols))
		dest := make([]any, len(cols))
		for i := range vals {
			dest[i] = &vals[i]
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		row := make([]string, len(cols))
		for i, v := range vals {
			row[i] = v.String
		}
		out = append(out, row)
	}
	return out, rows.Err()
}
