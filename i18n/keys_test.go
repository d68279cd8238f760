package i18n_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"chat/i18n"
)

// keyUse finds the keys the chat's code names: any string literal that
// starts with the first part of a key the English catalog has ("rooms.",
// "validate.", …), wherever it is passed (t, tf, tn, tc, a language's T, F
// and N, a refusal's key, a table of month names). A literal that ends in
// a dot is the start of keys made at run time, and is left out.
var keyUse = regexp.MustCompile(`"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

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
	areas := map[string]bool{}
	for _, k := range i18n.Default().English().Keys() {
		areas[strings.SplitN(k, ".", 2)[0]] = true
	}
	used := 0
	seen := map[string]bool{}
	for _, f := range files {
		if seen[f] {
			continue
		}
		seen[f] = true
		if strings.HasSuffix(f, "_test.go") || strings.HasSuffix(f, "_templ.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(b), -1) {
			if !areas[strings.SplitN(m[1], ".", 2)[0]] {
				continue
			}
			used++
			for _, l := range i18n.Default().Langs() {
				if !l.Has(m[1]) {
					t.Errorf("%s asks for %q, which %s has no message for", f, m[1], l.Tag)
				}
			}
		}
	}
	if used < 400 {
		t.Errorf("found %d uses of keys: the pattern has gone stale", used)
	}
}
