/* SPDX-License-Identifier: GPL-2.0-only */
/* Mutual TLS for the agent (OpenSSL, TLS 1.3 only): contexts, peer identity, certificates. */
#ifndef FL_TLS_H
#define FL_TLS_H

#include <openssl/ssl.h>
#include <stdbool.h>

#define FL_TLS_VERIFY_DEPTH 4

/* Server: presents cert/key, requires a client certificate the CA signed (clientAuth). */
SSL_CTX *fl_tls_server_ctx(const char *ca, const char *cert, const char *key, char **ret_reason);
/* Client: presents cert/key, requires the agent's certificate the CA signed (serverAuth). */
SSL_CTX *fl_tls_client_ctx(const char *ca, const char *cert, const char *key, char **ret_reason);

/* The last OpenSSL error queue as text ("" when empty); clears the queue. */
const char *fl_tls_error(char *buf, size_t len);

/* The peer certificate's subject CN (or first SAN), "?" when absent. */
void fl_tls_peer_name(SSL *ssl, char *buf, size_t len);
/* Does the peer certificate carry one of names (CN, DNS or IP SAN)? */
bool fl_tls_peer_allowed(SSL *ssl, char *const *names);

/*
 * `faultline agent certs`: DIR/ca.pem + ca.key (created, or reused when both exist), then
 * NAME.pem + NAME.key for every agent (serverAuth) and client (clientAuth), EC P-256, SANs =
 * the name (an IP SAN for an IP literal), valid `days` days from now; a negative `days`
 * makes a certificate that expired -days days ago (for tests). Files 0600.
 */
int fl_tls_make_certs(const char *dir, char *const *agents, char *const *clients, int days,
		      const char *ca_name, char **ret_reason);

#endif
