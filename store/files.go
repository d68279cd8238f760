package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Files live in the database, so that one SQLite file is still the whole
// chat and instances on PostgreSQL share them: a row of files says what
// the file is, its bytes are rows of file_chunks, chunkSize bytes each but
// the last. They go in and out a chunk at a time, never whole in memory.

// File is a file attached to a post, or the picture of a link's card.
type File struct {
	ID, UserID, MessageID, RoomID int64 // MessageID, RoomID: 0 until attached
	Name, Type                    string
	Size                          int64
	Width, Height                 int // a picture's pixels; 0 otherwise
	PreviewType                   string
	PreviewSize                   int64
	PreviewWidth, PreviewHeight   int
	ETag                          string // hex SHA-256 of the bytes
	CreatedAt                     time.Time
}

// NewFile is what PutFile stores besides the bytes.
type NewFile struct {
	UserID        int64
	Name, Type    string
	Width, Height int
	// Preview, optional, is a smaller picture of the file made by the
	// caller, of PreviewType.
	Preview                     []byte
	PreviewType                 string
	PreviewWidth, PreviewHeight int
	// MaxSize is the most bytes the body may have: more gives
	// ErrTooLarge, and nothing is stored. 0: no bound.
	MaxSize int64
	// Quota is the most bytes the user may upload in 24 hours (of files
	// still stored); past it, ErrQuota. 0: no quota.
	Quota int64
}

// Limits of files.
const (
	MaxFilesPerPost = 10
	// QuotaWindow is the time over which a user's uploads count against
	// the quota.
	QuotaWindow = 24 * time.Hour
	chunkSize   = 256 << 10
)

const (
	fileKindAttachment = "attachment"
	fileKindCard       = "card"
	variantFile        = 0
	variantPreview     = 1
)

// chunkBufs are the buffers of a chunk that uploads and downloads use in
// turn.
var chunkBufs = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// fileColumns are what scanFile reads, in its order.
const fileColumns = `f.id, f.user_id, COALESCE(f.message_id, 0), f.name, f.type, f.size, f.width, f.height,
	f.preview_type, f.preview_size, f.preview_width, f.preview_height, f.sha256, f.created_at`

func scanFile(row scanner, f *File, extra ...any) error {
	var created int64
	dest := append([]any{&f.ID, &f.UserID, &f.MessageID, &f.Name, &f.Type, &f.Size, &f.Width, &f.Height,
		&f.PreviewType, &f.PreviewSize, &f.PreviewWidth, &f.PreviewHeight, &f.ETag, &created}, extra...)
	if err := row.Scan(dest...); err != nil {
		return err
	}
	f.CreatedAt = fromMillis(created)
	return nil
}

// PutFile streams body into the database in chunks, hashing it, in one
// write transaction; the file is held by no post yet (see
// CreatePostFiles), its name in Unicode's composed form (NFC). An empty
// body gives ErrEmpty; one of more than nf.MaxSize bytes ErrTooLarge; one
// that takes the user past nf.Quota ErrQuota: then nothing is stored.
//
// On SQLite the transaction holds the one writer while body is read: body
// should be at hand (a spooled upload), not a slow client's connection.
func (s *Store) PutFile(ctx context.Context, nf NewFile, body io.Reader) (File, error) {
	nf, err := s.checkNewFile(ctx, nf)
	if err != nil {
		return File{}, err
	}
	bufp := chunkBufs.Get().(*[]byte)
	defer chunkBufs.Put(bufp)
	buf := *bufp
	first, rest, err := readFirstChunk(nf, body, buf)
	if err != nil {
		return File{}, err
	}

	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return File{}, fmt.Errorf("store: put file %q: %w", nf.Name, err)
	}
	defer tx.Rollback()
	now := s.now()
	f, err := insertFile(ctx, tx, nf, now)
	if err != nil {
		return File{}, err
	}
	if err := writeFileBody(ctx, tx, &f, nf, first, rest, buf); err != nil {
		return File{}, err
	}
	if err := checkQuota(ctx, tx, nf, f, now); err != nil {
		return File{}, err
	}
	if err := tx.Commit(); err != nil {
		return File{}, fmt.Errorf("store: put file %q: commit: %w", nf.Name, err)
	}
	return f, nil
}

// checkNewFile checks nf before anything is read: its name, type and
// preview, and (said early, checked again surely before the commit by
// checkQuota) whether the user has any quota left. It returns nf with its
// name in Unicode's composed form.
func (s *Store) checkNewFile(ctx context.Context, nf NewFile) (NewFile, error) {
	if nf.Name == "" || nf.Type == "" || (len(nf.Preview) > 0) != (nf.PreviewType != "") {
		return NewFile{}, fmt.Errorf("store: put file %q: name, type or preview missing: %w", nf.Name, ErrInvalid)
	}
	if !storable(nf.Name, nf.Type, nf.PreviewType) {
		return NewFile{}, fmt.Errorf("store: put file %q: a name or type of NUL or bad UTF-8: %w", nf.Name, ErrInvalid)
	}
	// In one form, as search folds it: a name from a Mac comes
	// decomposed ("u" and a combining diaeresis for "ü").
	nf.Name = norm.NFC.String(nf.Name)
	if nf.Quota > 0 {
		used, err := s.UploadedToday(ctx, nf.UserID)
		if err != nil {
			return NewFile{}, err
		}
		if used >= nf.Quota {
			return NewFile{}, fmt.Errorf("store: put file %q: %d of %d bytes uploaded today: %w", nf.Name, used, nf.Quota, ErrQuota)
		}
	}
	return nf, nil
}

// readFirstChunk reads the first chunk of body into buf before the
// transaction begins, so that an empty body (ErrEmpty) or one past
// nf.MaxSize in its first chunk (ErrTooLarge) does not touch the
// database. It returns that chunk and the reader of the rest, limited to
// one byte past nf.MaxSize.
func readFirstChunk(nf NewFile, body io.Reader, buf []byte) (first []byte, rest io.Reader, err error) {
	if nf.MaxSize > 0 {
		body = io.LimitReader(body, nf.MaxSize+1)
	}
	n, err := io.ReadFull(body, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, nil, fmt.Errorf("store: put file %q: read: %w", nf.Name, err)
	}
	if n == 0 {
		return nil, nil, fmt.Errorf("store: put file %q: %w", nf.Name, ErrEmpty)
	}
	if nf.MaxSize > 0 && int64(n) > nf.MaxSize {
		return nil, nil, fmt.Errorf("store: put file %q: more than %d bytes: %w", nf.Name, nf.MaxSize, ErrTooLarge)
	}
	rest = body
	if err != nil { // the whole body is in first
		rest = strings.NewReader("")
	}
	return buf[:n], rest, nil
}

// insertFile inserts nf's row, of no size and no hash yet, and returns
// the file it describes.
func insertFile(ctx context.Context, tx *dbTx, nf NewFile, now time.Time) (File, error) {
	f := File{UserID: nf.UserID, Name: nf.Name, Type: nf.Type, Width: nf.Width, Height: nf.Height,
		PreviewType: nf.PreviewType, PreviewSize: int64(len(nf.Preview)), PreviewWidth: nf.PreviewWidth, PreviewHeight: nf.PreviewHeight,
		CreatedAt: fromMillis(now.UnixMilli())}
	var err error
	f.ID, err = tx.insertID(ctx, `INSERT INTO files (user_id, kind, name, type, size, width, height,
		preview_type, preview_size, preview_width, preview_height, sha256, created_at) VALUES (?, 'attachment', ?, ?, 0, ?, ?, ?, ?, ?, ?, '', ?)`,
		nf.UserID, nf.Name, nf.Type, nf.Width, nf.Height, nf.PreviewType, len(nf.Preview), nf.PreviewWidth, nf.PreviewHeight, now.UnixMilli())
	if err != nil {
		return File{}, fmt.Errorf("store: put file %q: %w", nf.Name, constraintErr(err))
	}
	return f, nil
}

// writeFileBody writes the file's chunks (first, then rest) and its
// preview's, and sets f's size and hash (its ETag) in f and in its row.
// A body past nf.MaxSize is ErrTooLarge.
func writeFileBody(ctx context.Context, tx *dbTx, f *File, nf NewFile, first []byte, rest io.Reader, buf []byte) error {
	h := sha256.New()
	var err error
	f.Size, err = writeChunks(ctx, tx, f.ID, variantFile, first, rest, buf, h)
	if err != nil {
		return fmt.Errorf("store: put file %q: %w", nf.Name, err)
	}
	if nf.MaxSize > 0 && f.Size > nf.MaxSize {
		return fmt.Errorf("store: put file %q: more than %d bytes: %w", nf.Name, nf.MaxSize, ErrTooLarge)
	}
	if len(nf.Preview) > 0 {
		if _, err := writeChunks(ctx, tx, f.ID, variantPreview, nil, bytes.NewReader(nf.Preview), buf, nil); err != nil {
			return fmt.Errorf("store: put file %q: preview: %w", nf.Name, err)
		}
	}
	f.ETag = hex.EncodeToString(h.Sum(nil))
	if _, err := tx.ExecContext(ctx, "UPDATE files SET size = ?, sha256 = ? WHERE id = ?", f.Size, f.ETag, f.ID); err != nil {
		return fmt.Errorf("store: put file %q: %w", nf.Name, err)
	}
	return nil
}

// checkQuota is ErrQuota when the new file f takes its user past
// nf.Quota (none when nf.Quota is 0), counted inside the transaction
// that stores f, just before its commit.
func checkQuota(ctx context.Context, tx *dbTx, nf NewFile, f File, now time.Time) error {
	if nf.Quota <= 0 {
		return nil
	}
	if tx.pg {
		// The user's uploads check the quota and commit one at a
		// time (SQLite has one writer: they are so already).
		if _, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock(?, ?)", int32(quotaLock), int32(nf.UserID)); err != nil {
			return fmt.Errorf("store: put file %q: %w", nf.Name, err)
		}
	}
	used, err := uploadedSince(ctx, tx, nf.UserID, now.Add(-QuotaWindow))
	if err != nil {
		return err
	}
	if used > nf.Quota {
		return fmt.Errorf("store: put file %q: %d bytes, %d of %d uploaded today: %w", nf.Name, f.Size, used-f.Size, nf.Quota, ErrQuota)
	}
	return nil
}

// storable reports whether texts can be kept alike on both engines:
// PostgreSQL takes no NUL and no bad UTF-8 in text.
func storable(texts ...string) bool {
	for _, t := range texts {
		if !utf8.ValidString(t) || strings.IndexByte(t, 0) >= 0 {
			return false
		}
	}
	return true
}

// quotaLock is the first key of the advisory locks, one a user, that
// PostgreSQL transactions checking the quota take.
const quotaLock = 0x66696c65 // "file"

// writeChunks writes first and then what rest holds as the chunks of a
// file's variant, reading rest through buf, and returns how many bytes it
// wrote; h, if not nil, hashes them.
func writeChunks(ctx context.Context, tx *dbTx, fileID int64, variant int, first []byte, rest io.Reader, buf []byte, h hash.Hash) (int64, error) {
	query, err := pgFlag(tx.pg).q("INSERT INTO file_chunks (file_id, variant, seq, data) VALUES (?, ?, ?, ?)")
	if err != nil {
		return 0, err
	}
	stmt, err := tx.Tx.PrepareContext(ctx, query)
	if err != nil {
		return 0, err
	}
	defer stmt.Close()
	var size int64
	seq := 0
	put := func(chunk []byte) error {
		if h != nil {
			h.Write(chunk)
		}
		if _, err := stmt.ExecContext(ctx, fileID, variant, seq, chunk); err != nil {
			return fmt.Errorf("chunk %d: %w", seq, err)
		}
		size += int64(len(chunk))
		seq++
		return nil
	}
	if len(first) > 0 {
		if err := put(first); err != nil {
			return 0, err
		}
	}
	for {
		n, err := io.ReadFull(rest, buf)
		if n > 0 {
			if err := put(buf[:n]); err != nil {
				return 0, err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return size, nil
		}
		if err != nil {
			return 0, fmt.Errorf("read: %w", err)
		}
	}
}

// UploadedToday is how many bytes the user uploaded in the last
// QuotaWindow, of files still stored.
func (s *Store) UploadedToday(ctx context.Context, userID int64) (int64, error) {
	return uploadedSince(ctx, s.read, userID, s.now().Add(-QuotaWindow))
}

func uploadedSince(ctx context.Context, q querier, userID int64, since time.Time) (int64, error) {
	var used int64
	err := q.QueryRowContext(ctx, "SELECT COALESCE(sum(size), 0) FROM files WHERE user_id = ? AND kind = 'attachment' AND created_at > ?",
		userID, since.UnixMilli()).Scan(&used)
	if err != nil {
		return 0, fmt.Errorf("store: uploads of user %d: %w", userID, err)
	}
	return used, nil
}

// DeleteUnattachedFiles deletes the user's files among ids that no post
// holds: the uploads of a post that was refused.
func (s *Store) DeleteUnattachedFiles(ctx context.Context, userID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	in, args := idsIn(s.write, "id", ids)
	if _, err := s.write.ExecContext(ctx, "DELETE FROM files WHERE "+in+" AND user_id = ? AND message_id IS NULL",
		append(args, userID)...); err != nil {
		return fmt.Errorf("store: delete files of user %d: %w", userID, err)
	}
	return nil
}

// SweepFiles deletes the files that no post holds, uploaded before
// before (a crash between an upload and its post), and says how many.
func (s *Store) SweepFiles(ctx context.Context, before time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, "DELETE FROM files WHERE message_id IS NULL AND created_at < ?", before.UnixMilli())
	if err != nil {
		return 0, fmt.Errorf("store: sweep files: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: sweep files: %w", err)
	}
	return int(n), nil
}

// FindFile finds a file held by a post that is not deleted (an
// attachment, or the picture of its card), with the room of the post;
// any other id gives ErrNotFound.
func (s *Store) FindFile(ctx context.Context, id int64) (File, error) {
	var f File
	err := scanFile(s.read.QueryRowContext(ctx, `SELECT `+fileColumns+`, m.room_id FROM files f JOIN messages m ON m.id = f.message_id
		WHERE f.id = ? AND m.kind = 'post' AND m.deleted_at IS NULL`, id), &f, &f.RoomID)
	if errors.Is(err, sql.ErrNoRows) {
		return File{}, fmt.Errorf("store: find file %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return File{}, fmt.Errorf("store: find file %d: %w", id, err)
	}
	return f, nil
}

// OpenFile reads the bytes of a file found by FindFile (or of its preview)
// chunk by chunk: one short query a chunk on the read pool, so that a
// slow reader never holds a transaction open. A file deleted while it is
// read ends the reading with an error wrapping ErrNotFound.
func (s *Store) OpenFile(ctx context.Context, f File, preview bool) io.ReadCloser {
	r := &fileReader{s: s, ctx: ctx, id: f.ID, left: f.Size}
	if preview {
		r.variant, r.left = variantPreview, f.PreviewSize
	}
	return r
}

// fileReader reads a file's chunks in turn, each into a pooled buffer.
type fileReader struct {
	s       *Store
	ctx     context.Context
	id      int64
	variant int
	seq     int
	left    int64 // bytes not yet read from the database
	bufp    *[]byte
	chunk   []byte // what of the current chunk is not read yet
	err     error
}

func (r *fileReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if len(r.chunk) == 0 {
		if r.left <= 0 {
			r.release()
			r.err = io.EOF
			return 0, io.EOF
		}
		if err := r.next(); err != nil {
			r.release()
			r.err = err
			return 0, err
		}
	}
	n := copy(p, r.chunk)
	r.chunk = r.chunk[n:]
	return n, nil
}

// next reads the next chunk.
func (r *fileReader) next() error {
	rows, err := r.s.read.QueryContext(r.ctx, "SELECT data FROM file_chunks WHERE file_id = ? AND variant = ? AND seq = ?", r.id, r.variant, r.seq)
	if err != nil {
		return fmt.Errorf("store: read file %d: %w", r.id, err)
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: read file %d: %w", r.id, err)
		}
		return fmt.Errorf("store: read file %d: chunk %d: %w", r.id, r.seq, ErrNotFound)
	}
	// The driver's bytes, not a copy of them: they are copied once, into
	// the reader's buffer, before the rows close.
	var data sql.RawBytes
	if err := rows.Scan(&data); err != nil {
		return fmt.Errorf("store: read file %d: %w", r.id, err)
	}
	if len(data) > chunkSize || int64(len(data)) > r.left || len(data) == 0 {
		return fmt.Errorf("store: read file %d: chunk %d of %d bytes, %d expected at most", r.id, r.seq, len(data), min(r.left, chunkSize))
	}
	if r.bufp == nil {
		r.bufp = chunkBufs.Get().(*[]byte)
	}
	r.chunk = (*r.bufp)[:copy(*r.bufp, data)]
	r.left -= int64(len(r.chunk))
	r.seq++
	return rows.Close()
}

func (r *fileReader) release() {
	if r.bufp != nil {
		chunkBufs.Put(r.bufp)
		r.bufp, r.chunk = nil, nil
	}
}

// Close ends the reading: further reads fail.
func (r *fileReader) Close() error {
	r.release()
	if r.err == nil || r.err == io.EOF {
		r.err = errors.New("store: read of a closed file")
	}
	return nil
}

// CreatePostFiles is CreatePost that also attaches files to the post, in
// the order of fileIDs, in the same transaction: each must be the user's
// own upload and held by no post, else ErrNotFound and nothing is stored.
// More than MaxFilesPerPost files, or one twice, is ErrInvalid. A client
// id sent before returns that earlier post (created false) and attaches
// nothing: the caller deletes its new files. text may be "" when files
// are attached.
func (b *Batch) CreatePostFiles(ctx context.Context, roomID, userID int64, text, clientID string, fileIDs []int64) (Message, bool, error) {
	if len(fileIDs) == 0 {
		return b.CreatePost(ctx, roomID, userID, text, clientID)
	}
	if len(fileIDs) > MaxFilesPerPost {
		return Message{}, false, fmt.Errorf("store: create post: %d files, %d at most: %w", len(fileIDs), MaxFilesPerPost, ErrInvalid)
	}
	sorted := slices.Clone(fileIDs)
	slices.Sort(sorted)
	if len(slices.Compact(sorted)) != len(fileIDs) {
		return Message{}, false, fmt.Errorf("store: create post: a file given twice: %w", ErrInvalid)
	}
	return b.item(ctx, func() (Message, bool, error) {
		return b.s.createPostFiles(ctx, b, roomID, userID, text, clientID, fileIDs)
	})
}

// createPostFiles stores a post holding the files fileIDs, in b's
// transaction: a retry of a post already stored (same client id) is
// that post; files that are not the user's uploads held by no post are
// ErrNotFound, and nothing is stored.
func (s *Store) createPostFiles(ctx context.Context, b *Batch, roomID, userID int64, text, clientID string, fileIDs []int64) (Message, bool, error) {
	tx := b.tx
	if m, found, err := s.findClientID(ctx, tx, roomID, userID, clientID, text); found || err != nil {
		if err == nil {
			err = stillMember(ctx, tx, roomID, userID)
		}
		return m, false, err
	}
	// The files are checked (and, on PostgreSQL, locked) before the post
	// is stored, and their names are indexed with its text.
	names, err := uploadNames(ctx, tx, userID, fileIDs)
	if err != nil {
		return Message{}, false, err
	}
	var m Message
	var created bool
	if tx.pg {
		m, created, err = s.createPostPG(ctx, b, roomID, userID, text, clientID, searchText(text, names))
	} else {
		m, created, err = s.createPost(ctx, b, roomID, userID, text, clientID)
	}
	if err != nil || !created {
		return m, created, err
	}
	if err := holdFiles(ctx, tx, &m, roomID, fileIDs); err != nil {
		return Message{}, false, err
	}
	return m, true, nil
}

// uploadNames are the names of the files fileIDs, in their order, each
// of which must be an upload of userID held by no post (ErrNotFound
// otherwise); on PostgreSQL their rows stay locked until the commit.
func uploadNames(ctx context.Context, tx *dbTx, userID int64, fileIDs []int64) ([]string, error) {
	in, args := idsIn(tx, "id", fileIDs)
	query := "SELECT id, name FROM files WHERE " + in + " AND user_id = ? AND kind = 'attachment' AND message_id IS NULL"
	if tx.pg {
		query += " FOR UPDATE"
	}
	rows, err := tx.QueryContext(ctx, query, append(args, userID)...)
	if err != nil {
		return nil, fmt.Errorf("store: create post: files: %w", err)
	}
	names := make(map[int64]string, len(fileIDs))
	for rows.Next() {
		var id int64
		var name string
		if err := rows.Scan(&id, &name); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: create post: files: %w", err)
		}
		names[id] = name
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: create post: files: %w", err)
	}
	if len(names) != len(fileIDs) {
		return nil, fmt.Errorf("store: create post: %d of %d files are no upload of user %d held by no post: %w",
			len(fileIDs)-len(names), len(fileIDs), userID, ErrNotFound)
	}
	ordered := make([]string, len(fileIDs))
	for i, id := range fileIDs {
		ordered[i] = names[id]
	}
	return ordered, nil
}

// holdFiles makes the post m hold the files fileIDs, in their order, and
// appends them to m.Files.
func holdFiles(ctx context.Context, tx *dbTx, m *Message, roomID int64, fileIDs []int64) error {
	for i, id := range fileIDs {
		var f File
		err := scanFile(tx.QueryRowContext(ctx, `UPDATE files SET message_id = ?, position = ? WHERE id = ? AND message_id IS NULL
			RETURNING `+strings.ReplaceAll(fileColumns, "f.", ""), m.ID, i, id), &f)
		if errors.Is(err, sql.ErrNoRows) {
			err = ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("store: create post: attach file %d: %w", id, err)
		}
		f.RoomID = roomID
		m.Files = append(m.Files, f)
	}
	m.hasFiles = true
	return nil
}

// searchText is what search finds a post by: its text and the names of
// its attachments.
func searchText(text string, names []string) string {
	if len(names) == 0 {
		return text
	}
	return text + " " + strings.Join(names, " ")
}

// fileNames are the names of files.
func fileNames(files []File) []string {
	names := make([]string, len(files))
	for i, f := range files {
		names[i] = f.Name
	}
	return names
}

// postSearchText is searchText in SQL, for the posts m: the same as the
// SQLite view post_search_source reads (migration 0008).
const postSearchText = `m.body || COALESCE((SELECT ' ' || group_concat(f.name, ' ') FROM files f
	WHERE f.message_id = m.id AND f.kind = 'attachment'), '')`

// attachFiles reads the attachments of the posts among msgs that have
// some (hasFiles, which the query that read them found), in order, and
// the cards of those that changed at least once (a card comes as a
// change): for most lists, no query at all.
func attachFiles(ctx context.Context, q querier, n int, msg func(i int) *Message) error {
	var ids, changed []int64
	at := make(map[int64]int)
	for i := range n {
		m := msg(i)
		if m.Kind == KindPost && !m.Deleted && (m.hasFiles || m.Rev > 0) {
			at[m.ID] = i
			if m.hasFiles {
				ids = append(ids, m.ID)
			}
			if m.Rev > 0 {
				changed = append(changed, m.ID)
			}
		}
	}
	if len(ids) == 0 && len(changed) == 0 {
		return nil
	}
	if len(ids) > 0 {
		if err := attachAttachments(ctx, q, ids, func(id int64) *Message { return msg(at[id]) }); err != nil {
			return err
		}
	}
	if len(changed) == 0 {
		return nil
	}
	return attachCards(ctx, q, changed, func(id int64) *Message { return msg(at[id]) })
}

// attachAttachments reads the attachments of the posts ids, in order, each
// into the message msg gives for it.
func attachAttachments(ctx context.Context, q querier, ids []int64, msg func(id int64) *Message) error {
	in, args := idsIn(q, "f.message_id", ids)
	rows, err := q.QueryContext(ctx, `SELECT `+fileColumns+` FROM files f WHERE `+in+` AND f.kind = 'attachment'
		ORDER BY f.message_id, f.position`, args...)
	if err != nil {
		return fmt.Errorf("store: list files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f File
		if err := scanFile(rows, &f); err != nil {
			return fmt.Errorf("store: list files: %w", err)
		}
		m := msg(f.MessageID)
		f.RoomID = m.RoomID
		m.Files = append(m.Files, f)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: list files: %w", err)
	}
	return nil
}
