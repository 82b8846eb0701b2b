/* demo_slot.c: template expansion: "{Patient} is a {aged} {sexw}..." → a sentence. */
#include "demo_internal.h"

#include <stdio.h>
#include <string.h>

#define SENTENCE_MAX 1024

/* ---- slot values ------------------------------------------------------------------------ */

static int age_years(const struct demo_text *t)
{
	return t->age_months / 12;
}

int demo_text_child(const struct demo_text *t)
{
	return age_years(t) < 18;
}

static const char *const v_job[] = {
	"a teacher", "an accountant", "a registered nurse", "a truck driver",
	"a software engineer", "a retail manager", "a construction worker", "an electrician",
	"a restaurant cook", "an office administrator", "a police officer", "a hairdresser",
};
static const char *const v_retired[] = {
	"a volunteer at the public library", "a part-time consultant", "a crossing guard",
};

static void s_patient(struct demo_text *t, char *out, size_t size)
{
	const struct demo_name *n = &t->rec->names[0];
	if (demo_text_child(t))
		snprintf(out, size, "%s", n->given[0]);
	else
		snprintf(out, size, "%s %s", t->female ? "Ms." : "Mr.", n->family);
}

static void s_aged(struct demo_text *t, char *out, size_t size)
{
	if (t->age_months < 24)
		snprintf(out, size, "%d-month-old", t->age_months);
	else
		snprintf(out, size, "%d-year-old", age_years(t));
}

static void s_sexw(struct demo_text *t, char *out, size_t size)
{
	if (demo_text_child(t))
		snprintf(out, size, "%s", t->female ? "girl" : "boy");
	else
		snprintf(out, size, "%s", t->female ? "woman" : "man");
}

static void s_he(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->female ? "she" : "he");
}

static void s_his(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->female ? "her" : "his");
}

static void s_him(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->female ? "her" : "him");
}

static int draw(struct demo_text *t, int lo, int hi)
{
	return (int)demo_rng_range(&t->r, lo, hi);
}

static void s_bp(struct demo_text *t, char *out, size_t size)
{
	int sys = draw(t, 100, 158);
	snprintf(out, size, "%d/%d", sys, draw(t, 58, sys * 6 / 10));
}

static void s_hr(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%d", demo_text_child(t) ? draw(t, 75, 125) : draw(t, 56, 104));
}

static void s_rr(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%d", demo_text_child(t) ? draw(t, 18, 30) : draw(t, 12, 20));
}

static void s_temp(struct demo_text *t, char *out, size_t size)
{
	int tenths = draw(t, 972, 1004);
	snprintf(out, size, "%d.%d", tenths / 10, tenths % 10);
}

static void s_spo2(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%d", draw(t, 93, 100));
}

static void s_wt(struct demo_text *t, char *out, size_t size)
{
	int tenths;
	if (t->age_months < 12)
		tenths = 35 + t->age_months * 6 + draw(t, -5, 5);
	else if (demo_text_child(t))
		tenths = (age_years(t) * 3 + 8) * 10 + draw(t, -20, 40);
	else
		tenths = draw(t, 480, 1180);
	snprintf(out, size, "%d.%d", tenths / 10, tenths % 10);
}

static void s_n(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%d", draw(t, 2, 9));
}

static void s_pain(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%d", draw(t, 2, 8));
}

static void s_year(struct demo_text *t, char *out, size_t size)
{
	int lo = t->birth_year + 1 > 1995 ? t->birth_year + 1 : 1995;
	snprintf(out, size, "%d", draw(t, lo < 2025 ? lo : 2025, 2025));
}

static void s_size(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%u", t->size_mm);
}

static void s_ef(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%u", t->ef);
}

static void s_cond(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->cond->name);
}

static void s_cond2(struct demo_text *t, char *out, size_t size)
{
	size_t n = 0, k;
	for (size_t i = 0; i < demo_condition_count; i++)
		n += demo_conditions[i].child == t->cond->child;
	k = demo_rng_below(&t->r, n);
	for (size_t i = 0; i < demo_condition_count; i++)
		if (demo_conditions[i].child == t->cond->child && k-- == 0)
			snprintf(out, size, "%s", demo_conditions[i].name);
}

static void s_cmed(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->cond->med);
}

static void s_spec(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->cond->spec);
}

static void s_sym(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->sym);
}

static void s_acute(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->acute);
}

static void s_study(struct demo_text *t, char *out, size_t size)
{
	const char *s = t->study->name;
	/* "Chest radiograph" → "chest radiograph", but "CT head" stays. */
	snprintf(out, size, "%s", s);
	if (out[0] >= 'A' && out[0] <= 'Z' && out[1] >= 'a' && out[1] <= 'z')
		out[0] = (char)(out[0] - 'A' + 'a');
}

static void s_proc(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->proc->name);
}

static void s_indication(struct demo_text *t, char *out, size_t size)
{
	snprintf(out, size, "%s", t->proc->indication);
}

static void s_job(struct demo_text *t, char *out, size_t size)
{
	int y = age_years(t);
	const char *const *v = y >= 67 ? v_retired : v_job;
	size_t n = y >= 67 ? HX_ARRAY_SIZE(v_retired) : HX_ARRAY_SIZE(v_job);

	snprintf(out, size, "%s", y < 22 ? "a student" : v[demo_rng_below(&t->r, n)]);
}

static const struct special {
	const char *name;
	void (*fn)(struct demo_text *t, char *out, size_t size);
} specials[] = {
	{"patient", s_patient}, {"aged", s_aged},   {"sexw", s_sexw},
	{"he", s_he},           {"his", s_his},     {"him", s_him},
	{"bp", s_bp},           {"hr", s_hr},       {"rr", s_rr},
	{"temp", s_temp},       {"spo2", s_spo2},   {"wt", s_wt},
	{"n", s_n},             {"pain", s_pain},   {"year", s_year},
	{"size", s_size},       {"ef", s_ef},       {"cond", s_cond},
	{"acute", s_acute},     {"study", s_study}, {"proc", s_proc},
	{"sym", s_sym},         {"cmed", s_cmed},
	{"cond2", s_cond2},   {"spec", s_spec},
	{"indication", s_indication}, {"job", s_job},
};

static void expand(struct demo_text *t, const char *tmpl, char *out, size_t size, int depth);

static void slot_value(struct demo_text *t, const char *name, size_t len, char *out, size_t size,
                       int depth)
{
	char key[32];
	int cap = name[0] >= 'A' && name[0] <= 'Z';
	const struct demo_table *tab;

	out[0] = '\0';
	if (len == 0 || len >= sizeof(key))
		return;
	memcpy(key, name, len);
	key[len] = '\0';
	if (cap)
		key[0] = (char)(key[0] - 'A' + 'a');
	for (size_t i = 0; i < HX_ARRAY_SIZE(specials); i++) {
		if (strcmp(specials[i].name, key) == 0) {
			specials[i].fn(t, out, size);
			goto done;
		}
	}
	tab = demo_slot_table(key, len, demo_text_child(t));
	if (tab != NULL) {
		const char *v = tab->v[demo_rng_below(&t->r, tab->n)];
		if (strchr(v, '{') != NULL && depth < 2)
			expand(t, v, out, size, depth + 1);
		else
			snprintf(out, size, "%s", v);
	}
done:
	if (cap && out[0] >= 'a' && out[0] <= 'z')
		out[0] = (char)(out[0] - 'a' + 'A');
}

static void expand(struct demo_text *t, const char *tmpl, char *out, size_t size, int depth)
{
	size_t o = 0;

	while (*tmpl != '\0' && o + 1 < size) {
		const char *end;
		char val[256];
		size_t n;

		if (*tmpl != '{' || (end = strchr(tmpl, '}')) == NULL) {
			out[o++] = *tmpl++;
			continue;
		}
		slot_value(t, tmpl + 1, (size_t)(end - tmpl - 1), val, sizeof(val), depth);
		n = strlen(val);
		if (n > size - 1 - o)
			n = size - 1 - o;
		memcpy(out + o, val, n);
		o += n;
		tmpl = end + 1;
	}
	out[o] = '\0';
}

void demo_text_expand(struct demo_text *t, const char *tmpl, char *out, size_t size)
{
	char alt[SENTENCE_MAX];
	const char *bar = strchr(tmpl, '|');

	if (bar != NULL) { /* "a|b|c": one of the alternatives */
		size_t n = 1, k, len;
		for (const char *c = bar; c != NULL; c = strchr(c + 1, '|'))
			n++;
		for (k = demo_rng_below(&t->r, n); k > 0; k--)
			tmpl = strchr(tmpl, '|') + 1;
		bar = strchr(tmpl, '|');
		len = bar != NULL ? (size_t)(bar - tmpl) : strlen(tmpl);
		if (len >= sizeof(alt))
			len = sizeof(alt) - 1;
		memcpy(alt, tmpl, len);
		alt[len] = '\0';
		tmpl = alt;
	}
	expand(t, tmpl, out, size, 0);
}
