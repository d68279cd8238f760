package views_test

import (
	"testing"

	"github.com/PuerkitoBio/goquery"

	"chat/views"
)

// The compose form, live and plain, posts files as multipart/form-data
// without scripts: a file field named "file" taking several, named for a
// screen reader; the text is optional (a post of files alone), and the
// form carries the limits the page checks before sending.
func TestComposeTakesFiles(t *testing.T) {
	live, _ := render(t, views.Compose(views.ComposeForm{RoomID: 7}))
	reset, _ := render(t, views.ComposeReset(7, 0))
	plain, _ := render(t, views.ComposeFormPlainForTest(views.ComposeForm{RoomID: 7}))
	for name, doc := range map[string]*goquery.Document{"live": live, "reset": reset, "plain": plain} {
		form := doc.Find("form#compose")
		if form.AttrOr("enctype", "") != "multipart/form-data" || form.AttrOr("method", "") != "post" || form.AttrOr("action", "") != "/rooms/7/messages" {
			t.Errorf("%s: form enctype=%q method=%q action=%q", name, form.AttrOr("enctype", ""), form.AttrOr("method", ""), form.AttrOr("action", ""))
		}
		field := form.Find(`input[type=file]#` + views.ComposeFileID)
		if field.Length() != 1 || field.AttrOr("name", "") != "file" || field.AttrOr("multiple", "-") == "-" {
			t.Errorf("%s: no file field named file taking several", name)
		}
		if form.Find(`label[for="`+views.ComposeFileID+`"]`).Text() != "Attach files" {
			t.Errorf("%s: the file field has no label", name)
		}
		if _, required := form.Find("textarea[name=text]").Attr("required"); required {
			t.Errorf("%s: the text is required: a post of files alone could not be sent", name)
		}
	}
	for name, doc := range map[string]*goquery.Document{"live": live, "reset": reset} {
		form := doc.Find("form#compose")
		if got := form.AttrOr("data-upload-limit", ""); got != "10485760" {
			t.Errorf("%s: data-upload-limit=%q, want the default 10 MB", name, got)
		}
		if got := form.AttrOr("data-max-files", ""); got != "10" {
			t.Errorf("%s: data-max-files=%q", name, got)
		}
		attach := form.Find("button.attach[type=button]")
		if attach.Length() != 1 || attach.Find(".visually-hidden").Text() != "Attach files" || attach.AttrOr("aria-controls", "") != views.ComposeFileID {
			t.Errorf("%s: no attach button named for a screen reader", name)
		}
		list := form.Find("ul#" + views.ComposeFilesID)
		if list.AttrOr("aria-label", "") == "" || list.AttrOr("hidden", "-") == "-" || list.Children().Length() != 0 {
			t.Errorf("%s: the list of files to send is not an empty, hidden, named list", name)
		}
		if p := form.Find("progress.compose-progress"); p.AttrOr("aria-label", "") == "" || p.AttrOr("hidden", "-") == "-" {
			t.Errorf("%s: no hidden, named progress bar", name)
		}
	}
	set, _ := render(t, views.Compose(views.ComposeForm{RoomID: 7, UploadLimit: 2 << 20}))
	if got := set.Find("form#compose").AttrOr("data-upload-limit", ""); got != "2097152" {
		t.Errorf("a limit of 2 MB renders data-upload-limit=%q", got)
	}
}
