// Decoders for compressed tarballs, run on a read-ahead thread (store/read_ahead.hpp): xz through
// liblzma's multi-threaded decoder, everything else through libarchive's raw format. Internal to
// libkarapace.
#pragma once

#include "store/read_ahead.hpp"

namespace karapace::store {

enum class Compression { xz, gzip, zstd, bzip2, other };

// What the first bytes of the file at `fd` say (read with pread, the offset is unchanged);
// `other` for a plain tar, an unseekable file and formats only libarchive's own detection knows.
Compression sniff_compression(int fd);

// Decodes an xz stream read from `fd` with liblzma's threaded decoder: as many threads as CPUs
// this process may use, when the file has several blocks (`xz -T` writes them).
Filler xz_decoder(int fd);

// Decodes any compression libarchive knows (gzip, zstd, bzip2, lz4...) read from `fd`.
Filler archive_decoder(int fd);

}  // namespace karapace::store
