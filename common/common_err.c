/* common_err.c: the error enum's names and sentences. */
#include "hx.h"

static const struct {
	const char *name;
	const char *text;
} err_table[] = {
	[0] = {"OK", "success"},
	[1] = {"EINVAL", "invalid argument"},
	[2] = {"EPARSE", "malformed input"},
	[3] = {"ENOTFOUND", "not found"},
	[4] = {"EEXIST", "already exists"},
	[5] = {"EDENIED", "access denied"},
	[6] = {"ELIMIT", "size or count limit exceeded"},
	[7] = {"ESPACE", "store is full (map size or disk)"},
	[8] = {"ENOMEM", "out of memory"},
	[9] = {"EIO", "input/output error"},
	[10] = {"ECORRUPT", "data is corrupt or foreign"},
	[11] = {"EVERSION", "store schema is newer than this program"},
	[12] = {"ETIMEOUT", "deadline passed"},
	[13] = {"EPEER", "peer failed"},
	[14] = {"EBUSY", "busy, try again"},
	[15] = {"ETLS", "TLS or certificate failure"},
	[16] = {"ECONFIG", "configuration error"},
	[17] = {"ECLOSED", "shutting down"},
	[18] = {"EPERM", "permission denied"},
	[19] = {"EINTERNAL", "internal error"},
};

_Static_assert(HX_ARRAY_SIZE(err_table) == (size_t)(-HX_ERR_MIN) + 1, "err_table covers hx_err");

static int err_index(int err)
{
	if (err > 0 || err < HX_ERR_MIN)
		return -1;
	return -err;
}

const char *hx_strerror(int err)
{
	int i = err_index(err);
	return i < 0 ? "unknown error" : err_table[i].text;
}

const char *hx_errname(int err)
{
	int i = err_index(err);
	return i < 0 ? "EUNKNOWN" : err_table[i].name;
}
