/* ctl_main.c: hiepeerctl: global options and the command table. */
#include "ctl.h"

#include "config.h"

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
	{"patient add", ctl_patient_add_run,
	 "--id ID [--family F] [--given G] [--birth-date D] [--sex S] [--ssn N] [--postal-code Z]",
	 "add or replace a patient"},
	{"doc list", ctl_doc_list_run,
	 "PATIENT [--from DATE] [--to DATE] [--type CODE] [--class CODE] "
	 "[--status approved|deprecated|any] [--limit N]",
	 "list a patient's documents, newest first"},
	{"doc import", ctl_doc_import_run,
	 "--patient ID --file FILE --type LOINC [--title T] [--mime TYPE] [--created DATE]",
	 "store a file as a patient's document"},
	{"doc show", ctl_doc_show_run, "DOCID [--content | -o FILE]",
	 "show a document's metadata, or its content"},
	{"audit verify", ctl_audit_verify_run, "", "check the audit hash chain"},
	{"audit list", ctl_audit_list_run, "[--from SEQ] [--limit N]", "list audit records"},
	{"store stat", ctl_store_stat_run, "", "sizes and record counts of the store"},
	{"store grow", ctl_store_grow_run, "SIZE", "grow the store's map (while hiepeerd runs)"},
	{"peer rotate", ctl_peer_rotate_run, "ORG --cert NEW.pem [--ca FILE] | --commit | --abort",
	 "stage a peer's next certificate (both accepted), then commit it (the old one is "
	 "refused)"},
	{"status", ctl_status_run, "",
	 "what the running daemon trusts (against the store), expiry warnings, CRL state (needs "
	 "--config)"},
	{"peer ping", ctl_peer_ping_run, "ORG | --all [--timeout MS]",
	 "call a peer's health route, or every active peer's at once with a line each (needs --config)"},
	{"remote query", ctl_remote_query_run,
	 "ORG --patient ID [--type CODE] [--class CODE] [--from DATE] [--to DATE] [--status S] "
	 "[--purpose P] [--user ID]",
	 "query a peer for a patient's documents (needs --config; audited here)"},
	{"fetch", ctl_remote_retrieve_run,
	 "ORG DOCID -o FILE [--purpose P] [--user ID] [--allow-unsigned] [--local --client-cert F "
	 "--client-key F]",
	 "fetch a remote document (as found by query) to a file, checking its SHA-256 and its "
	 "origin's signature (needs --config; audited here)"},
	{"remote retrieve", ctl_remote_retrieve_run, "ORG DOCID -o FILE [--purpose P] [--user ID]",
	 "retrieve a document from a peer, checking its SHA-256 (needs --config; audited here)"},
	{"remote discover", ctl_remote_discover_run,
	 "ORG " CTL_DEMOGRAPHICS_USAGE " --purpose treatment|payment|operations|public-health|"
	 "research|emergency|patient-request [--possible] [--limit N] [--user ID]",
	 "ask a peer which of its patients match these demographics, with grade and score "
	 "(needs --config; audited here)"},
	/* "match profile ..." before "match": the first entry whose words match is taken. */
	{"match profile show", ctl_match_profile_show_run, "",
	 "print the match profile in use (the store's, else the built-in one)"},
	{"match profile fit", ctl_match_profile_fit_run, "[--em] [--dry-run]",
	 "estimate u (random pairs) and the household guard from this node's patients, and with "
	 "--em also m (EM over candidate pairs: needs duplicate records); store the profile; "
	 "--dry-run prints it only"},
	{"match profile set", ctl_match_profile_set_run, "FILE",
	 "store a profile text (as printed by show), once it parses"},
	{"match profile reset", ctl_match_profile_reset_run, "",
	 "remove the stored profile: the built-in one is used"},
	{"match", ctl_match_run,
	 CTL_DEMOGRAPHICS_USAGE " [--possible] [--trace] [--limit N]",
	 "find this node's patients matching the demographics, best first (--trace: each "
	 "field's level and weight)"},
	{"pki ca", ctl_pki_ca_run, "DIR [--cn NAME] [--days N]",
	 "create a throw-away CA for tests and the demo; prints its fingerprint"},
	{"pki issue", ctl_pki_issue_run,
	 "--ca DIR --org OID --cn NAME [--org-name NAME] [--dns NAME]... [--ip ADDR]... "
	 "--out PREFIX [--days N] [--crl-uri URL] [--variant expired|not-yet-valid|self-signed|ca-leaf|"
	 "wrong-eku|rsa1024|sha1|other-ca [--other-ca DIR]]",
	 "issue a node certificate (PREFIX.pem, PREFIX.key); prints its fingerprint"},
	{"pki crl", ctl_pki_crl_run, "--ca DIR --out FILE [--revoke CERT]... [--days N | --expired]",
	 "write a CRL revoking the given certificates"},
	{"cert show", ctl_cert_show_run, "FILE", "what a PEM certificate says"},
	{"pki linkage-key", ctl_linkage_key_run, "FILE",
	 "write a fresh region linkage key (for patient tokens) to a new file, mode 0600"},
	{"patient remove", ctl_patient_remove_run, "ID",
	 "delete a patient without documents (the record locator is told)"},
	{"query", ctl_query_run,
	 "[--family F] [--given G] [--birth-date D] [--sex S] [--ssn N] ... --purpose PURPOSE "
	 "[--timeout MS] [--no-cache] [--user ID] [--local --client-cert F --client-key F]",
	 "find a patient's documents at every organisation that has them (needs --config); "
	 "--local asks the running hiepeerd through its local API"},
	{"client add", ctl_client_add_run,
	 "NAME --cert FILE [--rights query,retrieve] [--ca FILE] [--crl FILE]",
	 "register one of this organisation's systems for the local API (its certificate must "
	 "validate and name this organisation)"},
	{"client list", ctl_client_list_run, "", "list registered local clients"},
	{"client suspend", ctl_client_suspend_run, "NAME", "refuse a local client for now"},
	{"client resume", ctl_client_resume_run, "NAME", "accept a suspended local client again"},
	{"client remove", ctl_client_remove_run, "NAME", "delete a local client"},
	{"rls resync", ctl_rls_resync_run, "[URL]...",
	 "send each RLS endpoint (or those named) a snapshot of every token this node holds, then "
	 "the changes since: after the RLS was restored from a backup (needs --config)"},
	{"tokens", ctl_tokens_run, "[--family F] [--given G] [--birth-date D] [--sex S] ...",
	 "the record locator tokens of some demographics (needs --config: its linkage key)"},
	{"cert install", ctl_cert_install_run, "--cert NEW.pem --key NEW.key",
	 "renew this node's own certificate and key while hiepeerd runs, once they validate "
	 "(needs --config)"},
	{"peer add", ctl_peer_add_run,
	 "--org OID --name NAME --url https://HOST:PORT --cert FILE [--ca FILE] [--crl FILE] "
	 "[--role node|rls]",
	 "enrol a peer organisation with its certificate, once it validates against the community "
	 "CA (--ca, or [tls] ca and crl of --config)"},
	{"peer list", ctl_peer_list_run, "", "list enrolled peers"},
	{"peer show", ctl_peer_show_run, "ORG", "show one enrolled peer"},
	{"peer suspend", ctl_peer_suspend_run, "ORG", "stop trusting a peer for now"},
	{"peer resume", ctl_peer_resume_run, "ORG", "trust a suspended peer again"},
	{"peer revoke", ctl_peer_revoke_run, "ORG", "stop trusting a peer for good"},
	{"peer remove", ctl_peer_remove_run, "ORG", "delete a peer's enrolment"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: hiepeerctl [--store DIR] [--config FILE] [--json] COMMAND [ARGS]\n\n"
	           "commands:\n");
	for (size_t i = 0; i < HX_ARRAY_SIZE(commands); i++)
		fprintf(f, "  %-14s %s\n  %-14s   %s\n", commands[i].words, commands[i].usage, "",
		        commands[i].help);
	fprintf(f, "\nThe store is --store, else the store of --config, else $HIEPEER_STORE, else "
	           "/var/lib/hiepeer.\n");
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
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct ctl c = {0};
	static struct config cfg; /* the store path of --config lives here */
	int ch, rc, store_given = 0;

	hx_log_init("hiepeerctl", HX_LOG_WARNING);
	argv[0] = (char *)"hiepeerctl"; /* getopt's messages name us, not the path run */
	opterr = 0; /* the global options' mistakes are told below, in one line */
	c.store_path = getenv("HIEPEER_STORE");
	if (c.store_path == NULL || c.store_path[0] == '\0')
		c.store_path = "/var/lib/hiepeer";
	/* Global options come before the command ("+" stops at the first non-option). */
	while ((ch = getopt_long(argc, argv, "+:s:jc:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			c.store_path = optarg;
			store_given = 1;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'c':
			c.config_path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("hiepeerctl %s\n", HX_VERSION);
			return 0;
		case ':': /* getopt has stepped past the option that lacks its value */
			ctl_fail("%s needs a value (see hiepeerctl --help)", argv[optind - 1]);
			return 2;
		default: /* a letter (optopt) in a bundle such as -xj, or a long option */
			if (optopt != 0)
				ctl_fail("unknown option '-%c' before the command (a command's own options "
				         "go after it; see hiepeerctl --help)", optopt);
			else
				ctl_fail("unknown option '%s' before the command (a command's own options "
				         "go after it; see hiepeerctl --help)", argv[optind - 1]);
			return 2;
		}
	}
	opterr = 1; /* the commands' own getopt loops let getopt say what is wrong */
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (c.config_path == NULL && getenv("HIEPEER_CONFIG") != NULL)
		c.config_path = getenv("HIEPEER_CONFIG");
	if (c.config_path != NULL && !store_given) {
		char err[CONFIG_ERR_MAX];
		config_init(&cfg);
		if (config_load(c.config_path, &cfg, err, sizeof(err)) != HX_OK)
			return ctl_fail("%s", err);
		c.store_path = cfg.store;
	}
	for (size_t i = 0; i < HX_ARRAY_SIZE(commands); i++) {
		int used = match(&commands[i], argc - optind, argv + optind);
		if (used == 0)
			continue;
		/* The command sees argv[0] = "hiepeerctl WORDS" (so that getopt's messages say
		 * "hiepeerctl query: unrecognized option ..."), then its arguments. */
		static char name[80];
		snprintf(name, sizeof(name), "hiepeerctl %s", commands[i].words);
		c.cmd = commands[i].words;
		c.argc = argc - optind - used + 1;
		c.argv = argv + optind + used - 1;
		c.argv[0] = name;
		optind = 0; /* glibc: 0 resets getopt fully (permutation state too) */
		rc = commands[i].run(&c);
		store_close(c.store);
		return rc;
	}
	{ /* A known first word: say which words may follow it. */
		char next[512] = "";
		size_t n = strlen(argv[optind]), used = 0;
		for (size_t i = 0; i < HX_ARRAY_SIZE(commands); i++) {
			const char *w = commands[i].words;
			if (strncmp(w, argv[optind], n) == 0 && w[n] == ' ' && used < sizeof(next))
				used += (size_t)snprintf(next + used, sizeof(next) - used, "%s%s",
				                         used ? ", " : "", w + n + 1);
		}
		if (next[0] != '\0')
			ctl_fail("unknown command '%s%s%s'; '%s' takes: %s", argv[optind],
			         optind + 1 < argc ? " " : "", optind + 1 < argc ? argv[optind + 1] : "",
			         argv[optind], next);
		else
			ctl_fail("unknown command '%s' (see hiepeerctl --help)", argv[optind]);
	}
	return 2;
}
