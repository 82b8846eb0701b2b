/*
 * proto_seedgen.c: write the seed corpus of the proto fuzz targets.
 *
 *   proto_seedgen DIR [KIND_COUNT]
 *
 * For every kind, into DIR/<Kind>/ (the name printed by proto_kind_name()): full.pb (every
 * field set), minimal.pb (only what is required), cut.pb (the full sample without its last
 * byte), field0.pb (the full sample and a field numbered 0) and near-<i>.pb, the first few
 * proto_sample_break() near misses. KIND_COUNT, when
 * given, must equal the number of kinds this build knows: the build passes the number of
 * fuzz targets it made, so a kind added to proto.h cannot go without one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto_samples.h"

#define NEAR_MISSES 4

static int make_dir(const char *path)
{
	if (mkdir(path, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "proto_seedgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_seed(const char *dir, const char *name, const struct hx_buf *b, size_t len)
{
	char path[4096];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL) {
		fprintf(stderr, "proto_seedgen: %s: %s\n", path, strerror(errno));
		return -1;
	}
	ok = (len == 0 || fwrite(b->data, 1, len, f) == len);
	ok = fclose(f) == 0 && ok;
	if (!ok)
		fprintf(stderr, "proto_seedgen: %s: write failed\n", path);
	return ok ? 0 : -1;
}

/* Pack one sample (a variant, or a near miss when i >= 0) and write it. 1 when there is no
 * i-th near miss. */
static int seed_one(const char *dir, enum proto_kind kind, enum proto_sample_variant v, int i,
                    const char *name)
{
	struct proto_sample s;
	struct hx_buf b;
	const char *what;
	int rc = -1;

	hx_buf_init(&b, 1u << 30);
	if (proto_sample_init(&s, kind, v) != HX_OK)
		goto out;
	if (i >= 0 && proto_sample_break(&s, (unsigned)i, &what) != HX_OK) {
		rc = 1;
		goto out;
	}
	if (proto_pack(s.msg, &b) != HX_OK)
		goto out;
	rc = write_seed(dir, name, &b, b.len);
	if (rc == 0 && i < 0 && v == PROTO_SAMPLE_FULL && b.len > 0)
		rc = write_seed(dir, "cut.pb", &b, b.len - 1);
	/* Field 0 written as 0x80 0x00 (protobuf-c used to keep it, then not read it back). */
	if (rc == 0 && i < 0 && v == PROTO_SAMPLE_FULL) {
		rc = hx_buf_append(&b, "\x80\x00\x01", 3) == HX_OK ? 0 : -1;
		if (rc == 0)
			rc = write_seed(dir, "field0.pb", &b, b.len);
	}
out:
	hx_buf_clear(&b);
	proto_sample_clear(&s);
	return rc;
}

int main(int argc, char **argv)
{
	char dir[4096], name[32];

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s DIR [KIND_COUNT]\n", argv[0]);
		return 2;
	}
	if (argc == 3 && strtol(argv[2], NULL, 10) != PROTO_KIND_COUNT) {
		fprintf(stderr, "proto_seedgen: the build made fuzz targets for %s kinds, "
		        "proto.h has %d: see tests/fuzz/CMakeLists.txt\n", argv[2],
		        PROTO_KIND_COUNT);
		return 1;
	}
	if (make_dir(argv[1]) != 0)
		return 1;
	for (int k = 0; k < PROTO_KIND_COUNT; k++) {
		snprintf(dir, sizeof(dir), "%s/%s", argv[1], proto_kind_name((enum proto_kind)k));
		if (make_dir(dir) != 0 ||
		    seed_one(dir, (enum proto_kind)k, PROTO_SAMPLE_FULL, -1, "full.pb") != 0 ||
		    seed_one(dir, (enum proto_kind)k, PROTO_SAMPLE_MINIMAL, -1, "minimal.pb") != 0)
			return 1;
		for (int i = 0; i < NEAR_MISSES; i++) {
			int rc;
			snprintf(name, sizeof(name), "near-%d.pb", i);
			rc = seed_one(dir, (enum proto_kind)k, PROTO_SAMPLE_FULL, i, name);
			if (rc < 0)
				return 1;
			if (rc > 0)
				break;
		}
	}
	return 0;
}
