/* demo_text.c: sections and padding, written as XML or wrapped plain text. */
#include "demo_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define WRAP 78
#define SENTENCE_MAX 1024
#define LIST_MAX 8

/* ---- output ----------------------------------------------------------------------------- */

static void put_n(struct demo_text *t, const char *s, size_t n)
{
	if (t->rc != HX_OK)
		return;
	t->rc = hx_buf_append(t->b, s, n);
	for (size_t i = 0; i < n; i++)
		t->col = s[i] == '\n' ? 0 : t->col + 1;
}

void demo_text_put(struct demo_text *t, const char *s)
{
	put_n(t, s, strlen(s));
}

void demo_text_putf(struct demo_text *t, const char *fmt, ...)
{
	char tmp[SENTENCE_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp)) {
		if (t->rc == HX_OK)
			t->rc = HX_EINTERNAL;
		return;
	}
	put_n(t, tmp, (size_t)n);
}

static const char *xml_entity(char c)
{
	switch (c) {
	case '&':
		return "&amp;";
	case '<':
		return "&lt;";
	case '>':
		return "&gt;";
	case '"':
		return "&quot;";
	case '\'':
		return "&apos;";
	default:
		return NULL;
	}
}

void demo_text_esc(struct demo_text *t, const char *s)
{
	const char *run = s;

	if (!t->xml) {
		demo_text_put(t, s);
		return;
	}
	for (; *s != '\0'; s++) {
		const char *e = xml_entity(*s);
		if (e == NULL)
			continue;
		put_n(t, run, (size_t)(s - run));
		demo_text_put(t, e);
		run = s + 1;
	}
	put_n(t, run, (size_t)(s - run));
}

/* Bytes demo_text_esc() would write. */
static size_t esc_len(const struct demo_text *t, const char *s)
{
	size_t n = 0;
	for (; *s != '\0'; s++) {
		const char *e = t->xml ? xml_entity(*s) : NULL;
		n += e != NULL ? strlen(e) : 1;
	}
	return n;
}

/* Plain text: append s word by word, wrapping at WRAP columns with `indent` spaces.
 * XML: escape s, after a space when the paragraph already has text. */
static void put_words(struct demo_text *t, const char *s, unsigned indent, int first)
{
	if (t->xml) {
		if (!first)
			demo_text_put(t, " ");
		demo_text_esc(t, s);
		return;
	}
	while (*s != '\0') {
		size_t w = strcspn(s, " ");
		if (w > 0) {
			if (t->col > indent && t->col + 1 + w > WRAP) {
				demo_text_put(t, "\n");
				for (unsigned i = 0; i < indent; i++)
					demo_text_put(t, " ");
			} else if (t->col > indent) {
				demo_text_put(t, " ");
			}
			put_n(t, s, w);
		}
		s += w;
		s += *s == ' ';
	}
}

static int draw(struct demo_text *t, int lo, int hi)
{
	return (int)demo_rng_range(&t->r, lo, hi);
}

/* ---- sections --------------------------------------------------------------------------- */

/* Up to `n` distinct indexes of first..count-1 into idx (a partial shuffle). */
static size_t pick_distinct(struct demo_text *t, size_t first, size_t count, size_t n,
                            size_t *idx)
{
	size_t all[64], m = 0;
	for (size_t i = first; i < count && m < HX_ARRAY_SIZE(all); i++)
		all[m++] = i;
	if (n > m)
		n = m;
	for (size_t i = 0; i < n; i++) {
		size_t j = i + demo_rng_below(&t->r, m - i), tmp = all[i];
		all[i] = all[j];
		all[j] = tmp;
		idx[i] = all[i];
	}
	return n;
}

/* k templates of a section: its lead ones first, then distinct draws (in table order when
 * the section is ordered); with fewer templates than k, draws repeat. */
static size_t pick_templates(struct demo_text *t, const struct demo_section *s, size_t count,
                             unsigned k, size_t *idx, size_t max)
{
	size_t lead = s->lead < count ? s->lead : count, n = 0;

	if (k > max)
		k = (unsigned)max;
	for (n = 0; n < lead && n < k; n++)
		idx[n] = n;
	if (count < k) {
		for (; n < k; n++)
			idx[n] = demo_rng_below(&t->r, count);
		return n;
	}
	n += pick_distinct(t, lead, count, k - n, idx + n);
	if (s->ordered) { /* insertion sort: n is small */
		for (size_t i = 1; i < n; i++)
			for (size_t j = i; j > 0 && idx[j - 1] > idx[j]; j--) {
				size_t tmp = idx[j];
				idx[j] = idx[j - 1];
				idx[j - 1] = tmp;
			}
	}
	return n;
}

static void para_open(struct demo_text *t)
{
	if (t->xml)
		demo_text_put(t, "<paragraph>");
}

static void para_close(struct demo_text *t)
{
	demo_text_put(t, t->xml ? "</paragraph>\n" : "\n");
}

static void body_text(struct demo_text *t, const struct demo_section *sec,
                      const char *const *tmpl, size_t count, unsigned k)
{
	size_t idx[16], n = pick_templates(t, sec, count, k, idx, HX_ARRAY_SIZE(idx));
	char s[SENTENCE_MAX];

	para_open(t);
	for (size_t i = 0; i < n; i++) {
		demo_text_expand(t, tmpl[idx[i]], s, sizeof(s));
		put_words(t, s, 0, i == 0);
	}
	para_close(t);
}

/* List items; values stay distinct when a template is drawn again ("{Med}"). */
static void body_list(struct demo_text *t, const struct demo_section *sec,
                      const char *const *tmpl, size_t count, unsigned k)
{
	char items[LIST_MAX][160];
	size_t idx[LIST_MAX], m = pick_templates(t, sec, count, k, idx, LIST_MAX), n = 0;

	demo_text_put(t, t->xml ? "<list>\n" : "");
	for (size_t i = 0; i < m; i++) {
		size_t j;
		demo_text_expand(t, tmpl[idx[i]], items[n], sizeof(items[n]));
		for (j = 0; j < n && strcmp(items[j], items[n]) != 0; j++)
			;
		if (j < n)
			continue;
		if (t->xml) {
			demo_text_put(t, "<item>");
			demo_text_esc(t, items[n]);
			demo_text_put(t, "</item>\n");
		} else {
			demo_text_put(t, "- ");
			put_words(t, items[n], 2, 1);
			demo_text_put(t, "\n");
		}
		n++;
	}
	demo_text_put(t, t->xml ? "</list>\n" : "");
}

/* v scaled by 10^dec (0..2) as a decimal: 35, 1 → "3.5". */
static void fixed_format(int v, int dec, char *out, size_t size)
{
	if (dec == 1)
		snprintf(out, size, "%d.%d", v / 10, v % 10);
	else if (dec == 2)
		snprintf(out, size, "%d.%02d", v / 100, v % 100);
	else
		snprintf(out, size, "%d", v);
}

static void lab_value(struct demo_text *t, const struct demo_lab *l, char *out, size_t size,
                      const char **flag)
{
	int span = l->hi - l->lo, v;

	*flag = "";
	if (demo_rng_chance(&t->r, 0.8)) {
		v = draw(t, l->lo, l->hi);
	} else if (demo_rng_chance(&t->r, 0.6)) {
		v = l->hi + 1 + draw(t, 0, span / 2 + 1);
		*flag = "H";
	} else {
		v = l->lo - 1 - draw(t, 0, span / 4 + 1);
		if (v < 0)
			v = 0;
		*flag = "L";
	}
	fixed_format(v, l->dec, out, size);
}

static void lab_range(const struct demo_lab *l, char *out, size_t size)
{
	char lo[16], hi[16];
	fixed_format(l->lo, l->dec, lo, sizeof(lo));
	fixed_format(l->hi, l->dec, hi, sizeof(hi));
	snprintf(out, size, "%s-%s", lo, hi);
}

#define LAB_ROW "  %-22s %-8s %-4s %-9s %s\n"
static const char lab_thead[] = "<table border=\"1\" width=\"100%\">\n<thead><tr><th>Test</th>"
                                "<th>Result</th><th>Flag</th><th>Units</th>"
                                "<th>Reference range</th></tr></thead>\n<tbody>\n";

static void body_labs(struct demo_text *t, unsigned k)
{
	size_t idx[8], n = pick_distinct(t, 0, demo_lab_panel_count, k, idx);

	for (size_t p = 0; p < n; p++) {
		const char *panel = demo_lab_panels[idx[p]];
		if (t->xml) {
			demo_text_putf(t, "<paragraph>%s</paragraph>\n", panel);
			demo_text_put(t, lab_thead);
		} else {
			demo_text_putf(t, "%s\n" LAB_ROW, panel, "Test", "Result", "Flag", "Units",
			               "Reference range");
		}
		for (size_t i = 0; i < demo_lab_count; i++) {
			const struct demo_lab *l = &demo_labs[i];
			const char *flag;
			char v[32], range[48];
			if (l->panel != idx[p])
				continue;
			lab_value(t, l, v, sizeof(v), &flag);
			lab_range(l, range, sizeof(range));
			if (t->xml)
				demo_text_putf(t, "<tr><td>%s</td><td>%s</td><td>%s</td><td>%s</td>"
				                  "<td>%s</td></tr>\n",
				               l->name, v, flag, l->unit, range);
			else
				demo_text_putf(t, LAB_ROW, l->name, v, flag, l->unit, range);
		}
		demo_text_put(t, t->xml ? "</tbody>\n</table>\n" : "");
	}
}

static void body_fixed(struct demo_text *t, const char *const *sentences, size_t n)
{
	char s[SENTENCE_MAX];

	para_open(t);
	for (size_t i = 0; i < n && sentences[i] != NULL; i++) {
		demo_text_expand(t, sentences[i], s, sizeof(s));
		put_words(t, s, 0, i == 0);
	}
	para_close(t);
}

void demo_text_section_body(struct demo_text *t, const struct demo_section *s)
{
	const char *const *tmpl = s->templates;
	size_t count = s->n_templates;
	unsigned k = (unsigned)demo_rng_range(&t->r, s->min, s->max);

	if (s->child != NULL && demo_text_child(t)) {
		tmpl = s->child;
		count = s->n_child;
	}
	switch (s->gen) {
	case DEMO_GEN_TEXT:
		body_text(t, s, tmpl, count, k);
		break;
	case DEMO_GEN_LIST:
		body_list(t, s, tmpl, count, k);
		break;
	case DEMO_GEN_LABS:
		body_labs(t, k);
		break;
	case DEMO_GEN_FINDINGS:
		body_fixed(t, t->study->findings, HX_ARRAY_SIZE(t->study->findings));
		break;
	case DEMO_GEN_IMPRESSION:
		body_fixed(t, &t->study->impression, 1);
		break;
	case DEMO_GEN_PROC_FINDINGS:
		body_fixed(t, &t->proc->finding, 1);
		break;
	default:
		break;
	}
}

/* ---- padding ---------------------------------------------------------------------------- */

void demo_text_pad(struct demo_text *t, size_t target, size_t reserve)
{
	const char *open = t->xml ? "<component>\n<section>\n<title>Additional notes</title>\n"
	                            "<text>\n"
	                          : "\nADDITIONAL NOTES\n";
	const char *close = t->xml ? "</text>\n</section>\n</component>\n" : "";
	const char *p_open = t->xml ? "<paragraph>" : "";
	const char *p_close = t->xml ? "</paragraph>\n" : "\n";
	const struct demo_section *pad = &demo_padding;
	size_t fixed = strlen(close) + strlen(p_close) + reserve;
	char s[SENTENCE_MAX];
	unsigned in_para = 0;
	size_t recent[4] = {SIZE_MAX, SIZE_MAX, SIZE_MAX, SIZE_MAX}, turn = 0;

	if (t->b->len + strlen(open) + strlen(p_open) + fixed + 200 > target)
		return;
	demo_text_put(t, open);
	demo_text_put(t, p_open);
	while (t->rc == HX_OK) {
		size_t need, i = demo_rng_below(&t->r, pad->n_templates);
		/* Not one of the last four sentences again. */
		while (i == recent[0] || i == recent[1] || i == recent[2] || i == recent[3])
			i = (i + 1) % pad->n_templates;
		recent[turn++ % 4] = i;
		demo_text_expand(t, pad->templates[i], s, sizeof(s));
		need = esc_len(t, s) + 1;
		if (in_para == 6) /* a new paragraph */
			need += strlen(p_close) + strlen(p_open) + (t->xml ? 0 : 1);
		if (t->b->len + need + fixed > target)
			break;
		if (in_para == 6) {
			demo_text_put(t, p_close);
			if (!t->xml)
				demo_text_put(t, "\n");
			demo_text_put(t, p_open);
			in_para = 0;
		}
		put_words(t, s, 0, in_para == 0);
		in_para++;
	}
	demo_text_put(t, p_close);
	demo_text_put(t, close);
}
