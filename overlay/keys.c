/* keys.c - key generation and the private key file. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include <veilnet/file.h>
#include "keys.h"

void keys_generate(struct wg_key *priv)
{
	randombytes_buf(priv->b, WG_KEY_LEN);
	priv->b[0] &= 248;
	priv->b[31] &= 127;
	priv->b[31] |= 64;
}

void keys_public(const struct wg_key *priv, struct wg_key *pub)
{
	crypto_scalarmult_curve25519_base(pub->b, priv->b);
}

static int write_key_fd(int fd, const struct wg_key *priv)
{
	char line[WG_KEY_B64_LEN + 1];
	size_t len;
	int ret = 0;

	wg_key_to_base64(priv, line);
	len = strlen(line);
	line[len++] = '\n';
	if (vn_write_all(fd, line, len) || fsync(fd))
		ret = -1;
	sodium_memzero(line, sizeof(line));
	return ret;
}

static int make_parent(const char *path, struct vn_err *e)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	return vn_mkdir_p(dirname(buf), 0700, e);
}

int keys_create(const char *path, bool replace, struct wg_key *pub, struct vn_err *e)
{
	char tmp[PATH_MAX];
	struct wg_key priv;
	int fd, ret = -1;

	if (make_parent(path, e))
		return -1;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.XXXXXX", path) >= sizeof(tmp))
		return vn_errf(e, VN_E_IO, "I/O error", "key path too long: %s", path);
	fd = mkostemp(tmp, O_CLOEXEC);	/* O_EXCL, mode 0600 */
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "create %s: %s", tmp, strerror(errno));
	keys_generate(&priv);
	if (fchmod(fd, 0600) || (geteuid() == 0 && fchown(fd, 0, 0)) || write_key_fd(fd, &priv)) {
		vn_errf(e, VN_E_IO, "I/O error", "write %s: %s", tmp, strerror(errno));
		goto out;
	}
	if (replace ? rename(tmp, path) : link(tmp, path)) {
		if (errno == EEXIST)
			vn_errf(e, VN_E_INVALID, "key file exists",
				"%s already exists; it is never overwritten (use --force to replace it)",
				path);
		else
			vn_errf(e, VN_E_IO, "I/O error", "install %s: %s", path, strerror(errno));
		goto out;
	}
	vn_fsync_parent(path);
	keys_public(&priv, pub);
	ret = 0;
out:
	close(fd);
	if (!replace || ret)
		unlink(tmp);
	wg_key_wipe(&priv);
	return ret;
}

static int check_mode(int fd, const char *path, struct vn_err *e)
{
	struct stat st;

	if (fstat(fd, &st))
		return vn_errf(e, VN_E_IO, "I/O error", "stat %s: %s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return vn_errf(e, VN_E_INVALID, "bad key file", "%s is not a regular file", path);
	if (st.st_mode & 077)
		return vn_errf(e, VN_E_INVALID, "bad key file",
			       "%s has mode %04o: group and others must have no access (chmod 600)",
			       path, (unsigned int)(st.st_mode & 07777));
	if (st.st_uid != geteuid() && st.st_uid != 0)
		return vn_errf(e, VN_E_INVALID, "bad key file", "%s belongs to uid %u", path,
			       (unsigned int)st.st_uid);
	return 0;
}

/* The key text of a file as wg(8) reads one: 44 base64 characters, then
 * nothing but whitespace. Returns 0 (buf NUL-terminated at the key) or -1. */
static int key_text(char *buf, size_t len)
{
	if (len < WG_KEY_B64_LEN - 1)
		return -1;
	for (size_t i = WG_KEY_B64_LEN - 1; i < len; i++)
		if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' && buf[i] != '\r')
			return -1;
	buf[WG_KEY_B64_LEN - 1] = '\0';
	return 0;
}

int keys_load(const char *path, struct wg_key *priv, struct vn_err *e)
{
	char buf[256];
	size_t len = 0;
	ssize_t n;
	int fd, ret = -1;

	/* Symlinks are followed (a Kubernetes Secret volume's files are
	 * ..data/ links); the mode and owner checked are the target's. */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vn_errf(e, VN_E_IO, "I/O error", "open key file %s: %s", path,
			       strerror(errno));
	if (check_mode(fd, path, e))
		goto out;
	while (len < sizeof(buf) - 1 && (n = read(fd, buf + len, sizeof(buf) - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			vn_errf(e, VN_E_IO, "I/O error", "read %s: %s", path, strerror(errno));
			goto out;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (len == 0) {
		vn_errf(e, VN_E_INVALID, "bad key file", "%s is empty", path);
		goto out;
	}
	if (len == sizeof(buf) - 1 || key_text(buf, len) || wg_key_from_base64(buf, priv)) {
		vn_errf(e, VN_E_INVALID, "bad key file",
			"%s does not hold one base64 WireGuard key", path);
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(buf, sizeof(buf));
	close(fd);
	return ret;
}
