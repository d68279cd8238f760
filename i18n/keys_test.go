package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"chat/i18n"
)

// keyUse finds the keys the chat's code asks for by name: t(ctx, "key"),
// tf, tn, tc("key", …), and a language's .T("key"), .F, .N.
var keyUse = regexp.MustCompile(`(?:\b(?:t|tf|tn)\(ctx, |\btc\(|\.(?:T|F|N)\()"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// Every key the code names has a message in every language: a page that
// would render a key with no translation fails here, before any page is
// rendered.
func TestKeysTheCodeUsesExist(t *testing.T) {
	var files []string
	for _, glob := range []string{"../views/*.templ", "../views/*.go", "../handlers/*.go", "../*.go", "../*/*.go"} {
		m, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	used := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "_templ.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			used++
			for _, l := range i18n.Default().Langs() {
				if !l.Has(m[1]) {
					t.Errorf("%s asks for %q, which %s has no message for", f, m[1], l.Tag)
				}
			}
		}
	}
	if used < 10 {
		t.Errorf("found %d uses of keys: the pattern has gone stale", used)
	}
}
