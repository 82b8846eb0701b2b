/*
 * common/hx.h: the one error enum, logging, heap settings, bounded buffers, time and size
 * parsing.
 *
 * Everything in hiepeer includes this header. It depends on libc only.
 *
 * Conventions (see ../STYLE in ../shared/STYLE.md):
 *  - A fallible function returns int: HX_OK (0) or a negative enum hx_err value.
 *    Out-parameters are left untouched on failure.
 *  - Logs never carry PHI (names, birth dates, addresses, document text, foreign
 *    patient ids). Control characters in log arguments are escaped by hx_log().
 */
#ifndef HX_H
#define HX_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- errors ----------------------------------------------------------------------------- */

/* The one error enum. Values are stable: the wire ErrorCode is the negated value. */
enum hx_err {
	HX_OK = 0,
	HX_EINVAL = -1,     /* an argument or input value is not acceptable */
	HX_EPARSE = -2,     /* input is malformed (protobuf, id grammar, syntax) */
	HX_ENOTFOUND = -3,  /* no such record */
	HX_EEXIST = -4,     /* the record already exists */
	HX_EDENIED = -5,    /* not allowed (trust, consent, route) */
	HX_ELIMIT = -6,     /* a size or count limit was exceeded */
	HX_ESPACE = -7,     /* the store's map or the disk is full */
	HX_ENOMEM = -8,     /* out of memory */
	HX_EIO = -9,        /* an I/O error */
	HX_ECORRUPT = -10,  /* stored data is damaged, foreign or fails verification */
	HX_EVERSION = -11,  /* the store's schema is newer than this build */
	HX_ETIMEOUT = -12,  /* a deadline passed */
	HX_EPEER = -13,     /* a peer failed or answered badly */
	HX_EBUSY = -14,     /* temporarily unavailable (overload, lock held) */
	HX_ETLS = -15,      /* TLS or certificate failure */
	HX_ECONFIG = -16,   /* configuration error */
	HX_ECLOSED = -17,   /* the object is shutting down */
	HX_EPERM = -18,     /* operating-system permission denied */
	HX_EINTERNAL = -19, /* a bug: should not happen */
};
#define HX_ERR_MIN HX_EINTERNAL

/* A sentence for the error ("store map is full"); never NULL. */
const char *hx_strerror(int err);
/* The enum name without the HX_ prefix ("ESPACE"); never NULL. */
const char *hx_errname(int err);

/* ---- logging ---------------------------------------------------------------------------- */

enum hx_log_level {
	HX_LOG_ERR = 3,
	HX_LOG_WARNING = 4,
	HX_LOG_NOTICE = 5,
	HX_LOG_INFO = 6,
	HX_LOG_DEBUG = 7,
};

/*
 * Set up logging to stderr. `ident` prefixes each line (borrowed for the process lifetime).
 * Under systemd-journald (JOURNAL_STREAM set and matching stderr) lines carry the
 * syslog "<N>" priority prefix and no timestamp; otherwise an ISO-8601 UTC timestamp.
 */
void hx_log_init(const char *ident, enum hx_log_level level);
void hx_log_set_level(enum hx_log_level level);
enum hx_log_level hx_log_get_level(void);
/* Parse "err", "warning", "notice", "info", "debug". */
int hx_log_level_parse(const char *s, enum hx_log_level *out);

/* Log one line. Control characters and non-ASCII bytes are escaped (\xNN); the line is
 * cut at 2 KiB. Thread-safe: one write(2) per line. */
void hx_log(enum hx_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void hx_vlog(enum hx_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define hx_log_err(...) hx_log(HX_LOG_ERR, __VA_ARGS__)
#define hx_log_warn(...) hx_log(HX_LOG_WARNING, __VA_ARGS__)
#define hx_log_notice(...) hx_log(HX_LOG_NOTICE, __VA_ARGS__)
#define hx_log_info(...) hx_log(HX_LOG_INFO, __VA_ARGS__)
#define hx_log_debug(...) \
	do { \
		if (hx_log_get_level() >= HX_LOG_DEBUG) \
			hx_log(HX_LOG_DEBUG, __VA_ARGS__); \
	} while (0)

/* ---- the heap ---------------------------------------------------------------------------- */

/*
 * The heap settings of a long-running process, set once at start before any thread (hiepeerd;
 * the fan-out benchmark, which runs the same engine in its own process). With glibc's
 * defaults, a thread that allocates a few MiB for a round of work (libcurl's buffers for 50
 * transfers, say) and frees it gives the memory back to the kernel at once, and takes page
 * faults to grow again on the next round: about 30 a fan-out round at N = 50. Kept up to
 * HX_MALLOC_TRIM_THRESHOLD of free memory at the top of each arena instead; a block of
 * HX_MALLOC_MMAP_THRESHOLD or more (a large document) that the heap cannot hold already is
 * mapped and unmapped on its own. docs/decisions.md has the figures.
 */
#define HX_MALLOC_MMAP_THRESHOLD (1u << 20)
#define HX_MALLOC_TRIM_THRESHOLD (8u << 20)
void hx_malloc_tune(void);

/* ---- bounded buffers -------------------------------------------------------------------- */

/*
 * A growable byte buffer with a hard maximum. Appends past `max` fail with HX_ELIMIT and
 * leave the buffer unchanged. The data is always NUL-terminated (not counted in len).
 */
struct hx_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
	size_t max;
};

/* Empty buffer with maximum size `max`. No allocation until the first append. */
void hx_buf_init(struct hx_buf *b, size_t max);
/* Free the storage; the buffer is empty and reusable. The _wipe_ form zeroes it first
 * (for secrets). */
void hx_buf_clear(struct hx_buf *b);
void hx_buf_wipe_clear(struct hx_buf *b);
/* Forget the contents, keep the storage. */
void hx_buf_reset(struct hx_buf *b);
/* Make room for `n` more bytes: HX_ELIMIT past max, HX_ENOMEM. */
int hx_buf_reserve(struct hx_buf *b, size_t n);
int hx_buf_append(struct hx_buf *b, const void *p, size_t n);
int hx_buf_puts(struct hx_buf *b, const char *s);
int hx_buf_printf(struct hx_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Hand the storage to the caller (who frees it); the buffer is left empty. */
uint8_t *hx_buf_steal(struct hx_buf *b, size_t *len);

/* Copy `src` into dst[size] with truncation; returns strlen(src) like strlcpy. */
size_t hx_strlcpy(char *dst, const char *src, size_t size);
/* The same for UTF-8 text: a cut never ends inside a character (a cut one is left out
 * whole), so valid UTF-8 stays valid. Returns strlen(src). */
size_t hx_strlcpy_utf8(char *dst, const char *src, size_t size);

/* A hash of n bytes for small in-memory hash tables (not against an adversary's keys, and
 * never stored: it may change between versions). Eight bytes at a time, each mixed in by a
 * multiply, with a final avalanche so that the low bits (a table's index) depend on all. */
static inline uint32_t hx_hash_mem(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint64_t h = 0x9e3779b97f4a7c15ull ^ n, w;
	for (; n >= 8; b += 8, n -= 8) {
		memcpy(&w, b, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
		h ^= h >> 32;
	}
	if (n > 0) {
		w = 0;
		for (size_t i = 0; i < n; i++)
			w |= (uint64_t)b[i] << (8 * i);
		h = (h ^ w) * 0xff51afd7ed558ccdull;
	}
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 29;
	return (uint32_t)h;
}

/* The same hash of a string: hx_hash_str(s) == hx_hash_mem(s, strlen(s)). */
static inline uint32_t hx_hash_str(const char *s)
{
	return hx_hash_mem(s, strlen(s));
}

/* Lowercase hex of n bytes into out (2n+1 bytes). */
void hx_hex_encode(const uint8_t *p, size_t n, char *out);
/* Parse exactly 2n hex digits into out[n]; HX_EPARSE otherwise. */
int hx_hex_decode(const char *s, uint8_t *out, size_t n);

/* ---- time and size ---------------------------------------------------------------------- */

/* Wall clock, Unix milliseconds. */
int64_t hx_time_now_ms(void);
/* Monotonic clock, milliseconds and nanoseconds. */
int64_t hx_time_mono_ms(void);
int64_t hx_time_mono_ns(void);

/* "2024-03-05T14:07:09Z" (or with .mmm when ms is not whole); out needs 32 bytes. */
void hx_time_format(int64_t unix_ms, char *out, size_t size);
/* Parse "YYYY-MM-DD", "YYYY-MM-DDThh:mm[:ss[.fff]](Z|±hh:mm)" to Unix ms. HX_EPARSE. */
int hx_time_parse(const char *s, int64_t *unix_ms);

/* A calendar date "YYYY-MM-DD" (1850 <= YYYY <= 2200, a real day): HX_OK or HX_EPARSE. */
int hx_date_check(const char *s);
/* A birth date: a calendar date (hx_date_check: HX_EPARSE otherwise) that is not after the
 * day of now_ms (UTC) plus one, for time zones ahead of UTC (HX_EINVAL: born in the future). */
int hx_birth_date_check(const char *s, int64_t now_ms);
/* Days since 1970-01-01 for a valid date. */
int hx_date_to_days(int y, int m, int d, int64_t *days);
/* Civil date from days since 1970-01-01. */
void hx_days_to_date(int64_t days, int *y, int *m, int *d);

/* "64", "64K", "10M", "2G", "1T" (also KiB/MiB/GiB/TiB, KB/MB/GB: all powers of 1024) to
 * bytes. HX_EPARSE on syntax, HX_ELIMIT on overflow. */
int hx_size_parse(const char *s, uint64_t *out);
/* "500ms", "2s", "1m", "1h", "3d", or a bare number of seconds, to milliseconds. */
int hx_duration_parse(const char *s, uint64_t *out_ms);
/* Human size "1.5 MiB"; out needs 16 bytes. */
void hx_size_format(uint64_t bytes, char *out, size_t size);

/* Parse a whole decimal uint64 (no sign, no spaces). HX_EPARSE / HX_ELIMIT. */
int hx_u64_parse(const char *s, uint64_t *out);

#define HX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif /* HX_H */
