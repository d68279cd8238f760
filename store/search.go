package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Search finds posts by any substring of three characters or more, in any
// script, with the SQLite that go-sqlite3 builds by default (FTS4, no
// trigram tokenizer): each word of a post is indexed as the hashes of its
// trigrams (three characters in a row, folded: lower case, no accents).
// A query's words become the trigrams they must all hold; the index answers
// candidates newest first, and each is then checked against the post's
// current text, which also finds what to highlight. A hash collision or
// trigrams in another order cost a check, never a wrong answer.

// Limits of a search.
const (
	SearchTermMin    = 3   // characters a word of the query needs
	SearchQueryMax   = 200 // characters of a query
	searchTermsMax   = 8   // words of a query
	searchTokensMax  = 3   // trigrams asked of the index
	searchBatch      = 200 // candidates read at a time
	searchCandidates = 20000
)

// SearchHit is a post that matches, with the byte ranges of its text that
// match a word of the query, in order.
type SearchHit struct {
	Message
	RoomName string
	Marks    [][2]int
}

// FoldSearch is the form in which search compares text: each character in
// lower case and without accents ("Café" is "cafe"), one character for
// one, so that a match found in the folded text marks the same characters
// of the original.
func FoldSearch(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

func foldRune(r rune) rune {
	if r < utf8.RuneSelf {
		if r >= 'A' && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}
	r = unicode.ToLower(r)
	// An accented letter is its base letter and combining marks; Hangul
	// syllables and the like decompose into letters, and stay whole.
	d := norm.NFD.String(string(r))
	base, size := utf8.DecodeRuneInString(d)
	if size == len(d) {
		return r
	}
	for _, m := range d[size:] {
		if !unicode.Is(unicode.Mn, m) {
			return r
		}
	}
	return base
}

// SearchTerms splits a query into the folded words a post must all hold.
// Words shorter than SearchTermMin are dropped; none left is an empty
// answer.
func SearchTerms(query string) []string {
	var terms []string
	for _, w := range strings.Fields(FoldSearch(norm.NFC.String(query))) {
		if utf8.RuneCountInString(w) < SearchTermMin {
			continue
		}
		if !contains(terms, w) {
			terms = append(terms, w)
		}
		if len(terms) == searchTermsMax {
			break
		}
	}
	return terms
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// searchTokens is what the index holds of a post: the distinct trigrams of
// its words, each as 8 hex digits of a hash (a token FTS4's simple
// tokenizer keeps whole, whatever the script).
func searchTokens(text string) string {
	var hs []uint32
	eachTrigram(FoldSearch(text), func(h uint32) { hs = append(hs, h) })
	slices.Sort(hs)
	hs = slices.Compact(hs)
	buf := make([]byte, 0, len(hs)*9)
	for i, h := range hs {
		if i > 0 {
			buf = append(buf, ' ')
		}
		buf = appendToken(buf, h)
	}
	return string(buf)
}

const hexDigits = "0123456789abcdef"

func appendToken(buf []byte, h uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		buf = append(buf, hexDigits[(h>>shift)&0xf])
	}
	return buf
}

// eachTrigram calls fn with the FNV-1a hash of every trigram (three
// characters in a row) of every word of folded text.
func eachTrigram(folded string, fn func(uint32)) {
	// starts holds the byte offsets of the last three characters of the
	// current word; n counts the word's characters so far. A trigram is
	// hashed when the character after it, or the word's end, is reached.
	var starts [3]int
	n := 0
	emit := func(end int) {
		h := uint32(2166136261)
		for _, c := range []byte(folded[starts[n%3]:end]) {
			h ^= uint32(c)
			h *= 16777619
		}
		fn(h)
	}
	for i, r := range folded {
		if unicode.IsSpace(r) {
			if n >= 3 {
				emit(i)
			}
			n = 0
			continue
		}
		if n >= 3 {
			emit(i)
		}
		starts[n%3] = i
		n++
	}
	if n >= 3 {
		emit(len(folded))
	}
}

// matchQuery is what the index is asked: trigrams of every term, at most
// searchTokensMax, spread over each term so that its start and end count.
func matchQuery(terms []string) []uint32 {
	var per [][]uint32
	for _, t := range terms {
		var hs []uint32
		eachTrigram(t, func(h uint32) { hs = append(hs, h) })
		per = append(per, hs)
	}
	quota := max(1, searchTokensMax/len(terms))
	seen := make(map[uint32]struct{})
	var out []uint32
	for _, hs := range per {
		pick := hs
		if len(hs) > quota {
			pick = nil
			for i := 0; i < quota; i++ {
				pick = append(pick, hs[i*(len(hs)-1)/max(1, quota-1)])
			}
		}
		for _, h := range pick {
			if _, ok := seen[h]; ok {
				continue
			}
			seen[h] = struct{}{}
			out = append(out, h)
		}
	}
	return out
}

// ftsMatch is a MATCH of FTS4 for every token.
func ftsMatch(tokens []uint32) string {
	var b []byte
	for i, h := range tokens {
		if i > 0 {
			b = append(b, ' ')
		}
		b = appendToken(b, h)
	}
	return string(b)
}

// pgTokens is what PostgreSQL's index holds of a post: the same trigram
// hashes, as an integer array.
func pgTokens(text string) []int32 {
	hs := []int32{} // never NULL: a post of short words holds no trigram
	eachTrigram(FoldSearch(text), func(h uint32) { hs = append(hs, int32(h)) })
	slices.Sort(hs)
	return slices.Compact(hs)
}

func asInt32s(hs []uint32) []int32 {
	out := make([]int32, len(hs))
	for i, h := range hs {
		out[i] = int32(h)
	}
	return out
}

// matchMarks reports whether text holds every term, and where: the byte
// ranges of text that match one, merged and in order.
func matchMarks(text string, terms []string) ([][2]int, bool) {
	folded := []rune(FoldSearch(text))
	offsets := make([]int, 0, len(folded)+1)
	for i := range text {
		offsets = append(offsets, i)
	}
	offsets = append(offsets, len(text))
	marked := make([]bool, len(folded))
	for _, t := range terms {
		tr := []rune(t)
		found := false
		for i := 0; i+len(tr) <= len(folded); i++ {
			if equalRunes(folded[i:i+len(tr)], tr) {
				found = true
				for k := i; k < i+len(tr); k++ {
					marked[k] = true
				}
			}
		}
		if !found {
			return nil, false
		}
	}
	var marks [][2]int
	for i := 0; i < len(marked); {
		if !marked[i] {
			i++
			continue
		}
		j := i
		for j < len(marked) && marked[j] {
			j++
		}
		marks = append(marks, [2]int{offsets[i], offsets[j]})
		i = j
	}
	return marks, true
}

// matchHit reports whether the post holds every term in its text or in
// the name of one of its files, and the byte ranges of its text that
// match one.
func matchHit(m Message, terms []string) ([][2]int, bool) {
	if marks, ok := matchMarks(m.Text, terms); ok || len(m.Files) == 0 {
		return marks, ok
	}
	var inText []string
	for _, t := range terms {
		if _, ok := matchMarks(m.Text, []string{t}); ok {
			inText = append(inText, t)
			continue
		}
		if !slices.ContainsFunc(m.Files, func(f File) bool { return strings.Contains(FoldSearch(f.Name), t) }) {
			return nil, false
		}
	}
	marks, _ := matchMarks(m.Text, inText)
	return marks, true
}

func equalRunes(a, b []rune) bool {
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// IndexPosts adds up to limit of the posts the search index has not taken
// yet to it, oldest first, in one transaction, and reports how many
// entries it went through and whether more wait. The chat calls it when
// its writer has nothing else to do, and when many wait.
//
// The transaction does not wait for the disk (synchronous=NORMAL): the
// index can be made again from the posts, and a crash that undoes it
// undoes the mark of how far it got with it. The next durable commit
// syncs it anyway.
func (s *Store) IndexPosts(ctx context.Context, limit int) (n int, more bool, err error) {
	if s.write.pg {
		return 0, false, nil // posts are indexed as they are stored
	}
	conn, err := s.write.Conn(ctx)
	if err != nil {
		return 0, false, fmt.Errorf("store: index posts: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "PRAGMA synchronous = NORMAL"); err != nil {
		return 0, false, fmt.Errorf("store: index posts: %w", err)
	}
	defer func() {
		// Back to FULL before the connection serves anyone else; if that
		// fails, the connection is not fit to keep.
		if _, rerr := conn.ExecContext(context.Background(), "PRAGMA synchronous = FULL"); rerr != nil {
			conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, fmt.Errorf("store: index posts: %w", rerr))
		}
	}()
	err = s.writeBatchOn(ctx, conn, func(b *Batch) error {
		upto, err := b.indexedUpto(ctx)
		if err != nil {
			return err
		}
		rows, err := b.tx.QueryContext(ctx, `SELECT m.id, m.kind = 'post' AND m.deleted_at IS NULL, `+postSearchText+` FROM messages m
			WHERE m.id > ? ORDER BY m.id LIMIT ?`, upto, limit)
		if err != nil {
			return fmt.Errorf("store: index posts: %w", err)
		}
		type post struct {
			id   int64
			text string
		}
		var posts []post
		last := upto
		for rows.Next() {
			var p post
			var indexed bool
			if err := rows.Scan(&p.id, &indexed, &p.text); err != nil {
				rows.Close()
				return fmt.Errorf("store: index posts: %w", err)
			}
			last, n = p.id, n+1
			if indexed {
				posts = append(posts, p)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: index posts: %w", err)
		}
		stmt := b.tx.StmtContext(ctx, s.stmts.indexPost)
		for _, p := range posts {
			if _, err := stmt.ExecContext(ctx, p.id, searchTokens(p.text)); err != nil {
				return fmt.Errorf("store: index post %d: %w", p.id, err)
			}
		}
		if _, err := b.tx.ExecContext(ctx, "UPDATE search_state SET indexed_upto = ?", last); err != nil {
			return fmt.Errorf("store: index posts: %w", err)
		}
		b.upto = last
		return nil
	})
	return n, n == limit, err
}

// SearchPosts finds the posts that hold every word of query, in rooms the
// user may read, newest first, at most limit. A query with no word of
// SearchTermMin characters finds nothing. Posts the index has not taken
// yet, the newest, are read and checked directly.
func (s *Store) SearchPosts(ctx context.Context, userID int64, query string, limit int) ([]SearchHit, error) {
	terms := SearchTerms(query)
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	defer tx.Rollback()
	var upto int64
	if err := tx.QueryRowContext(ctx, "SELECT indexed_upto FROM search_state").Scan(&upto); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	hits, err := s.searchTail(ctx, tx, userID, terms, upto, limit)
	if err == nil && len(hits) < limit {
		hits, err = s.searchIndexed(ctx, tx, userID, terms, upto, limit, hits)
	}
	if err != nil {
		return nil, err
	}
	// The hits carry their files (and cards) as every list of posts does:
	// read once for them all.
	for i := range hits {
		hits[i].Files, hits[i].Card = nil, nil
	}
	if err := attachFiles(ctx, tx, len(hits), func(i int) *Message { return &hits[i].Message }); err != nil {
		return nil, err
	}
	return hits, nil
}

// searchTail reads the posts the index has not taken yet (ids above upto),
// newest first, a page at a time, and keeps those that match, at most
// limit.
func (s *Store) searchTail(ctx context.Context, tx *dbTx, userID int64, terms []string, upto int64, limit int) ([]SearchHit, error) {
	var hits []SearchHit
	for below := int64(1<<63 - 1); ; {
		tail, err := s.readablePosts(ctx, tx, userID, "m.id > ? AND m.id < ?", []any{upto, below}, searchBatch)
		if err != nil {
			return nil, err
		}
		matched, err := matchPosts(ctx, tx, tail, terms)
		if err != nil {
			return nil, err
		}
		for _, h := range matched {
			hits = append(hits, h)
			if len(hits) == limit {
				return hits, nil
			}
		}
		if len(tail) < searchBatch {
			return hits, nil
		}
		below = tail[len(tail)-1].ID
	}
}

// searchIndexed adds to hits the indexed posts (ids up to upto) that
// match, newest first, until there are limit or searchCandidates were
// looked at.
func (s *Store) searchIndexed(ctx context.Context, tx *dbTx, userID int64, terms []string, upto int64, limit int, hits []SearchHit) ([]SearchHit, error) {
	match := matchQuery(terms)
	below := upto
	if below < 1<<63-1 {
		below++ // on PostgreSQL, upto is the highest id there is: every post is indexed
	}
	for scanned := 0; len(hits) < limit && scanned < searchCandidates; {
		ids, err := s.searchCandidates(ctx, tx, match, below)
		if err != nil {
			return nil, err
		}
		if len(ids) == 0 {
			break
		}
		scanned += len(ids)
		below = ids[len(ids)-1]
		in, args := idsIn(tx, "m.id", ids)
		found, err := s.readablePosts(ctx, tx, userID, in, args, 0)
		if err != nil {
			return nil, err
		}
		matched, err := matchPosts(ctx, tx, found, terms)
		if err != nil {
			return nil, err
		}
		for _, h := range matched {
			hits = append(hits, h)
			if len(hits) == limit {
				break
			}
		}
		if len(ids) < searchBatch {
			break
		}
	}
	return hits, nil
}

func (s *Store) searchCandidates(ctx context.Context, tx *dbTx, match []uint32, below int64) ([]int64, error) {
	var rows *sql.Rows
	var err error
	if tx.pg {
		rows, err = tx.QueryContext(ctx, `SELECT docid FROM post_search WHERE tokens @> ? AND docid < ?
			ORDER BY docid DESC LIMIT ?`, asInt32s(match), below, searchBatch)
	} else {
		rows, err = tx.QueryContext(ctx, `SELECT docid FROM post_search WHERE post_search MATCH ? AND docid < ?
			ORDER BY docid DESC LIMIT ?`, ftsMatch(match), below, searchBatch)
	}
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("store: search: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return ids, nil
}

// readablePosts returns the posts that cond (with its arguments) selects,
// not deleted, in rooms the user may read, newest first, at most limit
// (0: all).
func (s *Store) readablePosts(ctx context.Context, tx *dbTx, userID int64, cond string, condArgs []any, limit int) ([]SearchHit, error) {
	query := selectMessagesRoom + `WHERE ` + readableRoom + ` AND m.kind = 'post' AND m.deleted_at IS NULL
		AND ` + cond + ` ORDER BY m.id DESC`
	args := append([]any{userID}, condArgs...)
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	defer rows.Close()
	var out []SearchHit
	for rows.Next() {
		var h SearchHit
		if err := scanMessage(rows, &h.Message, &h.RoomName); err != nil {
			return nil, fmt.Errorf("store: search: %w", err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: search: %w", err)
	}
	return out, nil
}

// matchPosts returns the posts that hold every term, with their marks, in
// their order. The names of files are read only for the posts whose text
// alone does not match: most candidates of a search match by their text.
func matchPosts(ctx context.Context, tx *dbTx, posts []SearchHit, terms []string) ([]SearchHit, error) {
	ok := make([]bool, len(posts))
	var unsure []int
	for i := range posts {
		posts[i].Marks, ok[i] = matchMarks(posts[i].Text, terms)
		if !ok[i] {
			unsure = append(unsure, i)
		}
	}
	if len(unsure) > 0 {
		if err := attachFiles(ctx, tx, len(unsure), func(k int) *Message { return &posts[unsure[k]].Message }); err != nil {
			return nil, err
		}
		for _, i := range unsure {
			posts[i].Marks, ok[i] = matchHit(posts[i].Message, terms)
		}
	}
	var out []SearchHit
	for i, h := range posts {
		if ok[i] {
			out = append(out, h)
		}
	}
	return out, nil
}
