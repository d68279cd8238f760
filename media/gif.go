package media

import (
	"bufio"
	"fmt"
	"io"
)

var errGIF = fmt.Errorf("%w: malformed GIF", ErrNotPicture)

func gifErr(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errGIF}, args...)...)
}

// walkGIF copies a GIF's blocks to w without its comments and without
// application extensions other than NETSCAPE2.0 (the one that says how
// often an animation loops); unknown extensions go too. With firstOnly it
// stops after the first image, ends the copy there, and drops every
// extension but the graphic control one (which says which colour is
// transparent): a GIF of that frame alone. Nothing after the trailer is
// copied.
func walkGIF(r io.Reader, w io.Writer, firstOnly bool) error {
	br := bufio.NewReaderSize(r, 64<<10)
	out := bufio.NewWriterSize(w, 64<<10)
	if err := gifScreen(br, out); err != nil {
		return err
	}
	var buf [256]byte
	for {
		b, err := br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		switch b {
		case 0x3b: // trailer
			out.WriteByte(0x3b)
			return out.Flush()
		case 0x2c:
			if err := gifImage(br, out, buf[:]); err != nil {
				return err
			}
			if firstOnly {
				out.WriteByte(0x3b)
				return out.Flush()
			}
		case 0x21:
			if err := gifExtension(br, out, buf[:], firstOnly); err != nil {
				return err
			}
		default:
			return gifErr("block 0x%02x", b)
		}
	}
}

// gifScreen copies a GIF's header (signature and logical screen) and its
// global colour table, if it has one.
func gifScreen(br *bufio.Reader, out *bufio.Writer) error {
	var head [13]byte
	if _, err := io.ReadFull(br, head[:]); err != nil {
		return unexpected(err)
	}
	if s := string(head[:6]); s != "GIF87a" && s != "GIF89a" {
		return gifErr("no signature")
	}
	out.Write(head[:])
	if head[10]&0x80 != 0 {
		return copyN(out, br, 3<<(head[10]&7+1))
	}
	return nil
}

// gifImage copies an image, whose 0x2c br has just given: its
// descriptor, its local colour table and its LZW data.
func gifImage(br *bufio.Reader, out *bufio.Writer, buf []byte) error {
	var d [9]byte
	if _, err := io.ReadFull(br, d[:]); err != nil {
		return unexpected(err)
	}
	out.WriteByte(0x2c)
	out.Write(d[:])
	if d[8]&0x80 != 0 {
		if err := copyN(out, br, 3<<(d[8]&7+1)); err != nil {
			return err
		}
	}
	if err := copyN(out, br, 1); err != nil { // LZW code size
		return err
	}
	return gifBlocks(br, out, buf)
}

// gifExtension copies or drops an extension, whose 0x21 br has just
// given, by walkGIF's rules: graphic control ones are kept, plain text
// and NETSCAPE2.0 ones unless firstOnly, and no other.
func gifExtension(br *bufio.Reader, out *bufio.Writer, buf []byte, firstOnly bool) error {
	label, err := br.ReadByte()
	if err != nil {
		return unexpected(err)
	}
	keep := label == 0xf9 || label == 0x01 && !firstOnly
	if label == 0xff && !firstOnly {
		// The application's name and code are the first block.
		n, err := br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			return unexpected(err)
		}
		if n == 11 && string(buf[:11]) == "NETSCAPE2.0" {
			out.Write([]byte{0x21, 0xff, 11})
			out.Write(buf[:11])
			return gifBlocks(br, out, buf)
		}
		if n == 0 {
			return nil // the extension ended with its name
		}
	} else if keep {
		out.Write([]byte{0x21, label})
	}
	var dst io.Writer = io.Discard
	if keep {
		dst = out
	}
	return gifBlocks(br, dst, buf)
}

// gifBlocks copies data sub-blocks up to and with their terminator.
func gifBlocks(br *bufio.Reader, w io.Writer, buf []byte) error {
	for {
		n, err := br.ReadByte()
		if err != nil {
			return unexpected(err)
		}
		buf[0] = n
		if _, err := io.ReadFull(br, buf[1:1+int(n)]); err != nil {
			return unexpected(err)
		}
		w.Write(buf[:1+int(n)])
		if n == 0 {
			return nil
		}
	}
}

func copyN(w io.Writer, r io.Reader, n int64) error {
	if _, err := io.CopyN(w, r, n); err != nil {
		return unexpected(err)
	}
	return nil
}
