/* common_log.c: stderr logging, journald-aware, with control characters escaped. */
#include "hx.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048

static const char *log_ident = "hiepeer";
static _Atomic int log_level = HX_LOG_INFO;
static int log_journal;

static const char *const level_names[] = {
	[HX_LOG_ERR] = "err",   [HX_LOG_WARNING] = "warning", [HX_LOG_NOTICE] = "notice",
	[HX_LOG_INFO] = "info", [HX_LOG_DEBUG] = "debug",
};

/* JOURNAL_STREAM is "dev:ino" of the journal socket; only trust it if it is our stderr. */
static int stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (js == NULL || sscanf(js, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void hx_log_init(const char *ident, enum hx_log_level level)
{
	if (ident != NULL)
		log_ident = ident;
	atomic_store(&log_level, (int)level);
	log_journal = stderr_is_journal();
}

void hx_log_set_level(enum hx_log_level level)
{
	atomic_store(&log_level, (int)level);
}

enum hx_log_level hx_log_get_level(void)
{
	return (enum hx_log_level)atomic_load(&log_level);
}

int hx_log_level_parse(const char *s, enum hx_log_level *out)
{
	for (int i = HX_LOG_ERR; i <= HX_LOG_DEBUG; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum hx_log_level)i;
			return HX_OK;
		}
	}
	if (strcmp(s, "error") == 0 || strcmp(s, "warn") == 0) {
		*out = s[0] == 'e' ? HX_LOG_ERR : HX_LOG_WARNING;
		return HX_OK;
	}
	return HX_EPARSE;
}

/* Copy src to dst escaping anything that is not printable ASCII. Returns bytes written. */
static size_t escape_into(char *dst, size_t size, const char *src)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)src; *p != '\0'; p++) {
		if (*p >= 0x20 && *p < 0x7f && *p != '\\') {
			if (o + 1 >= size)
				break;
			dst[o++] = (char)*p;
		} else {
			if (o + 4 >= size)
				break;
			dst[o++] = '\\';
			if (*p == '\\') {
				dst[o++] = '\\';
				continue;
			}
			dst[o++] = 'x';
			dst[o++] = hex[*p >> 4];
			dst[o++] = hex[*p & 15];
		}
	}
	dst[o] = '\0';
	return o;
}

void hx_vlog(enum hx_log_level level, const char *fmt, va_list ap)
{
	char msg[LOG_LINE_MAX], line[LOG_LINE_MAX + 128];
	size_t n;

	if ((int)level > atomic_load(&log_level))
		return;
	if (level < HX_LOG_ERR || level > HX_LOG_DEBUG)
		level = HX_LOG_ERR;
	vsnprintf(msg, sizeof(msg), fmt, ap);

	if (log_journal) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>%s: ", (int)level, log_ident);
	} else {
		char ts[32];
		hx_time_format(hx_time_now_ms(), ts, sizeof(ts));
		n = (size_t)snprintf(line, sizeof(line), "%s %s[%d] %s: ", ts, log_ident,
		                     (int)getpid(), level_names[level]);
	}
	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	n += escape_into(line + n, sizeof(line) - n - 1, msg);
	line[n++] = '\n';
	/* One write per line so that threads do not interleave. */
	ssize_t w = write(STDERR_FILENO, line, n);
	(void)w;
}

void hx_log(enum hx_log_level level, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	hx_vlog(level, fmt, ap);
	va_end(ap);
}
