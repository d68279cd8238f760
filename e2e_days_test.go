package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// Days in the reader's zone: a reader fourteen hours ahead of the server
// sees the day of each entry as it is where they are, named "Today" for
// today; entries that arrive later or load earlier start days of their
// own, with one divider each. Without scripts, the server's days (UTC).
func TestBrowserDays(t *testing.T) {
	srv := start(t, filepath.Join(t.TempDir(), "chat.db"), "-post-limit", "0")
	errs := &pageErrors{}
	const zone = "Pacific/Kiritimati" // UTC+14: most hours, another day than UTC
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Skip("no time zone data:", err) // Go's own zoneinfo is in every toolchain; kept for odd builds
	}
	ada := newPerson(t, "ada", errs)
	ada.do(emulation.SetTimezoneOverride(zone))
	bob := newPerson(t, "bob", errs)
	bob.do(emulation.SetScriptExecutionDisabled(true))
	roomURL := meetInARoom(srv.base, "Days", ada, bob)
	ada.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#compose textarea`, chromedp.ByQuery), socketOpen(),
		chromedp.SendKeys(`#compose textarea`, "first of the day", chromedp.ByQuery),
		chromedp.Submit(`#compose textarea`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[text()="first of the day"]`, chromedp.BySearch),
	)
	var stamp string
	ada.do(chromedp.AttributeValue(`#messages [data-kind="post"] .permalink time`, "datetime", &stamp, nil, chromedp.ByQuery))
	posted, err := time.Parse(time.RFC3339, stamp)
	if err != nil {
		t.Fatal(err)
	}
	local := posted.In(loc)
	// dividers reads the list: "day label" for each divider, "entry" for
	// each entry.
	dividers := func(p *person) string {
		var got string
		p.do(chromedp.Evaluate(`[...document.querySelectorAll("#messages > *")].map(el =>
			el.classList.contains("day-divider") ? el.querySelector("time").getAttribute("datetime") + " " + el.textContent : "entry").join("|")`, &got))
		return got
	}
	want := local.Format(time.DateOnly) + " Today|entry|entry|entry"
	ada.do(chromedp.Poll(fmt.Sprintf(`document.querySelector("#messages > .day-divider time").getAttribute("datetime") === %q`, local.Format(time.DateOnly)), nil))
	if got := dividers(ada); got != want {
		t.Errorf("in %s the list reads %q, want %q", zone, got, want)
	}
	// An entry of tomorrow arrives at the end, one of three days ago loads
	// at the start: each gets its day, once.
	ada.do(chromedp.Evaluate(`(() => {
		const list = document.getElementById("messages");
		const last = list.querySelector('[data-kind="post"]');
		const at = (days, id) => {
			const el = last.cloneNode(true);
			el.id = "msg-" + id;
			el.querySelector(".permalink time").setAttribute("datetime", new Date(Date.parse(last.querySelector(".permalink time").getAttribute("datetime")) + days * 86400000).toISOString());
			return el;
		};
		list.append(at(1, 9001));
		list.prepend(at(-3, 1));
		return true;
	})()`, nil))
	ahead, behind := local.AddDate(0, 0, 1).Format(time.DateOnly), local.AddDate(0, 0, -3).Format(time.DateOnly)
	ada.do(chromedp.Poll(fmt.Sprintf(`document.querySelectorAll("#messages > .day-divider").length === 3 &&
		document.querySelector("#msg-9001").previousElementSibling.querySelector("time").getAttribute("datetime") === %q &&
		document.querySelector("#messages > .day-divider time").getAttribute("datetime") === %q`, ahead, behind), nil))
	got := dividers(ada)
	if n := strings.Count(got, "|entry|entry|entry|"); n != 1 || !strings.HasPrefix(got, behind+" ") || !strings.Contains(got, "|"+local.Format(time.DateOnly)+" Today|") {
		t.Errorf("after two more days the list reads %q", got)
	}
	ada.shot("days")
	// Without scripts: the server's day, by its own clock.
	bob.do(chromedp.Navigate(roomURL), chromedp.WaitVisible(`#messages .day-divider`, chromedp.ByQuery))
	var label, day string
	bob.do(chromedp.Text(`#messages .day-divider`, &label, chromedp.ByQuery),
		chromedp.AttributeValue(`#messages .day-divider time`, "datetime", &day, nil, chromedp.ByQuery))
	if utc := posted.UTC(); day != utc.Format(time.DateOnly) || strings.TrimSpace(label) != utc.Format("Monday 2 January 2006") {
		t.Errorf("without scripts the divider is %q %q", day, label)
	}
	if e := errs.take(); len(e) > 0 {
		t.Errorf("page errors: %v", e)
	}
}
