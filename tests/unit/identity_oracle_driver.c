/*
 * identity_oracle_driver.c: runs the identity comparators for identity_oracle.py. Each
 * input line is "op\ta\tb" (b unused by the phonetic codes); each output line is the
 * result: a code, an integer, or a double printed with 17 significant digits.
 * ops: soundex nysiis jaro jaro_winkler jaro_winkler_long levenshtein damerau
 */
#include <stdio.h>
#include <string.h>

#include "identity_text.h"

int main(void)
{
	char line[4096];

	while (fgets(line, sizeof(line), stdin) != NULL) {
		char *a, *b, *nl;
		char code[IDC_MAX + 1];

		if ((nl = strchr(line, '\n')) != NULL)
			*nl = '\0';
		if ((a = strchr(line, '\t')) == NULL) {
			printf("ERR\n");
			continue;
		}
		*a++ = '\0';
		if ((b = strchr(a, '\t')) != NULL)
			*b++ = '\0';
		else
			b = a + strlen(a);

		if (strcmp(line, "soundex") == 0) {
			idc_soundex(a, code);
			printf("%s\n", code);
		} else if (strcmp(line, "nysiis") == 0) {
			idc_nysiis(a, code, sizeof(code));
			printf("%s\n", code);
		} else if (strcmp(line, "jaro") == 0) {
			printf("%.17g\n", idc_jaro(a, b));
		} else if (strcmp(line, "jaro_winkler") == 0) {
			printf("%.17g\n", idc_jaro_winkler(a, b));
		} else if (strcmp(line, "jaro_winkler_long") == 0) {
			printf("%.17g\n", idc_jaro_winkler_long(a, b));
		} else if (strcmp(line, "levenshtein") == 0) {
			printf("%d\n", idc_levenshtein(a, b));
		} else if (strcmp(line, "damerau") == 0) {
			printf("%d\n", idc_damerau_levenshtein(a, b));
		} else {
			printf("ERR\n");
		}
	}
	return ferror(stdin) ? 1 : 0;
}
