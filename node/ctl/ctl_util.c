/* ctl_util.c: helpers shared by hiepeerctl's commands. */
#include "ctl.h"

#include "config.h"
#include "crypto.h"
#include "proto.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ctl_fail(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "hiepeerctl: %s\n", msg);
	return 1;
}

int ctl_store_open(struct ctl *c, int read_only)
{
	struct store_opts o = {.read_only = read_only};
	char err[STORE_ERR_MAX];
	int rc;

	if (c->store != NULL)
		return 0;
	rc = store_open(c->store_path, &o, &c->store, err, sizeof(err));
	if (rc != HX_OK)
		return ctl_fail("%s", err);
	return 0;
}

void ctl_json_print(cJSON *doc)
{
	char *s = cJSON_Print(doc);
	if (s != NULL) {
		puts(s);
		free(s);
	}
	cJSON_Delete(doc);
}

const char *ctl_actor(void)
{
	static char buf[64];
	struct passwd *pw = getpwuid(geteuid());
	if (pw != NULL && pw->pw_name != NULL)
		snprintf(buf, sizeof(buf), "%s", pw->pw_name);
	else
		snprintf(buf, sizeof(buf), "uid:%u", (unsigned)geteuid());
	return buf;
}

void ctl_time_short(int64_t ms, char *out, size_t size)
{
	char iso[32];
	if (ms == 0) {
		snprintf(out, size, "-");
		return;
	}
	hx_time_format(ms, iso, sizeof(iso));
	iso[16] = '\0'; /* YYYY-MM-DDTHH:MM */
	iso[10] = ' ';
	snprintf(out, size, "%s", iso);
}

int ctl_parse_time(const char *what, const char *s, int64_t *out)
{
	if (hx_time_parse(s, out) != HX_OK)
		return ctl_fail("%s: '%s' is not a date (YYYY-MM-DD) or time (YYYY-MM-DDThh:mm:ssZ)",
		                what, s);
	return 0;
}

int ctl_parse_u64(const char *what, const char *s, uint64_t *out)
{
	if (hx_u64_parse(s, out) != HX_OK)
		return ctl_fail("%s: '%s' is not a whole number", what, s);
	return 0;
}

void ctl_print_padded(const char *s, int width)
{
	int cols = 0;
	const char *p = s;
	/* Count code points (continuation bytes do not start a column). */
	while (*p != '\0') {
		const char *start = p++;
		while ((*p & 0xc0) == 0x80)
			p++;
		if (cols == width)
			break;
		fwrite(start, 1, (size_t)(p - start), stdout);
		cols++;
	}
	for (; cols < width; cols++)
		putchar(' ');
}

int ctl_write_private(const char *what, const char *path, const void *data, size_t len)
{
	const uint8_t *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600), e = 0;
	if (fd < 0)
		return ctl_fail("%s: cannot write %s: %s", what, path, strerror(errno));
	/* A file that was there keeps its mode through O_TRUNC: made private too, before the
	 * document goes in (a device such as /dev/stdout is left as it is). */
	struct stat sb;
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && (sb.st_mode & 077) != 0 &&
	    fchmod(fd, 0600) != 0) {
		e = errno;
		close(fd);
		return ctl_fail("%s: cannot make %s private: %s", what, path, strerror(e));
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			e = n < 0 ? errno : EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	if (e != 0)
		return ctl_fail("%s: cannot write %s: %s", what, path, strerror(e));
	return 0;
}

struct audit_arg {
	Hie__V1__AuditEvent *ev;
};

static int w_audit(struct store_txn *t, void *arg)
{
	return store_audit_append(t, arg, NULL);
}

int ctl_audit_admin(struct ctl *c, int action, const char *detail)
{
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	int rc;
	ev.time = hx_time_now_ms();
	ev.action = action;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(c->store);
	ev.actor_user = (char *)ctl_actor();
	ev.detail = (char *)detail;
	rc = store_write(c->store, w_audit, &ev);
	if (rc != HX_OK)
		return ctl_fail("cannot write the audit record: %s", hx_strerror(rc));
	return 0;
}

int ctl_user_check(const char *cmd, const char *user)
{
	if (proto_text_check(user, CTL_USER_MAX) != HX_OK)
		return ctl_fail("%s: --user: at most %d bytes of UTF-8 text without control "
		                "characters", cmd, CTL_USER_MAX);
	return 0;
}

int ctl_audit_outside(struct ctl *c, int action, int purpose, const char *user,
                      Hie__V1__DocumentEntry *const *entries, size_t n, const char *detail)
{
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	char who[16 + 64 + CTL_USER_MAX]; /* "hiepeerctl:" LOGIN (< 64) "/" USER */
	char **ids = NULL;
	int rc;
	if (n > CTL_AUDIT_DOCUMENTS_MAX)
		n = CTL_AUDIT_DOCUMENTS_MAX;
	if (n > 0 && (ids = calloc(n, sizeof(*ids))) == NULL)
		return ctl_fail("cannot write the audit record of this lookup (%s); nothing is shown",
		                hx_strerror(HX_ENOMEM));
	for (size_t i = 0; i < n; i++)
		ids[i] = entries[i]->id;
	snprintf(who, sizeof(who), "hiepeerctl:%s/%s", ctl_actor(),
	         user != NULL && user[0] != '\0' ? user : "-");
	ev.time = hx_time_now_ms();
	ev.action = action;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(c->store);
	ev.actor_user = who;
	ev.purpose = purpose;
	ev.document_ids = ids;
	ev.n_document_ids = n;
	ev.detail = (char *)detail;
	rc = store_write(c->store, w_audit, &ev);
	free(ids);
	if (rc != HX_OK)
		return ctl_fail("cannot write the audit record of this lookup (%s); nothing is shown",
		                hx_strerror(rc));
	return 0;
}

int ctl_audit_patient(struct store_txn *t, const char *patient_id, const char *detail)
{
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	char *ids[1] = {(char *)patient_id};
	ev.time = hx_time_now_ms();
	ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_PATIENT_CHANGE;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(store_txn_store(t));
	ev.actor_user = (char *)ctl_actor();
	ev.n_patient_ids = 1;
	ev.patient_ids = ids;
	ev.detail = (char *)detail;
	return store_audit_append(t, &ev, NULL);
}

static const char *enum_name(const ProtobufCEnumDescriptor *d, int v, const char *prefix)
{
	const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
	size_t n = strlen(prefix);
	if (ev == NULL)
		return "?";
	return strncmp(ev->name, prefix, n) == 0 ? ev->name + n : ev->name;
}

static cJSON *code_json(const Hie__V1__Code *code)
{
	cJSON *o;
	if (code == NULL)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "code", code->code);
	cJSON_AddStringToObject(o, "system", code->system);
	if (code->display[0] != '\0')
		cJSON_AddStringToObject(o, "display", code->display);
	return o;
}

cJSON *ctl_patient_json(const Hie__V1__Patient *p)
{
	const Hie__V1__Demographics *d = p->demographics;
	cJSON *o = cJSON_CreateObject(), *names, *ids, *addrs, *tel;
	char ts[32];

	cJSON_AddStringToObject(o, "id", p->id);
	cJSON_AddStringToObject(o, "birth_date", d->birth_date);
	cJSON_AddStringToObject(o, "sex", enum_name(&hie__v1__sex__descriptor, d->sex, "SEX_"));
	names = cJSON_AddArrayToObject(o, "names");
	for (size_t i = 0; i < d->n_names; i++) {
		cJSON *n = cJSON_CreateObject(), *g = cJSON_AddArrayToObject(n, "given");
		cJSON_AddStringToObject(n, "use", enum_name(&hie__v1__name_use__descriptor,
		                                            d->names[i]->use, "NAME_USE_"));
		cJSON_AddStringToObject(n, "family", d->names[i]->family);
		for (size_t j = 0; j < d->names[i]->n_given; j++)
			cJSON_AddItemToArray(g, cJSON_CreateString(d->names[i]->given[j]));
		cJSON_AddItemToArray(names, n);
	}
	ids = cJSON_AddArrayToObject(o, "identifiers");
	for (size_t i = 0; i < d->n_identifiers; i++) {
		cJSON *n = cJSON_CreateObject();
		cJSON_AddStringToObject(n, "system", d->identifiers[i]->system);
		cJSON_AddStringToObject(n, "value", d->identifiers[i]->value);
		cJSON_AddItemToArray(ids, n);
	}
	addrs = cJSON_AddArrayToObject(o, "addresses");
	for (size_t i = 0; i < d->n_addresses; i++) {
		const Hie__V1__Address *a = d->addresses[i];
		cJSON *n = cJSON_CreateObject(), *l = cJSON_AddArrayToObject(n, "lines");
		for (size_t j = 0; j < a->n_lines; j++)
			cJSON_AddItemToArray(l, cJSON_CreateString(a->lines[j]));
		cJSON_AddStringToObject(n, "city", a->city);
		cJSON_AddStringToObject(n, "state", a->state);
		cJSON_AddStringToObject(n, "postal_code", a->postal_code);
		cJSON_AddStringToObject(n, "country", a->country);
		cJSON_AddItemToArray(addrs, n);
	}
	tel = cJSON_AddArrayToObject(o, "telecom");
	for (size_t i = 0; i < d->n_telecom; i++)
		cJSON_AddItemToArray(tel, cJSON_CreateString(d->telecom[i]->value));
	hx_time_format(p->updated, ts, sizeof(ts));
	cJSON_AddStringToObject(o, "updated", ts);
	return o;
}

cJSON *ctl_entry_json(const Hie__V1__DocumentEntry *e)
{
	cJSON *o = cJSON_CreateObject(), *conf, *auth;
	char ts[32], hex[65];

	cJSON_AddStringToObject(o, "id", e->id);
	cJSON_AddStringToObject(o, "unique_id", e->unique_id);
	cJSON_AddStringToObject(o, "patient_id", e->patient_id);
	cJSON_AddStringToObject(o, "title", e->title);
	cJSON_AddStringToObject(o, "status", enum_name(&hie__v1__document_status__descriptor,
	                                               e->status, "DOCUMENT_STATUS_"));
	cJSON_AddItemToObject(o, "type_code", code_json(e->type_code));
	cJSON_AddItemToObject(o, "class_code", code_json(e->class_code));
	cJSON_AddItemToObject(o, "format_code", code_json(e->format_code));
	cJSON_AddItemToObject(o, "facility_type", code_json(e->facility_type));
	cJSON_AddItemToObject(o, "practice_setting", code_json(e->practice_setting));
	conf = cJSON_AddArrayToObject(o, "confidentiality");
	for (size_t i = 0; i < e->n_confidentiality; i++)
		cJSON_AddItemToArray(conf, code_json(e->confidentiality[i]));
	auth = cJSON_AddArrayToObject(o, "authors");
	for (size_t i = 0; i < e->n_authors; i++) {
		cJSON *a = cJSON_CreateObject();
		cJSON_AddStringToObject(a, "person", e->authors[i]->person);
		cJSON_AddStringToObject(a, "institution", e->authors[i]->institution);
		cJSON_AddStringToObject(a, "role", e->authors[i]->role);
		cJSON_AddStringToObject(a, "specialty", e->authors[i]->specialty);
		cJSON_AddItemToArray(auth, a);
	}
	hx_time_format(e->creation_time, ts, sizeof(ts));
	cJSON_AddStringToObject(o, "creation_time", ts);
	if (e->service_start != 0) {
		hx_time_format(e->service_start, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "service_start", ts);
	}
	if (e->service_stop != 0) {
		hx_time_format(e->service_stop, ts, sizeof(ts));
		cJSON_AddStringToObject(o, "service_stop", ts);
	}
	cJSON_AddStringToObject(o, "language", e->language);
	cJSON_AddStringToObject(o, "mime_type", e->mime_type);
	cJSON_AddNumberToObject(o, "size", (double)e->size);
	hx_hex_encode(e->sha256.data, e->sha256.len, hex);
	cJSON_AddStringToObject(o, "sha256", hex);
	cJSON_AddStringToObject(o, "origin_org", e->origin_org);
	cJSON_AddBoolToObject(o, "signed", e->origin_signature.len > 0);
	return o;
}

int ctl_signer_open(struct ctl *c, struct crypto_signer **out)
{
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	*out = NULL;
	if (c->config_path == NULL)
		return 0;
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (cfg.key[0] == '\0')
		return ctl_fail("%s sets no [tls] key to sign documents with", c->config_path);
	if (crypto_signer_new(cfg.key, out, err, sizeof(err)) != HX_OK)
		return ctl_fail("cannot sign documents: %s", err);
	return 0;
}

int ctl_sign_entry(struct crypto_signer *s, Hie__V1__DocumentEntry *e, struct hx_buf *sig)
{
	int rc;
	if (s == NULL)
		return HX_OK;
	if (e->sha256.len != 32)
		return HX_EINVAL;
	if ((rc = crypto_doc_sign(s, e->origin_org, e->id, e->sha256.data, e->size, sig)) !=
	    HX_OK)
		return rc;
	e->origin_signature.data = sig->data;
	e->origin_signature.len = sig->len;
	return HX_OK;
}
