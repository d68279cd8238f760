package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// TestRegistrationAcrossRestart: the policy is kept in the database: the
// flag sets it at start, an admin changes it, and a restart without the
// flag keeps what was set last.
func TestRegistrationAcrossRestart(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "chat.db")
	r := start(t, dbPath, "-registration", "invite")
	root := browser(t)
	// The first account may, invitation or not (303, followed to the lobby).
	if res := postForm(t, root, r.base+"/register", url.Values{"username": {"root"}, "password": {"password-root"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("first account: %d", res.StatusCode)
	}
	if res := postForm(t, browser(t), r.base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("under invite: %d", res.StatusCode)
	}
	r.shutdown(t)

	r = start(t, dbPath) // no flag: the database keeps invite
	if res := postForm(t, browser(t), r.base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusForbidden {
		t.Errorf("after a restart without the flag: %d, want 403", res.StatusCode)
	}
	if _, body := getBody(t, browser(t), r.base+"/register"); !strings.Contains(body, "data-invitation-needed") {
		t.Error("the form does not say an invitation is needed")
	}
	// An admin opens it on /admin; a restart keeps that too.
	root2 := signIn(t, r.base, "root")
	if res := postForm(t, root2, r.base+"/admin/registration", url.Values{"registration": {"open"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("set open: %d", res.StatusCode)
	}
	r.shutdown(t)
	r = start(t, dbPath)
	if res := postForm(t, browser(t), r.base+"/register", url.Values{"username": {"bob"}, "password": {"password-bob"}}); res.StatusCode != http.StatusOK {
		t.Errorf("opened by the admin, after a restart: %d", res.StatusCode)
	}
}

// signIn signs a user in and returns their browser.
func signIn(t *testing.T, base, name string) *http.Client {
	t.Helper()
	c := browser(t)
	if res := postForm(t, c, base+"/login", url.Values{"username": {name}, "password": {"password-" + name}}); res.StatusCode != http.StatusOK {
		t.Fatalf("sign in %s: %d", name, res.StatusCode)
	}
	return c
}

func TestRegistrationFlag(t *testing.T) {
	err := run(context.Background(), []string{"-registration", "maybe"}, func(string) string { return "" }, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-registration must be open or invite") {
		t.Errorf("-registration maybe: %v", err)
	}
	env := map[string]string{"CHAT_REGISTRATION": "invite"}
	c, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil || c.registration != "invite" {
		t.Errorf("CHAT_REGISTRATION: %q %v", c.registration, err)
	}
	if c, _ := parseConfig(nil, func(string) string { return "" }, io.Discard); c.registration != "" {
		t.Errorf("no flag: %q, want the database's", c.registration)
	}
}
