#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# http probes end to end: nginx from Debian in a lab, status, body checks, secrets, TLS, and the
# measured time to recover after nginx is killed and restarted after a known delay.

bats_require_minimum_version 1.5.0

load '../lib/common'
load '../lib/lab-helpers'

setup() {
	require_root
	command -v nginx >/dev/null || skip "needs nginx (nginx-light)"
	lab_setup
	D="$BATS_TEST_TMPDIR"
}

# lab_teardown (fl_teardown, then by hand) kills every process in this test's namespaces
teardown() { lab_teardown; }

# nginx.conf in the test directory: foreground, one process, nothing written outside $D.
# $1: extra directives for the server block.
write_nginx_conf() {
	cat >"$D/nginx.conf" <<EOF
daemon off;
master_process off;
worker_processes 1;
error_log stderr;
pid $D/nginx.pid;
events {}
http {
	access_log off;
	client_body_temp_path $D/body;
	proxy_temp_path $D/proxy;
	fastcgi_temp_path $D/fastcgi;
	uwsgi_temp_path $D/uwsgi;
	scgi_temp_path $D/scgi;
	server {
		listen 80;
		location /health { return 200 "ok\n"; }
		location /fail { return 503; }
		$1
	}
}
EOF
}

NGINX_RUN='[nginx, -c, NGINXCONF, -p, TESTDIR/, -e, stderr]'

# write_http_scenario FILE NAME WEB_EXTRA PROBES_YAML [REST_YAML]
write_http_scenario() {
	local run="${NGINX_RUN//NGINXCONF/$D/nginx.conf}"
	run="${run//TESTDIR/$D}"
	cat >"$1" <<EOF
version: 1
name: $2
lab:
  hosts:
    web: { run: $run, ready: { tcp: 80 }$3 }
    client: {}
steady_state:
  baseline: 500ms
  probes:
$4
$5
EOF
}

# Nothing of this test's runs is left: namespaces, cgroups, records, nginx.
nothing_left() {
	local id
	for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
		[ -z "$(lab_leftovers "$id" | grep -v '^records')" ] || return 1
	done
	! pgrep -f -- "-c $D/nginx.conf" >/dev/null
}

@test "an http probe against nginx in a lab passes" {
	write_nginx_conf
	write_http_scenario s.yaml healthy "" \
'    - { name: health, http: { url: "http://web/health", status: 200 }, from: client, every: 100ms }
    - { name: head, http: { url: "http://web/health", method: HEAD, status: [200, 204] }, every: 100ms }
    - { name: by-addr, http: { url: "http://198.18.0.10:80/health", status: 2xx }, every: 100ms }'
	run "$FL" run --out out s.yaml
	assert_success
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["verdict"] == "passed", r.get("reason")
for p in r["probes"]:
    assert p["kind"] == "http", p
    s = p["samples"]
    assert len(s) >= 5, (p["name"], len(s))
    assert all(x["ok"] and x["reason"] == "HTTP 200" for x in s), s
    assert all("value" not in x for x in s)
health = r["probes"][0]
assert health["target"] == "http://web/health" and health["from"] == "client"
assert r["probes"][2]["target"] == "http://198.18.0.10:80/health"
P
	nothing_left
}

@test "an http status outside the expected set fails the baseline with exit 4" {
	write_nginx_conf
	write_http_scenario s.yaml unhealthy "" \
'    - { name: fail, http: { url: "http://web/fail" }, every: 100ms }'
	run "$FL" run --out out s.yaml
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'fail'"
	assert_output --partial "HTTP 503"
	python3 -c '
import json
r = json.load(open("out/result.json"))
assert r["verdict"] == "aborted"
s = r["probes"][0]["samples"]
assert s and all(not x["ok"] and x["reason"] == "HTTP 503" for x in s), s'
	# the other way round: 503 expected, and 200 is the failure
	write_http_scenario s2.yaml expect503 "" \
'    - { name: fail, http: { url: "http://web/fail", status: [500, 503] }, every: 100ms }
    - { name: health, http: { url: "http://web/health", status: 5xx }, every: 100ms }'
	run "$FL" run --out out2 s2.yaml
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'health'"
	assert_output --partial "HTTP 200"
	nothing_left
}

@test "contains and matches check the response body" {
	write_nginx_conf
	write_http_scenario s.yaml body "" \
'    - { name: contains, http: { url: "http://web/health", contains: "ok" }, every: 100ms }
    - { name: matches, http: { url: "http://web/health", matches: "^o[k]+$" }, every: 100ms }
    - { name: head-only, http: { url: "http://web/fail", method: HEAD, status: 503 }, every: 100ms }'
	run "$FL" run --out out s.yaml
	assert_success
	python3 -c '
import json
r = json.load(open("out/result.json"))
for p in r["probes"]:
    assert p["samples"] and all(s["ok"] for s in p["samples"]), p'
	# 2 MiB: more than a probe reads; 198.18.0.99: nobody in the lab answers ARP for it
	head -c 2097152 /dev/zero >"$D/big.bin"
	write_nginx_conf "location /big { alias $D/big.bin; }"
	write_http_scenario s2.yaml nobody "" \
'    - { name: no-contains, http: { url: "http://web/health", contains: "healthy" }, every: 100ms }
    - { name: no-match, http: { url: "http://web/health", matches: "^OK$" }, every: 100ms }
    - { name: too-large, http: { url: "http://web/big" }, every: 100ms }
    - { name: slow, http: { url: "http://198.18.0.99/" }, every: 100ms, timeout: 150ms }'
	run "$FL" run --out out2 s2.yaml
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'no-contains'"
	python3 -c '
import json
r = json.load(open("out2/result.json"))
p = {x["name"]: x["samples"] for x in r["probes"]}
want = {"no-contains": "body does not contain \x27healthy\x27", "no-match": "body does not match \x27^OK$\x27",
        "too-large": "response too large", "slow": "timeout after 150ms"}
for name, reason in want.items():
    assert p[name] and all(not s["ok"] and s["reason"] == reason for s in p[name]), (name, p[name])'
	nothing_left
}

@test "header values and URL credentials never appear in results, reports or logs" {
	# nginx answers 200 only when both secrets arrived: the probe did send them
	basic="$(printf 'probeuser:s3cr3t-in-url' | base64)"
	write_nginx_conf "location /auth {
			if (\$http_x_api_key != \"s3cr3t-in-header\") { return 401; }
			if (\$http_authorization != \"Basic $basic\") { return 403; }
			return 200 \"authorized\";
		}"
	write_http_scenario s.yaml secrets "" \
'    - name: auth
      http:
        url: "http://probeuser:s3cr3t-in-url@web/auth"
        headers: { X-Api-Key: "s3cr3t-in-header", Accept: "text/plain" }
        contains: authorized
      every: 100ms
    - name: denied
      http: { url: "http://nobody:s3cr3t-wrong@web/auth", headers: { X-Api-Key: "s3cr3t-wrong" } }
      every: 100ms'
	# 'denied' fails the baseline: its reason, like everything written, shows no secret
	run --separate-stderr "$FL" run --out out s.yaml
	assert_failure 4
	[[ "$output$stderr" == *"unhealthy baseline: probe 'denied'"*"HTTP 401"* ]]
	[[ "$output$stderr" != *s3cr3t* ]]
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in r["probes"]}
assert p["auth"]["target"] == "http://***@web/auth", p["auth"]["target"]
assert all(s["ok"] for s in p["auth"]["samples"]), p["auth"]["samples"]
assert p["denied"]["samples"] and all(s["reason"] == "HTTP 401" for s in p["denied"]["samples"])
P
	run "$FL" run --dry-run --json s.yaml
	assert_success
	dry="$output"
	# result.json, junit.xml, report.md, report.html, the lab's logs, the journal
	ls out/result.json out/report.html >/dev/null
	[ -z "$(grep -rl s3cr3t out "$FAULTLINE_STATE_DIR")" ]
	[[ "$dry" == *'http://***@web/auth'* ]]
	[[ "$dry" != *s3cr3t* ]]
	nothing_left
}

@test "kill nginx, restart after 1s: time to recover is the delay plus at most one interval" {
	write_nginx_conf
	# every: 100ms; the lab restarts nginx 1s after it died
	write_http_scenario s.yaml ttr ", restart: always, restart_delay: 1s" \
'    - { name: health, http: { url: "http://web/health" }, from: client, every: 100ms, timeout: 200ms }' \
'faults:
  - { name: kill-nginx, kind: kill, on: web, target: { name: nginx }, at: 300ms, for: 100ms }
recovery: { within: 5s, healthy_for: 500ms }'
	run "$FL" run --out out s.yaml
	assert_success
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
p = r["probes"][0]
assert p["detected"] is True, p
ttr = p["time_to_recover_s"]
every = p["every_s"]
# measured from the kill: the restart delay, then at most one probe interval + startup slack
assert 1.0 <= ttr <= 1.0 + every + 0.3, ttr
fails = [s for s in p["samples"] if not s["ok"]]
# a sample in flight at the kill may see a reset or an empty reply; then nothing listens
assert len(fails) >= 5 and all(s["reason"] == "connection refused" for s in fails[1:]), fails
print("time_to_recover_s", ttr)
P
	nothing_left
}

@test "https: verification is on by default; tls_verify: false and ca_file pass" {
	command -v openssl >/dev/null || skip "needs openssl"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
		-subj /CN=web -addext subjectAltName=DNS:web -keyout "$D/key.pem" \
		-out "$D/cert.pem" 2>/dev/null
	write_nginx_conf "listen 443 ssl;
		ssl_certificate $D/cert.pem;
		ssl_certificate_key $D/key.pem;"
	write_http_scenario s.yaml tls "" \
'    - { name: strict, http: { url: "https://web/health" }, every: 100ms }
    - { name: insecure, http: { url: "https://web/health", tls_verify: false }, every: 100ms }
    - { name: pinned-ca, http: { url: "https://web/health", ca_file: cert.pem }, every: 100ms }'
	run "$FL" run --out out s.yaml
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'strict'"
	assert_output --partial "TLS: SSL certificate problem"
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
p = {x["name"]: x["samples"] for x in r["probes"]}
assert p["strict"] and all(not s["ok"] and s["reason"].startswith("TLS: ") for s in p["strict"]), p["strict"]
# the host name is 'web' on the wire (SNI, certificate check) though it resolves to a lab address
for name in ("insecure", "pinned-ca"):
    assert p[name] and all(s["ok"] and s["reason"] == "HTTP 200" for s in p[name]), (name, p[name])
P
	nothing_left
}
