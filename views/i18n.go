package views

import (
	"context"
	"fmt"
	"io"

	"chat/i18n"

	"github.com/a-h/templ"
)

// t is the reader's words for a key (the language rides in ctx).
func t(ctx context.Context, id string) string { return i18n.From(ctx).T(id) }

// tf is the reader's words for a key with values: tf(ctx, id, "Name", "alice").
func tf(ctx context.Context, id string, pairs ...any) string {
	return i18n.From(ctx).F(id, pairs...)
}

// tn is the reader's words for a key in the plural form the count asks
// for; the count is {{.Count}}.
func tn(ctx context.Context, id string, count int, pairs ...any) string {
	return i18n.From(ctx).N(id, count, pairs...)
}

// tc renders a message whose values are markup: the message's own words
// escaped, each value (a templ.Component, or a string, escaped) where the
// reader's language puts it.
func tc(id string, pairs ...any) templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		for _, p := range i18n.From(ctx).Parts(id) {
			if p.Name == "" {
				if _, err := io.WriteString(w, templ.EscapeString(p.Text)); err != nil {
					return err
				}
				continue
			}
			v := valueOf(pairs, p.Name)
			switch v := v.(type) {
			case templ.Component:
				if err := v.Render(ctx, w); err != nil {
					return err
				}
			case string:
				if _, err := io.WriteString(w, templ.EscapeString(v)); err != nil {
					return err
				}
			default:
				if _, err := io.WriteString(w, templ.EscapeString(fmt.Sprint(v))); err != nil {
					return err
				}
			}
		}
		return nil
	})
}

func valueOf(pairs []any, name string) any {
	for i := 0; i+1 < len(pairs); i += 2 {
		if k, _ := pairs[i].(string); k == name {
			return pairs[i+1]
		}
	}
	return i18n.MissingMark + "." + name + "⟧"
}

// htmlLang is the reader's language tag, for <html lang>.
func htmlLang(ctx context.Context) string { return i18n.From(ctx).Tag }

// ScriptWordsID is the id of the page's JSON block of the script's words.
const ScriptWordsID = "chat-words"

// scriptWords gives the page's script its words in the reader's language,
// as a JSON block that static/app.js reads by key (i18n.Lang.Script; JSON
// escapes '<', so the block cannot end early).
func scriptWords() templ.Component {
	return templ.ComponentFunc(func(ctx context.Context, w io.Writer) error {
		if _, err := io.WriteString(w, `<script type="application/json" id="`+ScriptWordsID+`">`); err != nil {
			return err
		}
		if _, err := w.Write(i18n.From(ctx).Script()); err != nil {
			return err
		}
		_, err := io.WriteString(w, `</script>`)
		return err
	})
}
