// Package axe runs axe-core, the accessibility checker, in a page a
// browser test has open, and answers what it found. It is for tests only:
// the chat never serves axe (see README.md for its version, sums and
// license).
package axe

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Version is the axe-core release embedded here.
const Version = "4.14.1"

//go:embed axe.min.js
var source string

// Tags are the rule sets run by default: WCAG 2.0, 2.1 and 2.2 at levels A
// and AA, and axe's best practices (landmark-unique among them).
var Tags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"}

// Violation is one rule the page breaks, with the elements that break it.
type Violation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []Node `json:"nodes"`
}

// Node is one element breaking a rule.
type Node struct {
	// Target is the element's selector (a list: one per frame or shadow
	// root on the way to it).
	Target  []any  `json:"target"`
	HTML    string `json:"html"`
	Summary string `json:"failureSummary"`
}

// Selector is the node's target as one string.
func (n Node) Selector() string {
	parts := make([]string, len(n.Target))
	for i, p := range n.Target {
		parts[i] = fmt.Sprint(p)
	}
	return strings.Join(parts, " >>> ")
}

// Options say which rules run.
type Options struct {
	// Tags are the rule sets; nil means Tags.
	Tags []string
	// Disable names rules not to run, each for a reason the caller gives.
	Disable []string
}

// Run checks the page a chromedp context has open and sets out to the
// rules it breaks. axe is put in the page the first time.
func Run(opts Options, out *[]Violation) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var loaded bool
		if err := chromedp.Evaluate(`typeof window.axe === "object"`, &loaded).Do(ctx); err != nil {
			return fmt.Errorf("axe: %w", err)
		}
		if !loaded {
			// Through the DevTools protocol, which the page's
			// Content-Security-Policy does not govern.
			if err := chromedp.Evaluate(source+"\n;true", nil).Do(ctx); err != nil {
				return fmt.Errorf("axe: load: %w", err)
			}
		}
		tags := opts.Tags
		if tags == nil {
			tags = Tags
		}
		rules := map[string]any{}
		for _, r := range opts.Disable {
			rules[r] = map[string]bool{"enabled": false}
		}
		cfg, err := json.Marshal(map[string]any{
			"runOnly":     map[string]any{"type": "tag", "values": tags},
			"rules":       rules,
			"resultTypes": []string{"violations"},
		})
		if err != nil {
			return err
		}
		script := `axe.run(document, ` + string(cfg) + `).then(r => JSON.stringify(r.violations))`
		var text string
		if err := chromedp.Evaluate(script, &text, func(p *runtime.EvaluateParams) *runtime.EvaluateParams {
			return p.WithAwaitPromise(true)
		}).Do(ctx); err != nil {
			return fmt.Errorf("axe: run: %w", err)
		}
		var found []Violation
		if err := json.Unmarshal([]byte(text), &found); err != nil {
			return fmt.Errorf("axe: results: %w", err)
		}
		*out = found
		return nil
	})
}

// Report writes violations for a person to read: each rule, then each
// element with its selector, its markup and what is wrong.
func Report(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		fmt.Fprintf(&b, "  %s (%s, %d nodes): %s\n", v.ID, v.Impact, len(v.Nodes), v.Help)
		for _, n := range v.Nodes {
			fmt.Fprintf(&b, "    %s\n      %.200s\n", n.Selector(), n.HTML)
			if s := strings.TrimSpace(n.Summary); s != "" {
				fmt.Fprintf(&b, "      %s\n", strings.ReplaceAll(s, "\n", "\n      "))
			}
		}
	}
	return b.String()
}
