package views_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"chat/i18n"
	"chat/views"

	"github.com/a-h/templ"
)

func inLang(t *testing.T, tag string) context.Context {
	t.Helper()
	l, ok := i18n.Default().Lookup(tag)
	if !ok {
		t.Fatalf("no language %q", tag)
	}
	return i18n.With(context.Background(), l)
}

// The dates the server writes: in English as Go's layouts write them,
// every day of a year; in Spanish with Spanish names and order.
func TestDatesInTheReadersLanguage(t *testing.T) {
	en, es := inLang(t, "en"), inLang(t, "es")
	start := time.Date(2026, 1, 1, 15, 4, 0, 0, time.UTC)
	for d := range 366 {
		day := start.AddDate(0, 0, d)
		if got, want := views.TimeLongForTest(en, day), day.Format("Mon 2 Jan 2006, 15:04 UTC"); got != want {
			t.Errorf("English time %s = %q, want %q", day, got, want)
		}
		if got, want := views.DayLongForTest(en, day), day.Format("Monday 2 January 2006"); got != want {
			t.Errorf("English day %s = %q, want %q", day, got, want)
		}
		for _, s := range []string{views.TimeLongForTest(es, day), views.DayLongForTest(es, day)} {
			if strings.Contains(s, i18n.MissingMark) {
				t.Errorf("Spanish date of %s: %q", day, s)
			}
		}
	}
	monday := time.Date(2006, 1, 2, 15, 4, 5, 0, time.FixedZone("CET", 3600))
	for _, tc := range []struct {
		got, want string
	}{
		{views.TimeLongForTest(es, monday), "lun 2 ene 2006, 14:04 UTC"},
		{views.DayLongForTest(es, monday), "lunes, 2 de enero de 2006"},
		{views.TimeLongForTest(es, time.Date(2026, 9, 13, 0, 7, 0, 0, time.UTC)), "dom 13 sept 2026, 00:07 UTC"},
		{views.DayLongForTest(es, time.Date(2026, 12, 2, 23, 0, 0, 0, time.UTC)), "miércoles, 2 de diciembre de 2026"},
		{views.DayLongForTest(es, time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)), "sábado, 1 de agosto de 2026"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

// A file's kind and size, a reaction's givers, a room's pushed fragments
// and an entry's dates, said in Spanish.
func TestMessagesWordsInSpanish(t *testing.T) {
	es, _ := i18n.Default().Lookup("es")
	en := i18n.Default().English()
	for _, tc := range []struct{ got, want string }{
		{views.FileSize(en, 1258291), "1.2 MB"},
		{views.FileSize(es, 1258291), "1,2 MB"},
		{views.FileSize(es, 20480), "20 KB"},
		{views.FileSize(es, 512), "512 B"},
		{views.FileKind(en, "application/zip"), "ZIP archive"},
		{views.FileKind(es, "application/zip"), "Archivo ZIP"},
		{views.FileKind(es, "application/octet-stream"), "Archivo"},
		{views.FileKind(es, "text/csv"), "CSV"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}

	users := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l", "m"}
	e := views.Entry{ID: 5, RoomID: 2, Kind: "post", Author: "ana", Text: "hola", Time: time.Date(2026, 3, 2, 8, 0, 0, 0, time.UTC),
		EditedAt: time.Date(2026, 3, 2, 8, 1, 0, 0, time.UTC), Boosts: []views.Boost{{Emoji: "👍", Users: users}}}
	join := views.Entry{ID: 6, RoomID: 2, Kind: "join", Author: "ana", Time: e.Time}
	var buf bytes.Buffer
	ctx := inLang(t, "es")
	for _, c := range []templ.Component{
		views.MessageList([]views.Entry{e, join}), views.Typing("ana"), views.ComposeError("¿?"), views.PresenceJoined("ana"),
	} {
		if err := c.Render(ctx, &buf); err != nil {
			t.Fatal(err)
		}
	}
	out := buf.String()
	for _, want := range []string{
		`<time datetime="2026-03-02">lunes, 2 de marzo de 2026</time>`,
		`title="lun 2 mar 2026, 08:00 UTC"`,
		`title="Editado el lun 2 mar 2026, 08:01 UTC">editado</span>`,
		`title="a, b, c, d, e, f, g, h, i, j, k, l y 1 más"`,
		`<span class="author">ana</span> se unió`,
		`ana está escribiendo…`,
		`>Inténtalo de nuevo</button>`,
		`title="Escribir a ana"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %s in\n%s", want, out)
		}
	}
}
