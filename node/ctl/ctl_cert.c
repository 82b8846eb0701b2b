/* ctl_cert.c: cert install: renew this node's own certificate and key while hiepeerd runs.
 *
 * The new pair is validated exactly as a peer's certificate is at enrolment (chain to the
 * community CA, current, end-entity, usages, key strength, our organisation in the SAN),
 * plus the key fitting the certificate. The key and then the certificate are replaced by
 * rename (each file is whole at every moment); the daemon notices the files within a
 * second and builds a fresh TLS context from them, keeping the old one serving until the
 * pair is consistent. The change is audited with the old and new fingerprints, and the
 * trust generation moves with it. */
#include "ctl.h"

#include "config.h"
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Replace `dst` by the bytes of `src`, by writing dst.new (mode `mode`), fsync and rename. */
static int install_file(const char *src, const char *dst, mode_t mode)
{
	struct hx_buf b;
	char tmp[CONFIG_PATH_MAX + 8], err[256];
	int fd, rc;
	size_t off = 0;

	if ((rc = crypto_file_read(src, CRYPTO_PEM_FILE_MAX, &b, err, sizeof(err))) != HX_OK)
		return ctl_fail("cert install: %s", err);
	snprintf(tmp, sizeof(tmp), "%s.new", dst);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		hx_buf_wipe_clear(&b);
		return ctl_fail("cert install: cannot write %s: %s", tmp, strerror(errno));
	}
	while (off < b.len) {
		ssize_t n = write(fd, b.data + off, b.len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		off += (size_t)n;
	}
	rc = off == b.len && fsync(fd) == 0;
	close(fd);
	hx_buf_wipe_clear(&b);
	if (!rc || rename(tmp, dst) != 0) {
		int e = errno;
		unlink(tmp);
		return ctl_fail("cert install: cannot replace %s: %s", dst, strerror(e));
	}
	return 0;
}

struct renew_arg {
	Hie__V1__AuditEvent *ev;
};

static int w_renew(struct store_txn *t, void *arg)
{
	struct renew_arg *a = arg;
	int rc = store_trust_gen_bump(t, NULL);
	return rc != HX_OK ? rc : store_audit_append(t, a->ev, NULL);
}

int ctl_cert_install_run(struct ctl *c)
{
	static const struct option opts[] = {
		{"cert", required_argument, NULL, 'c'},
		{"key", required_argument, NULL, 'k'},
		{NULL, 0, NULL, 0},
	};
	struct config cfg;
	struct crypto_cert_info ni, oi;
	const char *cert = NULL, *key = NULL;
	char err[CONFIG_ERR_MAX], why[512], ofp[80], nfp[80], detail[160];
	Hie__V1__AuditEvent ev = HIE__V1__AUDIT_EVENT__INIT;
	struct renew_arg ra = {.ev = &ev};
	int ch, rc, have_old;

	while ((ch = getopt_long(c->argc, c->argv, "c:k:", opts, NULL)) != -1) {
		if (ch == 'c')
			cert = optarg;
		else if (ch == 'k')
			key = optarg;
		else
			return 2;
	}
	if (cert == NULL || key == NULL || optind != c->argc)
		return ctl_fail("cert install: usage: hiepeerctl --config FILE cert install "
		                "--cert NEW.pem --key NEW.key");
	if (c->config_path == NULL)
		return ctl_fail("cert install needs hiepeerd's configuration: --config FILE");
	config_init(&cfg);
	if (config_load(c->config_path, &cfg, err, sizeof(err)) != HX_OK)
		return ctl_fail("%s", err);
	if (cfg.certificate[0] == '\0' || cfg.key[0] == '\0')
		return ctl_fail("cert install: %s sets no [tls] certificate and key",
		                c->config_path);
	if (ctl_store_open(c, 0) != 0)
		return 1;
	if (strcmp(store_org_id(c->store), cfg.org_id) != 0)
		return ctl_fail("cert install: the store at %s is organisation %s, the "
		                "configuration says %s", c->store_path, store_org_id(c->store),
		                cfg.org_id);
	rc = crypto_cert_validate(cert, cfg.ca, cfg.crl, cfg.org_id, hx_time_now_ms(), &ni, why,
	                          sizeof(why));
	if (rc != HX_OK)
		return ctl_fail("cert install: refused: %s", why);
	rc = crypto_key_matches_cert(key, cert);
	if (rc == HX_EINVAL)
		return ctl_fail("cert install: refused: the key in %s is not the key of %s", key,
		                cert);
	if (rc != HX_OK)
		return ctl_fail("cert install: refused: cannot use the key in %s: %s", key,
		                hx_strerror(rc));
	have_old = crypto_cert_info_load(cfg.certificate, &oi, why, sizeof(why)) == HX_OK;
	if (have_old && memcmp(oi.fingerprint, ni.fingerprint, CRYPTO_SHA256_LEN) == 0)
		return ctl_fail("cert install: %s is already the node's certificate", cert);
	/* The key first: until the certificate follows, the daemon sees a pair that does not fit
	 * and keeps serving the previous one. */
	if (install_file(key, cfg.key, 0600) != 0 || install_file(cert, cfg.certificate, 0644) != 0)
		return 1;
	crypto_fingerprint_format(ni.fingerprint, nfp, sizeof(nfp));
	snprintf(detail, sizeof(detail), "own certificate renewed");
	ev.time = hx_time_now_ms();
	ev.action = HIE__V1__AUDIT_ACTION__AUDIT_ACTION_TRUST_CHANGE;
	ev.outcome = HIE__V1__AUDIT_OUTCOME__AUDIT_OUTCOME_SUCCESS;
	ev.actor_org = (char *)store_org_id(c->store);
	ev.actor_user = (char *)ctl_actor();
	ev.target_org = (char *)store_org_id(c->store);
	if (have_old) {
		ev.old_fingerprint.data = oi.fingerprint;
		ev.old_fingerprint.len = CRYPTO_SHA256_LEN;
	}
	ev.new_fingerprint.data = ni.fingerprint;
	ev.new_fingerprint.len = CRYPTO_SHA256_LEN;
	ev.detail = detail;
	if ((rc = store_write(c->store, w_renew, &ra)) != HX_OK)
		return ctl_fail("cert install: the files are in place but the audit record could "
		                "not be written: %s", hx_strerror(rc));
	if (c->json) {
		cJSON *j = cJSON_CreateObject();
		cJSON_AddStringToObject(j, "certificate", cfg.certificate);
		cJSON_AddStringToObject(j, "fingerprint", nfp);
		if (have_old) {
			crypto_fingerprint_format(oi.fingerprint, ofp, sizeof(ofp));
			cJSON_AddStringToObject(j, "previous_fingerprint", ofp);
		}
		cJSON_AddNumberToObject(j, "not_after", (double)ni.not_after);
		ctl_json_print(j);
		return 0;
	}
	printf("installed %s (fingerprint %s); hiepeerd adopts it within a second\n",
	       cfg.certificate, nfp);
	return 0;
}
