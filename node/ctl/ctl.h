/* node/ctl/ctl.h: hiepeerctl's shared state and helpers. One file per command group. */
#ifndef HX_CTL_H
#define HX_CTL_H

#include <cjson/cJSON.h>
#include <getopt.h>

#include "hx.h"
#include "store.h"

struct ctl {
	const char *store_path; /* --store, $HIEPEER_STORE, or /var/lib/hiepeer */
	int json;               /* --json: machine-readable output */
	const char *config_path; /* --config: hiepeerd's configuration (TLS identity) */
	int argc;               /* the command's own arguments (argv[0] is "hiepeerctl" and the
	                         * command's words, as getopt's messages name it) */
	char **argv;
	const char *cmd;        /* the command's words: "remote retrieve" */
	struct store *store;
};

/* A command: the words that name it, its handler and one usage line. */
struct ctl_cmd {
	const char *words;      /* "patient list" */
	int (*run)(struct ctl *c);
	const char *usage;      /* arguments after the words */
	const char *help;
};

/* Print "hiepeerctl: <message>" on stderr. Returns 1 (the exit status) for convenience. */
int ctl_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Open the store (once); prints the reason and returns nonzero on failure. */
int ctl_store_open(struct ctl *c, int read_only);
/* Print a cJSON document on stdout and free it. */
void ctl_json_print(cJSON *doc);
/* The local user for audit records ("root", "uid:1000"). */
const char *ctl_actor(void);
/* Format Unix ms as YYYY-MM-DD HH:MM (UTC) into out[20]; "-" for 0. */
void ctl_time_short(int64_t ms, char *out, size_t size);
/* A date "YYYY-MM-DD" or full ISO time to Unix ms; prints a one-line error. */
int ctl_parse_time(const char *what, const char *s, int64_t *out);
/* Unsigned decimal option value; prints a one-line error. */
int ctl_parse_u64(const char *what, const char *s, uint64_t *out);
/* Print s left-aligned in `width` terminal columns (UTF-8 aware), cut if longer. */
void ctl_print_padded(const char *s, int width);
/* Write len bytes to a new or truncated file that only its owner may read (0600, an
 * existing file's mode too: documents are patient data). 0, or 1 with "WHAT: cannot write
 * PATH: reason" printed. */
int ctl_write_private(const char *what, const char *path, const void *data, size_t len);
/* Write an audit record for an admin action in its own transaction. */
int ctl_audit_admin(struct ctl *c, int action, const char *detail);
/* In a write transaction: the audit record of a change to one patient by the local admin. */
int ctl_audit_patient(struct store_txn *t, const char *patient_id, const char *detail);
/* --user ID: the clinician's id at our organisation, UTF-8 text without control characters,
 * at most CTL_USER_MAX bytes (so that the audit actor "hiepeerctl:LOGIN/ID" fits the record's
 * 512). 0, or 1 with the problem printed. Checked before any call is made. */
#define CTL_USER_MAX 256
int ctl_user_check(const char *cmd, const char *user);
/* An outside lookup made from this command line (query, fetch, remote ...), recorded at this
 * node as the local API records its clients' (OUTSIDE_QUERY or OUTSIDE_RETRIEVE), before
 * anything is shown or written: the actor "hiepeerctl:LOGIN/USER" (USER from --user, or -),
 * the purpose, the ids of the entries disclosed (the first CTL_AUDIT_DOCUMENTS_MAX) and a
 * detail. The store must be open writable. 0, or 1 with the problem printed (then nothing
 * may be shown). */
#define CTL_AUDIT_DOCUMENTS_MAX 1000 /* as the daemon's (API_AUDIT_DOCUMENTS_MAX) */
int ctl_audit_outside(struct ctl *c, int action, int purpose, const char *user,
                      Hie__V1__DocumentEntry *const *entries, size_t n, const char *detail);

/* Command groups. */
int ctl_init_run(struct ctl *c);
int ctl_store_stat_run(struct ctl *c);
int ctl_store_grow_run(struct ctl *c);
int ctl_demo_run(struct ctl *c);
int ctl_patient_list_run(struct ctl *c);
int ctl_patient_show_run(struct ctl *c);
int ctl_doc_list_run(struct ctl *c);
int ctl_doc_show_run(struct ctl *c);
int ctl_audit_verify_run(struct ctl *c);
int ctl_audit_list_run(struct ctl *c);

int ctl_patient_add_run(struct ctl *c);
int ctl_doc_import_run(struct ctl *c);
int ctl_peer_ping_run(struct ctl *c);
int ctl_status_run(struct ctl *c);
int ctl_peer_rotate_run(struct ctl *c);
int ctl_remote_query_run(struct ctl *c);
int ctl_remote_retrieve_run(struct ctl *c);

/* pki, cert and peer enrolment (ctl_pki.c, ctl_peer.c). */
int ctl_pki_ca_run(struct ctl *c);
int ctl_pki_issue_run(struct ctl *c);
int ctl_pki_crl_run(struct ctl *c);
int ctl_cert_show_run(struct ctl *c);
int ctl_cert_install_run(struct ctl *c);
/* With --config, this node's private key ([tls] key) signs the documents it stores: the
 * signer, or NULL without --config. Prints a one-line error and returns 1 on failure. */
struct crypto_signer;
int ctl_signer_open(struct ctl *c, struct crypto_signer **out);
/* Sign e (origin_org, id, sha256, size set) into sig and point e->origin_signature at it;
 * nothing without a signer. */
int ctl_sign_entry(struct crypto_signer *s, Hie__V1__DocumentEntry *e, struct hx_buf *sig);
/* ctl_rls.c */
struct config;
int ctl_tokens_run(struct ctl *c);
int ctl_query_run(struct ctl *c);
/* --purpose NAME to its PurposeOfUse value; prints a one-line error (returns 1) if unknown. */
int ctl_purpose_parse(const char *cmd, const char *s, int *out);
int ctl_linkage_key_run(struct ctl *c);
int ctl_patient_remove_run(struct ctl *c);
/* status: the RLS outbox per configured endpoint (JSON into j when given). */
int ctl_status_rls(struct ctl *c, const struct config *cfg, cJSON *j);
/* At an RLS: the locator's size and, per publishing organisation, when it last published. */
int ctl_status_locator(struct ctl *c, cJSON *j);
int ctl_rls_resync_run(struct ctl *c);
int ctl_peer_add_run(struct ctl *c);
/* Validate a certificate for org against the community CA (--ca, or [tls] ca of --config)
 * and CRL (--crl, or [tls] crl). Prints the refusal and returns 1. */
struct crypto_cert_info;
int ctl_cert_check(struct ctl *c, const char *cmd, const char *cert, const char *ca,
                   const char *crl, const char *org, struct crypto_cert_info *ci);
/* POST msg (or GET without one) with req's url, pins and deadline; the response body is
 * appended to resp (at most resp->max). On a failed call or anything but 200 (its Error
 * message), prints "WHAT: ..." and returns 1. */
struct crypto_tls_client;
struct peer_request;
int ctl_call_pb(const struct crypto_tls_client *tls, struct peer_request *req,
                const void *msg, const char *what, struct hx_buf *resp);
/* Local clients and the local API (ctl_client.c). */
int ctl_client_add_run(struct ctl *c);
int ctl_client_list_run(struct ctl *c);
int ctl_client_remove_run(struct ctl *c);
int ctl_client_suspend_run(struct ctl *c);
int ctl_client_resume_run(struct ctl *c);
/* Call the running hiepeerd's local API (its [listen] local, or the port in its state file)
 * as the local client whose certificate and key are given; the daemon's certificate is pinned
 * to [tls] certificate. Appends the response body to resp. Prints a one-line error (returns
 * 1), also for a non-200 answer (its Error message). */
struct config;
int ctl_local_call(const struct config *cfg, const char *cmd, const char *client_cert,
                   const char *client_key, const char *path, const void *msg,
                   uint64_t timeout_ms, struct hx_buf *resp);
int ctl_peer_list_run(struct ctl *c);
int ctl_peer_show_run(struct ctl *c);
int ctl_peer_suspend_run(struct ctl *c);
int ctl_peer_resume_run(struct ctl *c);
int ctl_peer_revoke_run(struct ctl *c);
int ctl_peer_remove_run(struct ctl *c);
/* "N days left" or "expired N days ago" for a notAfter in Unix ms; the same as a number
 * (negative once expired). */
void ctl_days_left(int64_t not_after, char *out, size_t size);
int64_t ctl_days_left_n(int64_t not_after);
/* Certificates expiring within this many days are warned about (peer list/show, status). */
#define CTL_WARN_DAYS 30
/* "" when more than CTL_WARN_DAYS are left, else a short warning to append to a line. */
const char *ctl_expiry_mark(int64_t not_after);

/* JSON of a patient / document entry (for --json and show). */
cJSON *ctl_patient_json(const Hie__V1__Patient *p);
cJSON *ctl_entry_json(const Hie__V1__DocumentEntry *e);

/* ---- demographics on the command line (match, remote discover; ctl_match.c) ------------ */

/* Long-only option values, above every short option letter. */
enum {
	CTL_OPT_FAMILY = 0x100,
	CTL_OPT_GIVEN,
	CTL_OPT_MAIDEN,
	CTL_OPT_BIRTH_DATE,
	CTL_OPT_SEX,
	CTL_OPT_SSN,
	CTL_OPT_IDENTIFIER,
	CTL_OPT_ADDRESS,
	CTL_OPT_CITY,
	CTL_OPT_STATE,
	CTL_OPT_POSTCODE,
	CTL_OPT_PHONE,
};
/* The entries to put in a command's struct option table. */
#define CTL_DEMOGRAPHICS_OPTIONS                                                              \
	{"family", required_argument, NULL, CTL_OPT_FAMILY},                                  \
	{"given", required_argument, NULL, CTL_OPT_GIVEN},                                    \
	{"maiden", required_argument, NULL, CTL_OPT_MAIDEN},                                  \
	{"birth-date", required_argument, NULL, CTL_OPT_BIRTH_DATE},                          \
	{"sex", required_argument, NULL, CTL_OPT_SEX},                                        \
	{"ssn", required_argument, NULL, CTL_OPT_SSN},                                        \
	{"identifier", required_argument, NULL, CTL_OPT_IDENTIFIER},                          \
	{"address", required_argument, NULL, CTL_OPT_ADDRESS},                                \
	{"city", required_argument, NULL, CTL_OPT_CITY},                                      \
	{"state", required_argument, NULL, CTL_OPT_STATE},                                    \
	{"postcode", required_argument, NULL, CTL_OPT_POSTCODE},                              \
	{"phone", required_argument, NULL, CTL_OPT_PHONE}
#define CTL_DEMOGRAPHICS_USAGE                                                                \
	"[--family F] [--given G]... [--maiden F] [--birth-date YYYY-MM-DD] "                 \
	"[--sex female|male|other|unknown] [--ssn N] [--identifier SYSTEM=VALUE]... "         \
	"[--address LINE]... [--city C] [--state S] [--postcode P] [--phone N]"
#define CTL_GIVEN_MAX 4 /* --given: first, then middle names */
#define CTL_LINES_MAX 4 /* --address lines */
#define CTL_IDENT_MAX 4 /* --ssn and --identifier together (what matching looks at) */

/* Demographics in the caller's storage. Strings borrow the option arguments (argv), so
 * nothing is allocated and there is nothing to free; d lives as long as the struct. */
struct ctl_demographics {
	Hie__V1__Demographics d; /* the result, complete after ctl_demographics_finish() */
	Hie__V1__HumanName name, maiden, *names[2];
	char *given[CTL_GIVEN_MAX];
	Hie__V1__Address addr, *addrs[1];
	char *lines[CTL_LINES_MAX];
	Hie__V1__ContactPoint phone, *telecom[1];
	Hie__V1__Identifier ssn, ident[CTL_IDENT_MAX], *idents[CTL_IDENT_MAX];
	size_t n_ident; /* --identifier options */
};
void ctl_demographics_init(struct ctl_demographics *a);
/* One getopt_long result `ch` with its argument (an --identifier argument is split in
 * place at its '='). Returns 1 when it was a demographics option, 0 when it is not one,
 * and -1 after printing a one-line error prefixed with `cmd` (a bad date, sex, identifier,
 * or too many of a repeatable option). */
int ctl_demographics_opt(struct ctl_demographics *a, const char *cmd, int ch, char *arg);
/* Assemble a->d from the options seen. Returns 0, or 1 after printing a one-line error
 * when the demographics are not acceptable (proto_check: UTF-8, lengths). */
int ctl_demographics_finish(struct ctl_demographics *a, const char *cmd);

/* Open the peer `org` from the configuration and the store, POST msg to path, and leave a
 * 200 answer's body in resp (ctl_remote.c). On any failure it prints one line ("WHAT:
 * STATUS: the peer's Error message", or the transport's reason) and returns 1. */
int ctl_remote_call(struct ctl *c, const char *org, const char *what, const char *path,
                    const void *msg, struct hx_buf *resp);

/* match (ctl_match.c). */
int ctl_match_run(struct ctl *c);
int ctl_match_profile_show_run(struct ctl *c);
int ctl_match_profile_fit_run(struct ctl *c);
int ctl_match_profile_set_run(struct ctl *c);
int ctl_match_profile_reset_run(struct ctl *c);
int ctl_remote_discover_run(struct ctl *c);

#endif
