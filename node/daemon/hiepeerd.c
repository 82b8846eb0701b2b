/*
 * hiepeerd.c: the node daemon's entry point.
 *
 * Loads and checks the configuration, opens the store (refusing one that belongs to another
 * organisation), builds the trust state (TLS context + enrolled peers), starts the worker
 * threads serving peers, and runs until SIGTERM/SIGINT: then it stops accepting, lets
 * in-flight requests finish, and closes the store. One daemon per store: a second one
 * started on the same store (the listeners share their port) is refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <pthread.h>

#include "config.h"
#include "crypto.h"
#include "http.h"
#include "hx.h"
#include "publisher.h"
#include "store.h"
#include "trust.h"

static void usage(FILE *f)
{
	fprintf(f, "usage: hiepeerd [-c FILE] [-n] [-V]\n"
	           "  -c FILE   configuration (default /etc/hiepeer/hiepeerd.conf)\n"
	           "  -n        check the configuration and the files it names, and exit\n"
	           "  -V        print the version\n"
	           "  -h        this help (also --help)\n");
}

/* Hold <store>/hiepeerd.lock for as long as we run (the descriptor is never closed; the
 * kernel lets go when the process ends, however it ends), with our pid in it. LMDB lets
 * several processes open a store, which hiepeerctl relies on, and SO_REUSEPORT lets two
 * daemons bind the same port, so nothing else would stop a second daemon: it would serve
 * half the connections and overwrite the state file that `status` and scripts read. 0, or
 * -1 with the reason logged (another daemon's pid when it is that). A directory that holds
 * no store is left to store_open to report. */
static int daemon_lock(const char *store)
{
	char path[CONFIG_PATH_MAX + 32], buf[32];
	int fd, n;
	snprintf(path, sizeof(path), "%s/data.mdb", store);
	if (access(path, F_OK) != 0)
		return 0; /* no store there: store_open says so, and no lock file is left behind */
	snprintf(path, sizeof(path), "%s/hiepeerd.lock", store);
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		hx_log_err("%s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		n = (int)pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		if (e == EWOULDBLOCK)
			hx_log_err("store %s is in use by another hiepeerd (pid %s); stop it first", store,
			           buf[0] != '\0' ? buf : "unknown");
		else
			hx_log_err("%s: %s", path, strerror(e));
		close(fd);
		return -1;
	}
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		hx_log_warn("%s: cannot record our pid: %s", path, strerror(errno));
	return 0;
}

/* -n: what would stop a start, found without starting: the store (opened read-only, its
 * organisation), our certificate, key, CA and CRL, and the linkage key. One line each. */
static int check_files(const char *path, const struct config *cfg)
{
	struct store_opts so = {.read_only = 1};
	struct store *store;
	char err[STORE_ERR_MAX > 512 ? STORE_ERR_MAX : 512], lock[CONFIG_PATH_MAX + 16];
	int bad = 0;

	/* Opened only when its lock file is there: opening would make one, owned by whoever runs
	 * -n (root, say), which the service user then could not open. */
	snprintf(lock, sizeof(lock), "%s/lock.mdb", cfg->store);
	if (access(lock, F_OK) != 0 && errno == ENOENT) {
		snprintf(lock, sizeof(lock), "%s/data.mdb", cfg->store);
		if (access(lock, F_OK) != 0) {
			fprintf(stderr, "hiepeerd: %s: store %s: no store there (hiepeerctl init makes "
			                "one)\n",
			        path, cfg->store);
			bad = 1;
		} else {
			fprintf(stderr, "hiepeerd: note: store %s has no lock.mdb yet: not opened (its "
			                "organisation is checked at start)\n",
			        cfg->store);
		}
	} else if (store_open(cfg->store, &so, &store, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "hiepeerd: %s: %s\n", path, err);
		bad = 1;
	} else {
		if (strcmp(store_org_id(store), cfg->org_id) != 0) {
			fprintf(stderr, "hiepeerd: %s: store %s belongs to organisation %s, the "
			                "configuration says %s\n",
			        path, cfg->store, store_org_id(store), cfg->org_id);
			bad = 1;
		}
		store_close(store);
	}
	if (cfg->peer.set || cfg->local.set || cfg->n_endpoints > 0) {
		const char *crl = cfg->crl[0] != '\0' ? cfg->crl : NULL;
		struct crypto_tls_client *tls = NULL;
		struct crypto_tls_server *srv = NULL;
		/* The server's context when we serve (its checks are the stricter: our own chain,
		 * the security level), the client's for publishing. */
		struct crypto_tls_server_opts o = {.cert_file = cfg->certificate,
		                                   .key_file = cfg->key,
		                                   .ca_file = cfg->ca,
		                                   .crl_file = crl};
		if (cfg->certificate[0] == '\0' || cfg->key[0] == '\0' || cfg->ca[0] == '\0') {
			fprintf(stderr, "hiepeerd: %s: [tls] certificate, key and ca are needed\n", path);
			bad = 1;
		} else if (((cfg->peer.set || cfg->local.set) &&
		            crypto_tls_server_new(&o, &srv, err, sizeof(err)) != HX_OK) ||
		           (cfg->n_endpoints > 0 &&
		            crypto_tls_client_new(cfg->certificate, cfg->key, cfg->ca, crl, &tls, err,
		                                  sizeof(err)) != HX_OK)) {
			fprintf(stderr, "hiepeerd: %s: %s\n", path, err);
			bad = 1;
		}
		crypto_tls_server_free(srv);
		crypto_tls_client_free(tls);
	}
	if (cfg->linkage_key[0] != '\0') {
		struct crypto_linkage_key k;
		if (crypto_linkage_key_load(cfg->linkage_key, &k, err, sizeof(err)) != HX_OK) {
			fprintf(stderr, "hiepeerd: %s: %s\n", path, err);
			bad = 1;
		}
		crypto_wipe(&k, sizeof(k));
	}
	return bad;
}

int main(int argc, char **argv)
{
	const char *path = "/etc/hiepeer/hiepeerd.conf";
	struct store_opts so = {0};
	struct store *store = NULL;
	struct trust *trust = NULL;
	struct http_server *http = NULL;
	struct publisher *publisher = NULL;
	struct config cfg;
	char err[CONFIG_ERR_MAX > STORE_ERR_MAX ? CONFIG_ERR_MAX : STORE_ERR_MAX];
	sigset_t set;
	int ch, check = 0, sig = 0, rc;

	if (argc == 2 && strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	while ((ch = getopt(argc, argv, "c:nVh")) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			check = 1;
			break;
		case 'V':
			printf("hiepeerd %s\n", HX_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	config_init(&cfg);
	if (config_load(path, &cfg, err, sizeof(err)) != HX_OK) {
		fprintf(stderr, "hiepeerd: %s\n", err);
		return 1;
	}
	if (check) {
		if (check_files(path, &cfg) != 0)
			return 1;
		printf("hiepeerd: %s: configuration ok\n", path);
		return 0;
	}
	hx_malloc_tune(); /* before any thread */
	hx_log_init("hiepeerd", cfg.log_level);

	/* Signals are taken synchronously by the main thread; block them before any thread
	 * (the store's writer) starts so that none of those threads receives them. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (daemon_lock(cfg.store) != 0)
		return 1;
	so.map_size = cfg.map_size;
	if ((rc = store_open(cfg.store, &so, &store, err, sizeof(err))) != HX_OK) {
		hx_log_err("%s", err);
		return 1;
	}
	if (strcmp(store_org_id(store), cfg.org_id) != 0) {
		hx_log_err("store %s belongs to organisation %s, the configuration says %s", cfg.store,
		           store_org_id(store), cfg.org_id);
		store_close(store);
		return 1;
	}
	if (cfg.peer.set) {
		struct trust_files tf = {cfg.certificate, cfg.key, cfg.ca,
		                         cfg.crl[0] != '\0' ? cfg.crl : NULL};
		if (cfg.certificate[0] == '\0' || cfg.key[0] == '\0' || cfg.ca[0] == '\0') {
			hx_log_err("%s: [listen] peer needs [tls] certificate, key and ca", path);
			store_close(store);
			return 1;
		}
		if (trust_new(store, &tf, &trust, err, sizeof(err)) != HX_OK ||
		    http_server_start(&cfg, store, trust, &http, err, sizeof(err)) != HX_OK) {
			hx_log_err("%s", err);
			trust_free(trust);
			store_close(store);
			return 1;
		}
	} else {
		hx_log_warn("no [listen] peer address: not serving peers");
	}
	if (cfg.role == CONFIG_ROLE_NODE &&
	    publisher_start(&cfg, store, trust, &publisher, err, sizeof(err)) != HX_OK) {
		hx_log_err("%s", err);
		http_server_stop(http, 0);
		trust_free(trust);
		store_close(store);
		return 1;
	}
	hx_log_notice("started: organisation %s, role %s, store %s", cfg.org_id,
	              cfg.role == CONFIG_ROLE_RLS ? "rls" : "node", cfg.store);
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			hx_log_info("SIGHUP: nothing to reload (trust changes are picked up live)");
			continue;
		}
		break;
	}
	hx_log_notice("signal %d: stopping", sig);
	publisher_stop(publisher);
	http_server_stop(http, 5000);
	trust_free(trust);
	store_close(store);
	hx_log_notice("stopped");
	return 0;
}
