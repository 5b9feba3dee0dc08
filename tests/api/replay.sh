#!/bin/sh
# replay.sh: replays a recorded client sequence (tests/api/sequences/*.seq, format in tests/api/README.md)
# against kvmini started as `firecracker`, checking each status against Firecracker's and every request
# and response body, and the config file, against tests/api/firecracker-api.schema.json with api-check.
#
# Usage: replay.sh --kvmini BIN --check API_CHECK --work DIR [--host] [--set NAME=VALUE]... SEQ
#   --host      stop at the sequence's BOOT line: what needs no KVM (make api-replay)
#   --set       a placeholder's value: @KERNEL@, @INITRD@, @TAP@, @GUEST_ARGS@, @INITRD_MEMBER@, ...
#               (@DIR@, @SOCK@ and @ID@ are the runner's own)
# Every difference from Firecracker is one "DIFF" line naming the sequence's line; the replay goes on after
# one (so a run lists them all) unless the VMM is gone. Exit 0 when there was none, 1 otherwise, 2 on usage.
set -uf

die() { echo "replay: $*" >&2; exit 2; }

KVMINI='' CHECK='' WORK='' HOST=0 USER_SUBST=''
while [ $# -gt 1 ]; do
	case $1 in
	--kvmini) KVMINI=$2; shift 2 ;;
	--check) CHECK=$2; shift 2 ;;
	--work) WORK=$2; shift 2 ;;
	--host) HOST=1; shift ;;
	--set) USER_SUBST="$USER_SUBST$2
"; shift 2 ;;
	*) die "unknown option $1" ;;
	esac
done
if [ $# -ne 1 ] || [ -z "$KVMINI" ] || [ -z "$CHECK" ] || [ -z "$WORK" ]; then
	die "usage: replay.sh --kvmini BIN --check API_CHECK --work DIR [--host] [--set NAME=VALUE]... SEQ"
fi
SEQ=$1
[ -f "$SEQ" ] || die "$SEQ: no such sequence"
SCHEMA=$(dirname "$0")/firecracker-api.schema.json
NAME=$(basename "$SEQ" .seq)

# Short paths: a Unix socket's path has at most 107 bytes.
DIR=$WORK/$NAME
rm -rf "$DIR"
mkdir -p "$DIR/bin" || die "cannot make $DIR"
KVMINI=$(cd "$(dirname "$KVMINI")" && pwd)/$(basename "$KVMINI")
# The clients run the binary named firecracker (firectl from PATH, Kata and the SDK by path).
ln -s "$KVMINI" "$DIR/bin/firecracker"
PATH=$DIR/bin:$PATH
# Defaults first, so that --set overrides them: in --host the kernel and initrd only have to exist (as for
# Firecracker, which opens them at PUT /boot-source), and the bench guest's words are not needed.
: >"$DIR/vmlinux"
: >"$DIR/initrd.img"
SUBST="KERNEL=$DIR/vmlinux
INITRD=$DIR/initrd.img
GUEST_ARGS=
INITRD_MEMBER=
${USER_SUBST}DIR=$DIR
SOCK=$DIR/api.sock
ID=kvmini-replay-$NAME
"
SOCK=''
VMM_PID='' VMM_DONE=$DIR/vmm.exit CONSOLE=$DIR/console.log STDERR=$DIR/stderr.log
DIFFS=0 LINE=0 READERS=''

cleanup() {
	[ -z "$VMM_PID" ] || kill -KILL "$VMM_PID" 2>/dev/null
	for r in $READERS; do kill "$r" 2>/dev/null; done
}
trap cleanup EXIT

# subst TEXT: the placeholders filled (values are paths and words: no newline in them).
subst() {
	printf '%s\n' "$1" | awk -v subst="$SUBST" '
		BEGIN { n = split(subst, kv, "\n"); for (i = 1; i <= n; i++) if ((p = index(kv[i], "=")) > 0)
			val["@" substr(kv[i], 1, p - 1) "@"] = substr(kv[i], p + 1) }
		{ out = ""; s = $0
		  while (match(s, /@[A-Z_]+@/)) {
			key = substr(s, RSTART, RLENGTH)
			out = out substr(s, 1, RSTART - 1) ((key in val) ? val[key] : key)
			s = substr(s, RSTART + RLENGTH) }
		  print out s }'
}

diff_line() {
	echo "DIFF $NAME:$LINE: $*"
	DIFFS=$((DIFFS + 1))
}

# The VMM ended (its status in $VMM_DONE), or it never started.
vmm_gone() {
	[ -z "$VMM_PID" ] || [ -e "$VMM_DONE" ]
}

# validate KIND... FILE: api-check, its complaint as a DIFF.
validate() {
	if ! out=$("$CHECK" "$SCHEMA" "$@" 2>&1); then
		diff_line "schema: ${out#api-check: }"
	fi
}

# request METHOD PATH STATUS [BODY]
request() {
	method=$1 path=$2 want=$3 body=${4:-}
	printf '%s' "$body" >"$DIR/request.json"
	validate request "$method" "$path" "$DIR/request.json"
	set --
	if [ -n "$body" ]; then
		set -- --data-binary "@$DIR/request.json" -H 'Content-Type: application/json'
	fi
	got=$(curl -s --max-time 10 --unix-socket "$SOCK" -X "$method" -H 'Accept: application/json' "$@" \
		-o "$DIR/response.json" -w '%{http_code}' "http://localhost$path")
	[ -f "$DIR/response.json" ] || : >"$DIR/response.json"
	echo "  $method $path -> $got $(head -c 200 "$DIR/response.json")"
	if [ "$got" = 000 ]; then
		diff_line "$method $path: no answer ($(head -n 1 "$STDERR" 2>/dev/null))"
		return
	fi
	[ "$got" = "$want" ] || diff_line "$method $path: status $got, Firecracker's is $want: $(head -c 200 "$DIR/response.json")"
	validate response "$method" "$path" "$got" "$DIR/response.json"
	rm -f "$DIR/response.json"
}

launch() {
	echo "  firecracker $*"
	: >"$CONSOLE"
	(
		firecracker "$@" </dev/null >"$CONSOLE" 2>"$STDERR" &
		echo $! >"$DIR/vmm.pid"
		wait $!
		echo $? >"$VMM_DONE"
	) &
	waited=0
	while [ ! -s "$DIR/vmm.pid" ]; do sleep 0.05; done
	VMM_PID=$(cat "$DIR/vmm.pid")
	SOCK=''
	for arg; do
		[ "${prev:-}" != --api-sock ] || SOCK=$arg
		prev=$arg
	done
	[ -n "$SOCK" ] || { diff_line "launch: no --api-sock"; return 1; }
	# go-sdk waits 3 s for the socket (firecrackerInitTimeout), Kata 10 s.
	while [ ! -S "$SOCK" ]; do
		if [ -e "$VMM_DONE" ] || [ "$waited" -ge 30 ]; then
			diff_line "launch: no API socket within 3 s (exit $(cat "$VMM_DONE" 2>/dev/null || echo none): $(head -n 1 "$STDERR"))"
			return 1
		fi
		sleep 0.1
		waited=$((waited + 1))
	done
}

# version MIN: Kata's probe, a semantic version of at least MIN as the first line's second word.
version() {
	out=$(firecracker --version 2>&1 </dev/null) || { diff_line "--version failed: $out"; return; }
	echo "  firecracker --version -> $(echo "$out" | head -n 1)"
	v=$(echo "$out" | head -n 1 | awk '{ sub(/^v/, "", $2); print $2 }')
	echo "$v" | grep -Eq '^[0-9]+\.[0-9]+\.[0-9]+([-+].*)?$' ||
		{ diff_line "--version: '$v' is not a semantic version"; return; }
	if ! echo "$v $1" | awk '{ split($1, a, /[.+-]/); split($2, b, "."); for (i = 1; i <= 3; i++) {
			if (a[i] + 0 != b[i] + 0) exit (a[i] + 0 > b[i] + 0) ? 0 : 1 } exit 0 }'; then
		diff_line "--version: $v is older than $1"
	fi
}

wait_state() {
	want=$1 limit=$(($2 * 10)) n=0
	while :; do
		state=$(curl -s --max-time 2 --unix-socket "$SOCK" http://localhost/ | sed -n 's/.*"state":"\([^"]*\)".*/\1/p')
		[ "$state" = "$want" ] && break
		if [ "$n" -ge "$limit" ] || vmm_gone; then
			diff_line "state '$state' after $2 s, Kata waits for '$want' ($(head -n 1 "$STDERR"))"
			return
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "  GET / -> $want"
	request GET / 200
}

wait_console() {
	n=0
	until grep -Eq "$1" "$CONSOLE"; do
		if [ "$n" -ge "$(($2 * 10))" ] || vmm_gone; then
			diff_line "no console line /$1/ in $2 s ($(tail -n 1 "$CONSOLE"); $(head -n 1 "$STDERR"))"
			return
		fi
		sleep 0.1
		n=$((n + 1))
	done
	echo "  console: $(grep -Em 1 "$1" "$CONSOLE")"
}

wait_exit() {
	n=0
	while [ ! -e "$VMM_DONE" ]; do
		if [ "$n" -ge "$(($2 * 10))" ]; then
			diff_line "still running after $2 s"
			return
		fi
		sleep 0.1
		n=$((n + 1))
	done
	status=$(cat "$VMM_DONE")
	echo "  exit $status"
	[ "$1" = any ] || [ "$status" = "$1" ] || diff_line "exit status $status, want $1 ($(head -n 1 "$STDERR"))"
	VMM_PID=''
}

echo "== $NAME"
config=''
while IFS= read -r raw || [ -n "$raw" ]; do
	LINE=$((LINE + 1))
	if [ -n "$config" ]; then
		if [ "$raw" = END ]; then
			validate FullVmConfiguration "$config"
			config=''
		else
			subst "$raw" >>"$config"
		fi
		continue
	fi
	line=$(subst "$raw")
	# Words, unquoted on purpose: the values are paths and words without blanks.
	# shellcheck disable=SC2086
	set -- $line
	[ $# -gt 0 ] || continue
	case $1 in
	'#'*) continue ;;
	BOOT)
		if [ "$HOST" = 1 ]; then
			echo "  (host: stops before the start, which needs KVM)"
			break
		fi ;;
	FILE) truncate -s "$3" "$2" || diff_line "cannot make $2" ;;
	MKDIR) mkdir -p "$2" ;;
	FIFO)
		mkfifo "$2" || diff_line "cannot make the FIFO $2"
		if [ "${3:-}" = read ]; then
			cat "$2" >"$2.out" &
			READERS="$READERS $!"
		fi ;;
	CONFIG) config=$2; : >"$config" ;;
	VERSION) version "$2" ;;
	LAUNCH)
		shift
		launch "$@" || break ;;
	REQUEST)
		shift
		# Requests with a host tap run in the bench only (boot mode), where there is one.
		case $raw in *@TAP@*) [ "$HOST" = 1 ] && { echo "  (host: $1 $2 needs a tap)"; continue; } ;; esac
		if vmm_gone; then
			diff_line "$1 $2: the VMM is gone (exit $(cat "$VMM_DONE" 2>/dev/null): $(head -n 1 "$STDERR"))"
			break
		fi
		# The body is the rest of the line as written, blanks and all.
		request "$1" "$2" "$3" "$(printf '%s' "$line" | sed 's/^REQUEST [^ ]* [^ ]* [^ ]* *//')" ;;
	WAIT-STATE) wait_state "$2" "$3" ;;
	EXISTS) [ -e "$2" ] || diff_line "$2 does not exist" ;;
	CONSOLE) wait_console "$2" "$3" ;;
	SIGNAL) [ -n "$VMM_PID" ] && kill -"$2" "$VMM_PID" ;;
	EXIT) wait_exit "$2" "$3" ;;
	*) die "$SEQ:$LINE: unknown step '$1'" ;;
	esac
done <"$SEQ"

if [ "$DIFFS" -gt 0 ]; then
	echo "FAIL $NAME: $DIFFS differences from Firecracker"
	[ ! -s "$STDERR" ] || sed 's/^/  stderr: /' "$STDERR" | tail -n 5
	exit 1
fi
echo "PASS $NAME"
