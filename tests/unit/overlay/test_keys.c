/* Unit tests for overlay keys: text forms, the X25519 known vector, the
 * private key file (mode, no-clobber, replace, refusal of loose modes). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <sodium.h>
#include "../../../overlay/keys.h"

/* RFC 7748 section 6.1: Alice's private and public X25519 keys; `wg pubkey`
 * gives the same (cross-checked in tests/integration/mesh-keys.sh). */
#define PRIV_B64 "dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo="
#define PUB_B64 "hSDwCYkwp1R0i33ctD73Wg2/Og0mOBr066SpjqqbTmo="
#define PUB_HEX "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"

static void known_vector(void **state)
{
	struct wg_key priv, pub;
	char b64[WG_KEY_B64_LEN], hex[WG_KEY_HEX_LEN];

	(void)state;
	assert_int_equal(wg_key_from_base64(PRIV_B64, &priv), 0);
	keys_public(&priv, &pub);
	assert_string_equal(wg_key_to_base64(&pub, b64), PUB_B64);
	assert_string_equal(wg_key_to_hex(&pub, hex), PUB_HEX);
}

static void text_forms(void **state)
{
	struct wg_key k, back;
	char b64[WG_KEY_B64_LEN], hex[WG_KEY_HEX_LEN];

	(void)state;
	for (int i = 0; i < WG_KEY_LEN; i++)
		k.b[i] = (uint8_t)(i * 37 + 5);
	assert_int_equal(wg_key_from_base64(wg_key_to_base64(&k, b64), &back), 0);
	assert_memory_equal(k.b, back.b, WG_KEY_LEN);
	assert_int_equal(wg_key_from_hex(wg_key_to_hex(&k, hex), &back), 0);
	assert_memory_equal(k.b, back.b, WG_KEY_LEN);
	assert_int_equal(strlen(b64), 44);
	assert_int_equal(strlen(hex), 64);
	/* malformed */
	assert_int_equal(wg_key_from_base64("", &back), -1);
	assert_int_equal(wg_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo", &back), -1);
	assert_int_equal(wg_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LC==", &back), -1);
	assert_int_equal(wg_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25L!o=", &back), -1);
	assert_int_equal(wg_key_from_base64("dwdtCnMYpX08FsFyUbJmRd9ML4frwJkqsXf7pR25LCo=x", &back), -1);
	assert_int_equal(wg_key_from_hex(PUB_HEX "00", &back), -1);
	assert_int_equal(wg_key_from_hex("zz20f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
					 &back), -1);
	assert_int_equal(wg_key_from_base64(NULL, &back), -1);
}

static void generate_is_clamped_and_fresh(void **state)
{
	struct wg_key a, b;

	(void)state;
	keys_generate(&a);
	keys_generate(&b);
	assert_int_equal(a.b[0] & 7, 0);
	assert_int_equal(a.b[31] & 0x80, 0);
	assert_int_equal(a.b[31] & 0x40, 0x40);
	assert_int_not_equal(wg_key_cmp(&a, &b), 0);
	assert_false(wg_key_is_zero(&a));
	wg_key_wipe(&a);
	assert_true(wg_key_is_zero(&a));
}

static char tmpdir[64];

static int make_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/vnm-keys-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static void key_file(void **state)
{
	char path[128], text[128];
	struct wg_key pub, pub2, priv, derived;
	struct vn_err e = { 0 };
	struct stat st;
	int fd;
	ssize_t n;

	(void)state;
	snprintf(path, sizeof(path), "%s/sub/mesh.key", tmpdir);
	assert_int_equal(keys_create(path, false, &pub, &e), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	/* the file holds a base64 private key whose public key we were given */
	assert_int_equal(keys_load(path, &priv, &e), 0);
	keys_public(&priv, &derived);
	assert_memory_equal(derived.b, pub.b, WG_KEY_LEN);
	fd = open(path, O_RDONLY);
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	assert_int_equal(n, 45);
	/* never overwritten, and the error does not show the key */
	assert_int_equal(keys_create(path, false, &pub2, &e), -1);
	assert_non_null(strstr(e.details, "already exists"));
	text[44] = '\0';
	assert_null(strstr(e.details, text));
	assert_int_equal(keys_load(path, &priv, &e), 0);
	keys_public(&priv, &derived);
	assert_memory_equal(derived.b, pub.b, WG_KEY_LEN);
	/* --force replaces it atomically with a new key */
	assert_int_equal(keys_create(path, true, &pub2, &e), 0);
	assert_int_not_equal(wg_key_cmp(&pub, &pub2), 0);
	assert_int_equal(keys_load(path, &priv, &e), 0);
	keys_public(&priv, &derived);
	assert_memory_equal(derived.b, pub2.b, WG_KEY_LEN);
	/* no temp file left behind */
	snprintf(text, sizeof(text), "ls %s/sub | wc -l | grep -qx 1", tmpdir);
	assert_int_equal(system(text), 0);
}

static void key_file_refusals(void **state)
{
	char path[128];
	struct wg_key pub, priv;
	struct vn_err e = { 0 };
	FILE *f;

	(void)state;
	snprintf(path, sizeof(path), "%s/loose.key", tmpdir);
	assert_int_equal(keys_create(path, false, &pub, &e), 0);
	chmod(path, 0640);
	assert_int_equal(keys_load(path, &priv, &e), -1);
	assert_non_null(strstr(e.details, "0640"));
	chmod(path, 0600);
	assert_int_equal(keys_load(path, &priv, &e), 0);

	snprintf(path, sizeof(path), "%s/garbage.key", tmpdir);
	f = fopen(path, "w");
	fputs("not a key at all\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(keys_load(path, &priv, &e), -1);
	assert_non_null(strstr(e.details, "does not hold"));
	assert_null(strstr(e.details, "not a key at all"));

	snprintf(path, sizeof(path), "%s/two-lines.key", tmpdir);
	f = fopen(path, "w");
	fputs(PRIV_B64 "\n" PRIV_B64 "\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(keys_load(path, &priv, &e), -1);

	snprintf(path, sizeof(path), "%s/wg.key", tmpdir);	/* as `wg genkey >` writes it */
	f = fopen(path, "w");
	fputs(PRIV_B64 "\n", f);
	fclose(f);
	chmod(path, 0600);
	assert_int_equal(keys_load(path, &priv, &e), 0);
	keys_public(&priv, &pub);
	{
		char b64[WG_KEY_B64_LEN];

		assert_string_equal(wg_key_to_base64(&pub, b64), PUB_B64);
	}
	snprintf(path, sizeof(path), "%s/missing.key", tmpdir);
	assert_int_equal(keys_load(path, &priv, &e), -1);
}

static void write_key(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* Key files as wg(8) reads them: the key, then any whitespace (CRLF, a
 * blank line); nothing before it. A Kubernetes Secret volume's file is a
 * symlink (..data/KEY): followed, the target's mode is what counts. */
static void key_files_like_wg(void **state)
{
	char path[128], link_path[160], b64[WG_KEY_B64_LEN];
	struct wg_key priv, pub;
	struct vn_err e = { 0 };
	static const char *ok[] = { PRIV_B64, PRIV_B64 "\r\n", PRIV_B64 " \n\n", PRIV_B64 "\t\n" };
	static const char *bad[] = { " " PRIV_B64 "\n", PRIV_B64 "x\n", PRIV_B64 "\n#\n", "",
				     "\n", PRIV_B64 "\n" PRIV_B64 "\n" };

	(void)state;
	snprintf(path, sizeof(path), "%s/like-wg.key", tmpdir);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		write_key(path, ok[i], 0600);
		if (keys_load(path, &priv, &e))
			fail_msg("key file %zu refused: %s", i, e.details);
		keys_public(&priv, &pub);
		assert_string_equal(wg_key_to_base64(&pub, b64), PUB_B64);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_key(path, bad[i], 0600);
		if (keys_load(path, &priv, &e) == 0)
			fail_msg("bad key file %zu accepted", i);
		assert_null(strstr(e.details, "dwdtCnMY"));	/* never the content */
	}
	/* a Secret volume: mesh.key -> ..data/mesh.key */
	write_key(path, PRIV_B64 "\n", 0400);
	snprintf(link_path, sizeof(link_path), "%s/secret-link.key", tmpdir);
	unlink(link_path);
	assert_int_equal(symlink(path, link_path), 0);
	assert_int_equal(keys_load(link_path, &priv, &e), 0);
	chmod(path, 0644);	/* the Secret's default mode: refused */
	assert_int_equal(keys_load(link_path, &priv, &e), -1);
	assert_non_null(strstr(e.details, "0644"));
	unlink(link_path);
	chmod(path, 0600);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(known_vector),
		cmocka_unit_test(text_forms),
		cmocka_unit_test(generate_is_clamped_and_fresh),
		cmocka_unit_test(key_file),
		cmocka_unit_test(key_file_refusals),
		cmocka_unit_test(key_files_like_wg),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
