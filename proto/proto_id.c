/* proto_id.c: the grammars of organisation, document and local patient ids. */
#include "proto.h"

#include <string.h>

int proto_id_org_check(const char *s)
{
	size_t len = strlen(s), arcs = 0, arc_len = 0;

	if (len < 3 || len > PROTO_ORG_ID_MAX || (s[0] != '0' && s[0] != '1' && s[0] != '2'))
		return HX_EPARSE;
	for (size_t i = 0; i <= len; i++) {
		char c = s[i];
		if (c == '.' || c == '\0') {
			if (arc_len == 0 || arc_len > 20)
				return HX_EPARSE;
			/* No leading zeros: "0" alone is fine, "01" is not. */
			if (arc_len > 1 && s[i - arc_len] == '0')
				return HX_EPARSE;
			arcs++;
			arc_len = 0;
		} else if (c >= '0' && c <= '9') {
			arc_len++;
		} else {
			return HX_EPARSE;
		}
	}
	/* First arc is a single digit 0..2 (checked above via s[0] and arc length). */
	if (arcs < 2 || s[1] != '.')
		return HX_EPARSE;
	return HX_OK;
}

int proto_id_doc_check(const char *s)
{
	size_t i;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= PROTO_DOC_ID_LEN)
			return HX_EPARSE;
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return HX_EPARSE;
	}
	return i == PROTO_DOC_ID_LEN ? HX_OK : HX_EPARSE;
}

static int is_alnum(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

int proto_id_patient_check(const char *s)
{
	size_t i;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= PROTO_PATIENT_ID_MAX)
			return HX_EPARSE;
		if (is_alnum(c))
			continue;
		if (c != '.' && c != '_' && c != '-')
			return HX_EPARSE;
		if (i == 0 || (c == '.' && s[i + 1] == '.'))
			return HX_EPARSE;
	}
	if (i == 0 || !is_alnum(s[i - 1]))
		return HX_EPARSE;
	return HX_OK;
}

int proto_id_client_check(const char *s)
{
	size_t i;
	if (s == NULL || !is_alnum(s[0]))
		return HX_EPARSE;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		if (i >= 48 || (!is_alnum(c) && c != '.' && c != '_' && c != '-'))
			return HX_EPARSE;
	}
	return HX_OK;
}
