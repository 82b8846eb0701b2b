/* common_buf.c: bounded growable buffers and small string helpers. */
#include "hx.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hx_buf_init(struct hx_buf *b, size_t max)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void hx_buf_clear(struct hx_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void hx_buf_wipe_clear(struct hx_buf *b)
{
	if (b->data != NULL) {
		volatile uint8_t *p = b->data;
		for (size_t i = 0; i < b->cap; i++)
			p[i] = 0;
	}
	hx_buf_clear(b);
}

void hx_buf_reset(struct hx_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

int hx_buf_reserve(struct hx_buf *b, size_t n)
{
	size_t need, cap;
	uint8_t *p;

	/* len + n + 1 must not wrap, even when max is SIZE_MAX ("no limit"). */
	if (n > b->max || b->len > b->max - n || b->len + n == SIZE_MAX)
		return HX_ELIMIT;
	need = b->len + n + 1; /* room for the terminating NUL */
	if (need <= b->cap)
		return HX_OK;
	cap = b->cap != 0 ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	if (cap - 1 > b->max) /* not cap > max + 1: that wraps to 0 for SIZE_MAX */
		cap = b->max + 1;
	p = realloc(b->data, cap);
	if (p == NULL)
		return HX_ENOMEM;
	b->data = p;
	b->cap = cap;
	return HX_OK;
}

int hx_buf_append(struct hx_buf *b, const void *p, size_t n)
{
	int rc = hx_buf_reserve(b, n);
	if (rc != HX_OK)
		return rc;
	if (n != 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return HX_OK;
}

int hx_buf_puts(struct hx_buf *b, const char *s)
{
	return hx_buf_append(b, s, strlen(s));
}

int hx_buf_printf(struct hx_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n, rc;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return HX_EINVAL;
	rc = hx_buf_reserve(b, (size_t)n);
	if (rc != HX_OK)
		return rc;
	va_start(ap, fmt);
	vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return HX_OK;
}

uint8_t *hx_buf_steal(struct hx_buf *b, size_t *len)
{
	uint8_t *p = b->data;
	if (len != NULL)
		*len = b->len;
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
	return p;
}

size_t hx_strlcpy(char *dst, const char *src, size_t size)
{
	size_t n = strlen(src);
	if (size != 0) {
		size_t c = n < size - 1 ? n : size - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

size_t hx_strlcpy_utf8(char *dst, const char *src, size_t size)
{
	size_t n = hx_strlcpy(dst, src, size);
	if (size != 0 && n >= size) { /* cut: back off over a character the cut split */
		size_t c = size - 1;
		while (c > 0 && ((unsigned char)src[c] & 0xC0) == 0x80)
			c--;
		dst[c] = '\0';
	}
	return n;
}

void hx_hex_encode(const uint8_t *p, size_t n, char *out)
{
	static const char hex[] = "0123456789abcdef";
	for (size_t i = 0; i < n; i++) {
		out[2 * i] = hex[p[i] >> 4];
		out[2 * i + 1] = hex[p[i] & 15];
	}
	out[2 * n] = '\0';
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hx_hex_decode(const char *s, uint8_t *out, size_t n)
{
	uint8_t tmp[256];
	if (n > sizeof(tmp) || strlen(s) != 2 * n)
		return HX_EPARSE;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return HX_EPARSE;
		tmp[i] = (uint8_t)(hi << 4 | lo);
	}
	memcpy(out, tmp, n);
	return HX_OK;
}
