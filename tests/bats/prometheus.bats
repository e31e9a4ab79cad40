#!/usr/bin/env bats
# SPDX-License-Identifier: GPL-2.0-only
# prometheus probes against a real Prometheus server (Debian's) running in a lab host and
# scraping itself there: values, bounds, and the query outcomes a probe must tell apart.

bats_require_minimum_version 1.5.0

load '../lib/common'
load '../lib/lab-helpers'

setup() {
	require_root
	command -v prometheus >/dev/null || skip "needs prometheus (apt-get install prometheus)"
	command -v curl >/dev/null || skip "needs curl"
	lab_setup
	D="$BATS_TEST_TMPDIR"
}

teardown() { lab_teardown; }

nothing_left() {
	local id
	for id in $(ls "$FAULTLINE_STATE_DIR/runs" 2>/dev/null); do
		[ -z "$(lab_leftovers "$id" | grep -v '^records')" ] || return 1
	done
	! pgrep -f -- "--config.file=$D/prom.yml" >/dev/null
}

@test "a prometheus probe reads 'up' from a real server in the lab; bounds and bad queries fail" {
	cat >"$D/prom.yml" <<'EOF'
global: { scrape_interval: 1s, evaluation_interval: 1s }
scrape_configs:
  - job_name: prometheus
    static_configs: [ { targets: ["localhost:9090"] } ]
EOF
	# Prometheus hands its first targets to the scraper only after ~5s (its discovery
	# throttle), so a gate host opens port 8000 once 'up' has a sample: the lab is ready then.
	cat >s.yaml <<EOF
version: 1
name: prom
lab:
  hosts:
    prom:
      run: [prometheus, --config.file=$D/prom.yml, --storage.tsdb.path=$D/tsdb,
            --web.listen-address=:9090]
      ready: { tcp: 9090 }
    gate:
      run: [sh, -c, 'until curl -sf --noproxy "*" "http://prom:9090/api/v1/query?query=up" |
                      grep -q "\"1\"\]"; do sleep 0.2; done; exec busybox nc -ll -p 8000 -e true']
      ready: { tcp: 8000, timeout: 30s }
    client: {}
steady_state:
  baseline: 1s
  probes:
    - name: up
      prometheus: { url: "http://prom:9090/", query: 'up{job="prometheus"}', min: 1, max: 1 }
      from: client
      every: 200ms
    - name: toohigh
      prometheus: { url: "http://prom:9090", query: up, min: 2 }
      every: 200ms
    - name: twice
      prometheus: { url: "http://prom:9090", query: 'scalar(up) * 2', max: 1.5 }
      every: 250ms
      expect: { success_rate: "0%" }
    - name: empty
      prometheus: { url: "http://prom:9090", query: 'up{job="nope"}' }
      every: 250ms
      expect: { success_rate: "0%" }
    - name: series
      prometheus: { url: "http://prom:9090", query: '{__name__=~"up|scrape_samples_scraped"}' }
      every: 250ms
      expect: { success_rate: "0%" }
    - name: syntax
      prometheus: { url: "http://prom:9090", query: "up{" }
      every: 250ms
      expect: { success_rate: "0%" }
EOF
	run "$FL" run --out out s.yaml
	# 'toohigh' makes the baseline unhealthy; 'up' itself held
	assert_failure 4
	assert_output --partial "unhealthy baseline: probe 'toohigh'"
	assert_output --partial "value 1 < min 2"
	assert_output --partial "[pass] baseline: up"
	python3 - out/result.json <<'P'
import json, sys
r = json.load(open(sys.argv[1]))
p = {x["name"]: x for x in r["probes"]}
up = p["up"]
assert up["kind"] == "prometheus" and up["target"] == "http://prom:9090/", up["target"]
assert up["query"] == 'up{job="prometheus"}' and up["from"] == "client"
assert len(up["samples"]) >= 4, up["samples"]
assert all(s["ok"] and s["value"] == 1 and s["reason"] == "value 1" for s in up["samples"]), up["samples"]

def each(name, check):
    s = p[name]["samples"]
    assert s and all(not x["ok"] and check(x) for x in s), (name, s)

each("toohigh", lambda x: x["reason"] == "value 1 < min 2" and x["value"] == 1)
each("twice", lambda x: x["reason"] == "value 2 > max 1.5" and x["value"] == 2)
each("empty", lambda x: x["reason"] == "empty result" and "value" not in x)
each("series", lambda x: x["reason"] == "2 series, expected 1" and "value" not in x)
each("syntax", lambda x: x["reason"].startswith('query error: invalid parameter "query"'))
P
	nothing_left
}
