/*
 * fuzz_driver.c: run a fuzz target without libFuzzer (any compiler), for the seed-corpus
 * ctest tests: `fuzz_seed_<x> PATH...` runs LLVMFuzzerTestOneInput once over every regular
 * file of each directory PATH (in name order), or over PATH itself if it is a file.
 *
 * Each input is passed in a buffer of exactly its size so that AddressSanitizer sees any
 * read past the end. Exits 1 when no input was found (a missing corpus is a failure, not a
 * pass) or a file could not be read; a crashing input aborts the run.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int run_file(const char *path, size_t *runs)
{
	FILE *f = fopen(path, "rb");
	struct stat st;
	uint8_t *data;
	size_t n;

	if (f == NULL || fstat(fileno(f), &st) != 0) {
		fprintf(stderr, "fuzz_driver: %s: %s\n", path, strerror(errno));
		if (f != NULL)
			fclose(f);
		return -1;
	}
	n = (size_t)st.st_size;
	data = malloc(n != 0 ? n : 1);
	if (data == NULL || fread(data, 1, n, f) != n) {
		fprintf(stderr, "fuzz_driver: %s: cannot read %zu bytes\n", path, n);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, n);
	free(data);
	(*runs)++;
	return 0;
}

static int run_dir(const char *dir, size_t *runs)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, alphasort), rc = 0;

	if (n < 0) {
		fprintf(stderr, "fuzz_driver: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char path[4096];
		struct stat st;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (rc == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
		    names[i]->d_name[0] != '.')
			rc = run_file(path, runs);
		free(names[i]);
	}
	free(names);
	return rc;
}

int main(int argc, char **argv)
{
	size_t runs = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR_OR_FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		int rc;
		if (stat(argv[i], &st) != 0) {
			fprintf(stderr, "fuzz_driver: %s: %s\n", argv[i], strerror(errno));
			return 1;
		}
		rc = S_ISDIR(st.st_mode) ? run_dir(argv[i], &runs) : run_file(argv[i], &runs);
		if (rc != 0)
			return 1;
	}
	printf("%s: ran %zu inputs\n", argv[0], runs);
	return runs > 0 ? 0 : 1;
}
