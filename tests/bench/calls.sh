#!/usr/bin/env bash
# What arm_min_calls counts per call (issue 11), by client style: the
# daemon's watch_calls counter read before and after N calls of each
# (README, "What each threshold counts"). Plain HTTP to okx_sim, TLS to
# openssl s_server (which closes after each answer: a connection per call),
# and a websocket-style line flow to netprobe's echo server, in the test lab
# of tests/lib/netns.sh (198.18.0.0/15 only). A benchmark, not a test: it
# prints numbers and fails only when it cannot run.
#
#   CALLS_N (default 20)   calls per client style
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
LAB=${LAB:-$TOP/build/lab}
OKX_FAULTD=${OKX_FAULTD:-$TOP/okx-faultd}
. "$TOP/tests/lib/netns.sh"
need_root
need_tool openssl
python3 -c "import requests" 2>/dev/null || fail "python3-requests is not installed (tests/deps.sh install)"
lab_init bench-calls
lab_two
NP="$LAB/netprobe"
bg_srv "$LAB/okx_sim" --listen 198.18.0.2:443 --max-seconds 300
wait_for "okx_sim" in_cli "$NP" tcp 198.18.0.2 443 --timeout-ms 200
serve "$LAB_TMP/echo.log" srv "$NP" tcp-serve 198.18.0.2 8443 --seconds 300
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$LAB_TMP/k.pem" -out "$LAB_TMP/c.pem" -days 2 -subj /CN=www.okx.com 2>/dev/null ||
	fail "openssl req"
bg_srv openssl s_server -quiet -accept 198.18.0.2:4443 -cert "$LAB_TMP/c.pem" -key "$LAB_TMP/k.pem" -www >/dev/null 2>&1
wait_for "tls" in_cli "$NP" tcp 198.18.0.2 4443 --timeout-ms 200
cat > "$LAB_TMP/p.policy" <<P
name = meas
target = 198.18.0.2
port = 443,4443,8443
arm_min_calls = 1000000
arm_timeout = 300s
fault = drop 1s
P
bg_cli "$OKX_FAULTD" -q -j "$LAB_TMP/j" "$LAB_TMP/p.policy"
D=$!
wait_for "table" in_cli nft list counter inet okx_faultd watch_calls
ctr() { in_cli nft list counter inet okx_faultd watch_calls | sed -n 's/.*packets \([0-9]*\).*/\1/p'; }
run() {
	local what=$1 b a
	shift
	b=$(ctr)
	in_cli python3 -c "$*"
	a=$(ctr)
	echo "$what: $((a - b)) calls counted"
}
N=${CALLS_N:-20}
run "requests.Session keep-alive, $N GETs" "import requests; s=requests.Session(); [s.get('http://198.18.0.2:443/api/v5/public/time',timeout=2) for _ in range($N)]"
run "requests fresh connection per call, $N GETs" "import requests; [requests.get('http://198.18.0.2:443/api/v5/public/time',timeout=2,headers={'Connection':'close'}) for _ in range($N)]"
run "requests POST with a 300-byte JSON body, keep-alive, $N" "import requests; s=requests.Session(); [s.post('http://198.18.0.2:443/api/v5/trade/order',json={'x':'y'*300},timeout=2) for _ in range($N)]"
run "requests POST with a 100 kB body, keep-alive, $N" "import requests; s=requests.Session(); [s.post('http://198.18.0.2:443/api/v5/trade/order',data=b'y'*100000,timeout=2) for _ in range($N)]"
run "TLS 1.3 requests.Session (the server closes: a connection per call), $N GETs" "import requests,urllib3; urllib3.disable_warnings(); s=requests.Session(); [s.get('https://198.18.0.2:4443/',verify=False,timeout=2) for _ in range($N)]"
run "TLS 1.3 fresh connection per call, $N GETs" "import requests,urllib3; urllib3.disable_warnings(); [requests.get('https://198.18.0.2:4443/',verify=False,timeout=2,headers={'Connection':'close'}) for _ in range($N)]"
run "TLS 1.2 fresh connection per call, $N GETs" "import requests,urllib3,ssl; urllib3.disable_warnings(); from requests.adapters import HTTPAdapter
class A(HTTPAdapter):
    def init_poolmanager(self,*a,**k):
        c=ssl.create_default_context(); c.check_hostname=False; c.verify_mode=ssl.CERT_NONE; c.maximum_version=ssl.TLSVersion.TLSv1_2; k['ssl_context']=c; return super().init_poolmanager(*a,**k)
for _ in range($N):
    s=requests.Session(); s.mount('https://',A()); s.get('https://198.18.0.2:4443/',verify=False,timeout=2,headers={'Connection':'close'}); s.close()"
run "websocket-style flow: $N messages, one line each" "import socket; s=socket.create_connection(('198.18.0.2',8443)); f=s.makefile('rb')
for _ in range($N): s.sendall(b'ping\n'); f.readline()"
run "websocket-style flow idle 3 s with TCP keepalive probes (1 s)" "import socket,time; s=socket.create_connection(('198.18.0.2',8443)); s.setsockopt(socket.SOL_SOCKET,socket.SO_KEEPALIVE,1); s.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPIDLE,1); s.setsockopt(socket.IPPROTO_TCP,socket.TCP_KEEPINTVL,1); time.sleep(3.5)"
# SIGTERM aborts the drill: exit 4 (okx-faultd(8), EXIT STATUS)
kill $D
wait $D
rc=$?
[ "$rc" = 4 ] || fail "okx-faultd exited $rc after SIGTERM, not 4"
