// Package media says what a file is from its bytes, and makes the
// pictures the server shows. It knows nothing of HTTP or the store: the
// handlers hand it readers and writers.
//
//   - Sniff names a file's type from its head, never from its name or
//     what a client said. Anything a browser could lay out or run comes
//     out as Opaque (application/octet-stream).
//   - Pictures bounds decoding: how many at once (the others wait, as long
//     as their context lets them) and how large each, from the header
//     before anything is decoded. A picture past maxPixels pixels, or
//     whose decoder would take more than 4 bytes (bytesPerPixel) for each
//     of maxPixels (16-bit, interlaced, progressive pictures cost more a
//     pixel), is
//     ErrTooManyPixels; the bytes of one that does not parse are
//     ErrNotPicture. Either way the file is still a file.
//   - Info reads a header; Preview decodes, turns a JPEG the way its EXIF
//     orientation says, shrinks by the area each pixel covers, and encodes
//     a JPEG (opaque) or PNG (transparent) that holds only pixels.
//   - Clean copies a picture without what it says about its maker: EXIF
//     (GPS position, camera serial, time; a JPEG keeps its orientation in
//     an EXIF of its own), XMP, comments, text chunks. It streams, in
//     buffers of fixed size; a WebP is read twice when its reader can
//     seek, as its size comes first.
//
// Only a JPEG's orientation counts, and only an EXIF before its frame
// header: that is the one Clean keeps, so the full picture and its preview
// stand the same way in a browser.
package media
