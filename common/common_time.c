/* common_time.c: clocks, ISO-8601 times, calendar dates, sizes and durations. */
#include "hx.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t hx_time_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t hx_time_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t hx_time_mono_ms(void)
{
	return hx_time_mono_ns() / 1000000;
}

/* Howard Hinnant's days_from_civil / civil_from_days (public domain algorithms). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

void hx_days_to_date(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t yy = (int64_t)yoe + era * 400;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153;
	unsigned dd = doy - (153 * mp + 2) / 5 + 1;
	unsigned mm = mp < 10 ? mp + 3 : mp - 9;
	*y = (int)(yy + (mm <= 2));
	*m = (int)mm;
	*d = (int)dd;
}

static int days_in_month(int y, int m)
{
	static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

int hx_date_to_days(int y, int m, int d, int64_t *days)
{
	if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return HX_EPARSE;
	*days = days_from_civil(y, (unsigned)m, (unsigned)d);
	return HX_OK;
}

/* Read exactly n digits. */
static int digits(const char **pp, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)(*pp)[i]))
			return -1;
		v = v * 10 + ((*pp)[i] - '0');
	}
	*pp += n;
	*out = v;
	return 0;
}

static int parse_date(const char **pp, int *y, int *m, int *d)
{
	const char *p = *pp;
	if (digits(&p, 4, y) || *p++ != '-' || digits(&p, 2, m) || *p++ != '-' || digits(&p, 2, d))
		return HX_EPARSE;
	*pp = p;
	return HX_OK;
}

/* A whole "YYYY-MM-DD" of a real day from 1850 to 2200, as days since 1970-01-01. */
static int date_days(const char *s, int64_t *days)
{
	int y, m, d;
	if (parse_date(&s, &y, &m, &d) != HX_OK || *s != '\0')
		return HX_EPARSE;
	if (y < 1850 || y > 2200)
		return HX_EPARSE;
	return hx_date_to_days(y, m, d, days);
}

int hx_date_check(const char *s)
{
	int64_t days;
	return date_days(s, &days);
}

int hx_birth_date_check(const char *s, int64_t now_ms)
{
	int64_t days;
	if (date_days(s, &days) != HX_OK)
		return HX_EPARSE;
	return days > now_ms / 86400000 + 1 ? HX_EINVAL : HX_OK;
}

int hx_time_parse(const char *s, int64_t *unix_ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, ms = 0, tzs = 0;
	int64_t days;
	const char *p = s;

	if (parse_date(&p, &y, &mo, &d) != HX_OK || hx_date_to_days(y, mo, d, &days) != HX_OK)
		return HX_EPARSE;
	if (*p == 'T') {
		p++;
		if (digits(&p, 2, &h) || *p++ != ':' || digits(&p, 2, &mi))
			return HX_EPARSE;
		if (*p == ':') {
			p++;
			if (digits(&p, 2, &sec))
				return HX_EPARSE;
			if (*p == '.') {
				int n = 0, frac = 0;
				p++;
				while (isdigit((unsigned char)*p)) {
					if (n < 3)
						frac = frac * 10 + (*p - '0');
					n++;
					p++;
				}
				if (n == 0 || n > 9)
					return HX_EPARSE;
				for (; n < 3; n++)
					frac *= 10;
				ms = frac;
			}
		}
		if (h > 23 || mi > 59 || sec > 60)
			return HX_EPARSE;
		if (*p == 'Z') {
			p++;
		} else if (*p == '+' || *p == '-') {
			int th, tm, sign = *p == '-' ? -1 : 1;
			p++;
			if (digits(&p, 2, &th) || *p++ != ':' || digits(&p, 2, &tm) || th > 23 || tm > 59)
				return HX_EPARSE;
			tzs = sign * (th * 3600 + tm * 60);
		} else {
			return HX_EPARSE;
		}
	}
	if (*p != '\0')
		return HX_EPARSE;
	*unix_ms = ((days * 86400 + h * 3600 + mi * 60 + sec) - tzs) * 1000 + ms;
	return HX_OK;
}

void hx_time_format(int64_t unix_ms, char *out, size_t size)
{
	int64_t secs = unix_ms >= 0 ? unix_ms / 1000 : (unix_ms - 999) / 1000;
	int ms = (int)(unix_ms - secs * 1000);
	int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
	int64_t rem = secs - days * 86400;
	int y, m, d;

	hx_days_to_date(days, &y, &m, &d);
	if (ms != 0)
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d, (int)(rem / 3600),
		         (int)(rem / 60 % 60), (int)(rem % 60), ms);
	else
		snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, (int)(rem / 3600),
		         (int)(rem / 60 % 60), (int)(rem % 60));
}

int hx_u64_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	if (*s == '\0')
		return HX_EPARSE;
	for (; *s != '\0'; s++) {
		if (!isdigit((unsigned char)*s))
			return HX_EPARSE;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return HX_ELIMIT;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*out = v;
	return HX_OK;
}

/* Split "123abc" into number and unit; the number part must be digits only. */
static int split_num(const char *s, uint64_t *num, const char **unit)
{
	char digits_buf[24];
	size_t n = 0;
	while (isdigit((unsigned char)s[n]))
		n++;
	if (n == 0 || n >= sizeof(digits_buf))
		return n == 0 ? HX_EPARSE : HX_ELIMIT;
	memcpy(digits_buf, s, n);
	digits_buf[n] = '\0';
	*unit = s + n;
	return hx_u64_parse(digits_buf, num);
}

static int mul_check(uint64_t v, uint64_t mul, uint64_t *out)
{
	if (mul != 0 && v > UINT64_MAX / mul)
		return HX_ELIMIT;
	*out = v * mul;
	return HX_OK;
}

int hx_size_parse(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{"", 1},
		{"B", 1},
		{"K", 1ULL << 10},
		{"KB", 1ULL << 10},
		{"KiB", 1ULL << 10},
		{"M", 1ULL << 20},
		{"MB", 1ULL << 20},
		{"MiB", 1ULL << 20},
		{"G", 1ULL << 30},
		{"GB", 1ULL << 30},
		{"GiB", 1ULL << 30},
		{"T", 1ULL << 40},
		{"TB", 1ULL << 40},
		{"TiB", 1ULL << 40},
	};
	uint64_t v;
	const char *unit;
	int rc = split_num(s, &v, &unit);
	if (rc != HX_OK)
		return rc;
	for (size_t i = 0; i < HX_ARRAY_SIZE(units); i++)
		if (strcmp(unit, units[i].unit) == 0)
			return mul_check(v, units[i].mul, out);
	return HX_EPARSE;
}

int hx_duration_parse(const char *s, uint64_t *out_ms)
{
	static const struct {
		const char *unit;
		uint64_t mul;
	} units[] = {
		{"", 1000}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000},
	};
	uint64_t v;
	const char *unit;
	int rc = split_num(s, &v, &unit);
	if (rc != HX_OK)
		return rc;
	for (size_t i = 0; i < HX_ARRAY_SIZE(units); i++)
		if (strcmp(unit, units[i].unit) == 0)
			return mul_check(v, units[i].mul, out_ms);
	return HX_EPARSE;
}

void hx_size_format(uint64_t bytes, char *out, size_t size)
{
	static const char *const names[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)bytes;
	size_t i = 0;
	while (v >= 1024 && i + 1 < HX_ARRAY_SIZE(names)) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(out, size, "%llu B", (unsigned long long)bytes);
	else
		snprintf(out, size, "%.1f %s", v, names[i]);
}
