/* ctl_main.c: hiepeerctl: global options and the command table. */
#include "ctl.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct ctl_cmd commands[] = {
	{"init", ctl_init_run, "--org OID [--map-size SIZE]",
	 "create a node store for an organisation"},
	{"demo-data", ctl_demo_run,
	 "[--seed N] [--persons N] [--org-index I --org-count N] [--share P] [--docs N] "
	 "[--doc-size SIZE]",
	 "generate deterministic synthetic patients and documents into the store"},
	{"patient list", ctl_patient_list_run, "[--after ID] [--limit N]", "list patients"},
	{"patient show", ctl_patient_show_run, "ID", "show one patient"},
	{"doc list", ctl_doc_list_run,
	 "PATIENT [--from DATE] [--to DATE] [--type CODE] [--class CODE] "
	 "[--status approved|deprecated|any] [--limit N]",
	 "list a patient's documents, newest first"},
	{"doc show", ctl_doc_show_run, "DOCID [--content | -o FILE]",
	 "show a document's metadata, or its content"},
	{"audit verify", ctl_audit_verify_run, "", "check the audit hash chain"},
	{"audit list", ctl_audit_list_run, "[--from SEQ] [--limit N]", "list audit records"},
	{"store stat", ctl_store_stat_run, "", "sizes and record counts of the store"},
	{"store grow", ctl_store_grow_run, "SIZE", "grow the store's map (while hiepeerd runs)"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hiepeerctl [--store DIR] [--json] COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < HX_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n  %-14s   %s\n", commands[i].words, commands[i].usage, "",
		        commands[i].help);
	fprintf(f, "\nThe store is --store, else $HIEPEER_STORE, else /var/lib/hiepeer.\n");
}

/* Match the command words against argv; returns the number of words used, 0 if none. */
static int match(const struct ctl_cmd *cmd, int argc, char **argv)
{
	char words[64];
	int n = 0;
	hx_strlcpy(words, cmd->words, sizeof(words));
	for (char *save = NULL, *w = strtok_r(words, " ", &save); w != NULL;
	     w = strtok_r(NULL, " ", &save), n++)
		if (n >= argc || strcmp(argv[n], w) != 0)
			return 0;
	return n;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"store", required_argument, NULL, 's'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct ctl c = {0};
	int ch, rc;

	hx_log_init("hiepeerctl", HX_LOG_WARNING);
	c.store_path = getenv("HIEPEER_STORE");
	if (c.store_path == NULL || c.store_path[0] == '\0')
		c.store_path = "/var/lib/hiepeer";
	/* Global options come before the command ("+" stops at the first non-option). */
	while ((ch = getopt_long(argc, argv, "+s:jhV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.store_path = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hiepeerctl %s\n", HX_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < HX_ARRAY_SIZE(commands); i++) {
		int used = match(&commands[i], argc - optind, argv + optind);
		if (used == 0)
			continue;
		/* The command sees argv[0] = its last word, then its arguments. */
		c.argc = argc - optind - used + 1;
		c.argv = argv + optind + used - 1;
		optind = 0; /* glibc: 0 resets getopt fully (permutation state too) */
		rc = commands[i].run(&c);
		store_close(c.store);
		return rc;
	}
	ctl_fail("unknown command '%s' (see hiepeerctl --help)", argv[optind]);
	return 2;
}
