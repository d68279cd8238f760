package main

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The browser itself finds the chat installable: its manifest parses
// without error and Chromium reports nothing that stands in the way.
func TestBrowserInstallable(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"))
	errs := &pageErrors{}
	ada := newPerson(t, "ada", errs)
	ada.register(srv.base)
	var manifestErrs []*page.AppManifestError
	var blockers []*page.InstallabilityError
	ada.do(chromedp.ActionFunc(func(ctx context.Context) error {
		var err error
		if _, manifestErrs, _, _, err = page.GetAppManifest().Do(ctx); err != nil {
			return err
		}
		blockers, err = page.GetInstallabilityErrors().Do(ctx)
		return err
	}))
	for _, e := range manifestErrs {
		t.Errorf("manifest: %s (line %d)", e.Message, e.Line)
	}
	for _, b := range blockers {
		t.Errorf("not installable: %s %v", b.ErrorID, b.ErrorArguments)
	}
}
