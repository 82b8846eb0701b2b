/* crypto_token.c: HMAC-SHA256, and the community linkage key patient tokens are made with. */
#include "crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void crypto_hmac_sha256_v(const uint8_t *key, size_t keylen, const struct crypto_iov *iov,
                          size_t n, uint8_t out[CRYPTO_SHA256_LEN])
{
	/* RFC 2104 over SHA-256 with our own two passes: no per-call context allocation. */
	uint8_t k0[64] = {0}, ipad[64], opad[64], inner[CRYPTO_SHA256_LEN];
	struct crypto_iov v[1 + CRYPTO_HMAC_IOV_MAX];
	if (keylen > sizeof(k0))
		crypto_sha256(key, keylen, k0);
	else if (keylen > 0)
		memcpy(k0, key, keylen);
	for (size_t i = 0; i < sizeof(k0); i++) {
		ipad[i] = k0[i] ^ 0x36;
		opad[i] = k0[i] ^ 0x5c;
	}
	if (n > CRYPTO_HMAC_IOV_MAX)
		n = CRYPTO_HMAC_IOV_MAX; /* documented limit; callers stay below it */
	v[0] = (struct crypto_iov){ipad, sizeof(ipad)};
	for (size_t i = 0; i < n; i++)
		v[1 + i] = iov[i];
	crypto_sha256_v(v, 1 + n, inner);
	v[0] = (struct crypto_iov){opad, sizeof(opad)};
	v[1] = (struct crypto_iov){inner, sizeof(inner)};
	crypto_sha256_v(v, 2, out);
	crypto_wipe(k0, sizeof(k0));
	crypto_wipe(ipad, sizeof(ipad));
	crypto_wipe(opad, sizeof(opad));
}

void crypto_hmac_sha256(const uint8_t *key, size_t keylen, const void *data, size_t len,
                        uint8_t out[CRYPTO_SHA256_LEN])
{
	struct crypto_iov iov = {data, len};
	crypto_hmac_sha256_v(key, keylen, &iov, 1, out);
}

int crypto_linkage_key_load(const char *path, struct crypto_linkage_key *out, char *err,
                            size_t errlen)
{
	char text[2 * CRYPTO_LINKAGE_KEY_MAX + 8];
	struct stat sb;
	ssize_t n;
	size_t hex = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	memset(out, 0, sizeof(*out));
	if (fd < 0) {
		snprintf(err, errlen, "linkage key %s: %s", path, strerror(errno));
		return errno == ENOENT ? HX_ENOTFOUND : HX_EPERM;
	}
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		close(fd);
		snprintf(err, errlen, "linkage key %s: not a regular file", path);
		return HX_EINVAL;
	}
	if (sb.st_mode & (S_IRWXG | S_IRWXO)) {
		close(fd);
		snprintf(err, errlen, "linkage key %s: readable by others (mode %03o); it must be "
		                      "0600 or 0400", path, (unsigned)(sb.st_mode & 0777));
		return HX_EPERM;
	}
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n < 0) {
		snprintf(err, errlen, "linkage key %s: %s", path, strerror(errno));
		return HX_EIO;
	}
	text[n] = '\0';
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' '))
		text[--n] = '\0';
	hex = strlen(text);
	if (hex % 2 != 0 || hex < 2 * CRYPTO_LINKAGE_KEY_MIN || hex > 2 * CRYPTO_LINKAGE_KEY_MAX ||
	    hx_hex_decode(text, out->key, hex / 2) != HX_OK) {
		crypto_wipe(text, sizeof(text));
		snprintf(err, errlen, "linkage key %s: expected %d to %d hex digits on one line", path,
		         2 * CRYPTO_LINKAGE_KEY_MIN, 2 * CRYPTO_LINKAGE_KEY_MAX);
		return HX_EPARSE;
	}
	out->len = hex / 2;
	crypto_wipe(text, sizeof(text));
	/* Its fingerprint names the key in logs and status without revealing it. */
	crypto_hmac_sha256(out->key, out->len, "hiepeer-linkage-key-id", 22, out->id);
	return HX_OK;
}

int crypto_linkage_key_new(const char *path, char *err, size_t errlen)
{
	uint8_t key[CRYPTO_LINKAGE_KEY_MIN];
	char hex[2 * sizeof(key) + 2];
	int fd, rc = HX_OK;
	if (crypto_random(key, sizeof(key)) != HX_OK) {
		snprintf(err, errlen, "no randomness for a linkage key");
		return HX_EINTERNAL;
	}
	hx_hex_encode(key, sizeof(key), hex);
	strcat(hex, "\n");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		rc = errno == EEXIST ? HX_EEXIST : HX_EIO;
	} else {
		if (write(fd, hex, strlen(hex)) != (ssize_t)strlen(hex) || fsync(fd) != 0) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			rc = HX_EIO;
		}
		close(fd);
	}
	crypto_wipe(key, sizeof(key));
	crypto_wipe(hex, sizeof(hex));
	return rc;
}
