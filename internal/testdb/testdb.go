// Package testdb gives tests a database of their own on the engine under
// test: a SQLite file in the test's temporary folder, or, when
// CHAT_TEST_POSTGRES names a PostgreSQL database, a fresh schema in it.
// RunBoth runs a package's tests on SQLite, then again on PostgreSQL.
package testdb

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvPostgres names the variable that holds the PostgreSQL URL tests use.
const EnvPostgres = "CHAT_TEST_POSTGRES"

var postgres bool

// RunBoth runs the tests on SQLite and, when EnvPostgres is set, once more
// on PostgreSQL; it returns the exit code for os.Exit. In CI (CI set),
// where EnvPostgres is always set, its absence fails the run rather than
// leave the PostgreSQL pass out unseen.
func RunBoth(m *testing.M) int {
	postgres = false
	code := m.Run()
	if os.Getenv(EnvPostgres) == "" {
		if os.Getenv("CI") != "" {
			fmt.Printf("FAIL: %s is not set: CI runs every test on PostgreSQL too\n", EnvPostgres)
			return 1
		}
		return code
	}
	fmt.Println("== the same tests again, on PostgreSQL")
	postgres = true
	if c := m.Run(); c != 0 {
		return c
	}
	return code
}

// Postgres reports whether the tests run on PostgreSQL now.
func Postgres() bool { return postgres }

// Engine names the engine the tests run on now.
func Engine() string {
	if postgres {
		return "postgres"
	}
	return "sqlite"
}

// New returns what store.Open takes for a database of the test's own,
// dropped when the test ends: a file path, or a PostgreSQL URL.
func New(t testing.TB) string {
	t.Helper()
	if !postgres {
		return filepath.Join(t.TempDir(), "chat.db")
	}
	return NewPostgres(t)
}

// NewPostgres returns the URL of a fresh, empty schema in the database
// EnvPostgres names, dropped when the test ends; it fails the test if the
// variable is not set.
func NewPostgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Fatalf("%s is not set", EnvPostgres)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "chat_test_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("make a schema for the test: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			t.Error(err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop the test's schema: %v", err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema+",public")
	u.RawQuery = q.Encode()
	return u.String()
}

// Column runs query on the PostgreSQL database url and returns the first
// column of every row, as bytes.
func Column(url, query string) ([][]byte, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// RequirePostgres skips the test when EnvPostgres is not set, except in
// CI (CI set), where it fails: .ci/run always sets it.
func RequirePostgres(t testing.TB) {
	t.Helper()
	if os.Getenv(EnvPostgres) != "" {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not set: CI runs every test on PostgreSQL too", EnvPostgres)
	}
	t.Skipf("%s names no PostgreSQL database to test with (.ci/run sets it)", EnvPostgres)
}
