// SPDX-License-Identifier: GPL-2.0-only
/* Mutual TLS 1.3 for the agent and its controllers, and `faultline agent certs` (OpenSSL). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>
#include <string.h>
#include <sys/stat.h>

#include "inject/netutil.h"
#include "inject/tls.h"
#include "inject/util.h"

const char *fl_tls_error(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	buf[0] = '\0';
	if (last) {
		const char *r = ERR_reason_error_string(last);
		if (r)
			snprintf(buf, len, "%s", r);
		else
			ERR_error_string_n(last, buf, len);
	}
	return buf;
}

static int check_file(const char *flag, const char *path, char **ret_reason)
{
	if (!path || !*path)
		return fl_set_reason(ret_reason, -EINVAL, "%s: a PEM file is needed", flag);
	if (access(path, R_OK) < 0)
		return fl_set_reason(ret_reason, -errno, "%s %s: %s", flag, path, strerror(errno));
	return 0;
}

static SSL_CTX *make_ctx(bool server, const char *ca, const char *cert, const char *key,
			 char **ret_reason)
{
	SSL_CTX *ctx;
	char e[256];

	if (check_file("--ca", ca, ret_reason) < 0 || check_file("--cert", cert, ret_reason) < 0 ||
	    check_file("--key", key, ret_reason) < 0)
		return NULL;
	ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
	if (!ctx) {
		fl_set_reason(ret_reason, -ENOMEM, "TLS: %s", fl_tls_error(e, sizeof(e)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
	/* a peer that hangs up without close_notify is an end of stream like any other: the
	 * framing tells a whole message from a truncated one */
	SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_IGNORE_UNEXPECTED_EOF);
	if (server)
		SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1) {
		fl_set_reason(ret_reason, -EINVAL, "--cert %s: not a usable PEM certificate: %s",
			      cert, fl_tls_error(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
		fl_set_reason(ret_reason, -EINVAL, "--key %s: not a usable PEM key: %s", key,
			      fl_tls_error(e, sizeof(e)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		fl_set_reason(ret_reason, -EINVAL, "--key %s does not belong to --cert %s", key,
			      cert);
		goto fail;
	}
	if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1) {
		fl_set_reason(ret_reason, -EINVAL, "--ca %s: not a usable PEM CA certificate: %s",
			      ca, fl_tls_error(e, sizeof(e)));
		goto fail;
	}
	/* the peer must present a certificate of the CA, for its role */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, FL_TLS_VERIFY_DEPTH);
	SSL_CTX_set_purpose(ctx, server ? X509_PURPOSE_SSL_CLIENT : X509_PURPOSE_SSL_SERVER);
	if (server) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL_CTX *fl_tls_server_ctx(const char *ca, const char *cert, const char *key, char **ret_reason)
{
	return make_ctx(true, ca, cert, key, ret_reason);
}

SSL_CTX *fl_tls_client_ctx(const char *ca, const char *cert, const char *key, char **ret_reason)
{
	return make_ctx(false, ca, cert, key, ret_reason);
}

void fl_tls_peer_name(SSL *ssl, char *buf, size_t len)
{
	X509 *x = SSL_get0_peer_certificate(ssl);

	snprintf(buf, len, "?");
	if (!x)
		return;
	if (X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, buf, (int)len) < 0)
		snprintf(buf, len, "?");
	/* a name for logs: nothing but printable ASCII */
	for (char *p = buf; *p; p++)
		if (*p < 0x21 || *p > 0x7e)
			*p = '?';
}

bool fl_tls_peer_allowed(SSL *ssl, char *const *names)
{
	X509 *x = SSL_get0_peer_certificate(ssl);
	char cn[256];

	if (!x)
		return false;
	fl_tls_peer_name(ssl, cn, sizeof(cn));
	for (size_t i = 0; names && names[i]; i++) {
		if (strcmp(names[i], cn) == 0 || X509_check_ip_asc(x, names[i], 0) == 1 ||
		    X509_check_host(x, names[i], 0, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS, NULL) ==
			    1)
			return true;
	}
	return false;
}

/* --- certificates ------------------------------------------------------------------------- */

static bool is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

/* A DNS name or an IP literal: it goes into an extension's configuration text. */
static bool good_name(const char *s)
{
	size_t n = strlen(s);

	if (is_ip(s))
		return true;
	if (n == 0 || n > 253 || s[0] == '-' || s[0] == '.')
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
			return false;
	return true;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ex;

	X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	if (!ex)
		return -EINVAL;
	X509_add_ext(x, ex, -1);
	X509_EXTENSION_free(ex);
	return 0;
}

static int write_pem(const char *dir, const char *name, const char *ext, X509 *x, EVP_PKEY *k,
		     char **ret_reason)
{
	_cleanup_free_ char *path = NULL;
	FILE *f;
	int fd, ok;

	if (asprintf(&path, "%s/%s.%s", dir, name, ext) < 0)
		return -ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fl_set_reason(ret_reason, -errno, "%s: %s", path, strerror(errno));
	fchmod(fd, 0600);
	f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	ok = x ? PEM_write_X509(f, x) : PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(f) != 0 || !ok)
		return fl_set_reason(ret_reason, -EIO, "%s: cannot write", path);
	return 0;
}

enum role { ROLE_CA, ROLE_AGENT, ROLE_CLIENT };

static X509 *make_cert(const char *cn, enum role role, int days, EVP_PKEY *key, X509 *ca,
		       EVP_PKEY *ca_key)
{
	X509 *x = X509_new();
	BIGNUM *bn = BN_new();
	long before = -300, after;
	char san[300];
	bool ok;

	if (days < 0) {
		/* expired -days days ago (tests of the agent's refusal) */
		before = ((long)days - 1) * 86400;
		after = (long)days * 86400;
	} else {
		after = (long)days * 86400;
	}
	ok = x && bn && X509_set_version(x, 2) &&
	     BN_rand(bn, 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
	     BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) &&
	     X509_gmtime_adj(X509_getm_notBefore(x), before) &&
	     X509_gmtime_adj(X509_getm_notAfter(x), after) && X509_set_pubkey(x, key) &&
	     X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_UTF8,
					(const unsigned char *)cn, -1, -1, 0) &&
	     X509_set_issuer_name(x, ca ? X509_get_subject_name(ca) : X509_get_subject_name(x));
	BN_free(bn);
	if (ok && role == ROLE_CA)
		ok = add_ext(x, NULL, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
		     add_ext(x, NULL, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
		     add_ext(x, NULL, NID_subject_key_identifier, "hash") == 0;
	if (ok && role != ROLE_CA) {
		snprintf(san, sizeof(san), "%s:%s", is_ip(cn) ? "IP" : "DNS", cn);
		ok = add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
		     add_ext(x, ca, NID_key_usage, "critical,digitalSignature") == 0 &&
		     add_ext(x, ca, NID_ext_key_usage,
			     role == ROLE_AGENT ? "serverAuth" : "clientAuth") == 0 &&
		     add_ext(x, ca, NID_subject_alt_name, san) == 0 &&
		     add_ext(x, ca, NID_subject_key_identifier, "hash") == 0 &&
		     add_ext(x, ca, NID_authority_key_identifier, "keyid:always") == 0;
	}
	if (ok)
		ok = X509_sign(x, ca_key ? ca_key : key, EVP_sha256()) > 0;
	if (!ok) {
		X509_free(x);
		return NULL;
	}
	return x;
}

static int load_ca(const char *dir, X509 **ret_x, EVP_PKEY **ret_k, char **ret_reason)
{
	_cleanup_free_ char *cp = NULL, *kp = NULL;
	FILE *f;

	if (asprintf(&cp, "%s/ca.pem", dir) < 0 || asprintf(&kp, "%s/ca.key", dir) < 0)
		return -ENOMEM;
	if (access(cp, F_OK) < 0 && access(kp, F_OK) < 0)
		return 0;
	f = fopen(cp, "re");
	if (f) {
		*ret_x = PEM_read_X509(f, NULL, NULL, NULL);
		fclose(f);
	}
	f = fopen(kp, "re");
	if (f) {
		*ret_k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
		fclose(f);
	}
	if (!*ret_x || !*ret_k || X509_check_private_key(*ret_x, *ret_k) != 1)
		return fl_set_reason(ret_reason, -EINVAL,
				     "--dir %s: ca.pem and ca.key must both exist and match (or "
				     "neither, to create a CA)",
				     dir);
	return 1;
}

int fl_tls_make_certs(const char *dir, char *const *agents, char *const *clients, int days,
		      const char *ca_name, char **ret_reason)
{
	X509 *ca = NULL;
	EVP_PKEY *ca_key = NULL;
	char e[256];
	int r;

	for (size_t i = 0; agents && agents[i]; i++)
		if (!good_name(agents[i]))
			return fl_set_reason(ret_reason, -EINVAL,
					     "--agent: '%.80s' is neither a host name nor an IP "
					     "address",
					     agents[i]);
	for (size_t i = 0; clients && clients[i]; i++)
		if (!good_name(clients[i]))
			return fl_set_reason(ret_reason, -EINVAL,
					     "--client: '%.80s' is not a name of [A-Za-z0-9._-]",
					     clients[i]);
	r = fl_mkdir_p(dir, 0700);
	if (r < 0)
		return fl_set_reason(ret_reason, r, "--dir %s: %s", dir, strerror(-r));
	r = load_ca(dir, &ca, &ca_key, ret_reason);
	if (r < 0)
		goto out;
	if (r == 0) {
		ca_key = EVP_EC_gen("P-256");
		ca = ca_key ? make_cert(ca_name ? ca_name : "faultline CA", ROLE_CA,
					days > 3650 ? days : 3650, ca_key, NULL, NULL)
			    : NULL;
		if (!ca) {
			r = fl_set_reason(ret_reason, -EIO, "cannot create the CA: %s",
					  fl_tls_error(e, sizeof(e)));
			goto out;
		}
		if ((r = write_pem(dir, "ca", "key", NULL, ca_key, ret_reason)) < 0 ||
		    (r = write_pem(dir, "ca", "pem", ca, NULL, ret_reason)) < 0)
			goto out;
	}
	for (int pass = 0; pass < 2; pass++) {
		char *const *v = pass == 0 ? agents : clients;
		for (size_t i = 0; v && v[i]; i++) {
			EVP_PKEY *k = EVP_EC_gen("P-256");
			X509 *x = k ? make_cert(v[i], pass == 0 ? ROLE_AGENT : ROLE_CLIENT, days, k,
						ca, ca_key)
				    : NULL;
			r = x ? write_pem(dir, v[i], "key", NULL, k, ret_reason) : -EIO;
			if (r == 0)
				r = write_pem(dir, v[i], "pem", x, NULL, ret_reason);
			else if (r == -EIO)
				fl_set_reason(ret_reason, r,
					      "cannot create a certificate for '%s': %s", v[i],
					      fl_tls_error(e, sizeof(e)));
			X509_free(x);
			EVP_PKEY_free(k);
			if (r < 0)
				goto out;
		}
	}
	r = 0;
out:
	X509_free(ca);
	EVP_PKEY_free(ca_key);
	return r;
}
