#ifndef BACKPROP_CZLIB_SHIM_H
#define BACKPROP_CZLIB_SHIM_H

// The system zlib, for Backprop's gzip reading. zlib's init functions are macros (they pass the
// library version and the stream's size, so that a mismatched header is caught); Swift cannot
// call a macro, so these inline functions do.

#include <zlib.h>

/// inflateInit2 for a gzip stream (RFC 1952 header and trailer, CRC-32 and length checked).
static inline int bp_inflate_init_gzip(z_stream *stream) {
  return inflateInit2(stream, 15 + 16);
}

/// inflateInit2 for a raw DEFLATE stream, as a zip archive stores an entry (no header, no
/// trailer: the archive's directory holds the CRC-32 and sizes).
static inline int bp_inflate_init_raw(z_stream *stream) {
  return inflateInit2(stream, -15);
}

#endif
