package oracle

// harnessScript runs inside `unshare --net --mount --pid --fork --kill-child
// --mount-proc --propagation private` as PID 1 of a fresh PID namespace, so that
// killing unshare (or this shell) kills networkd and every Prepare/Inspect
// command with it, and the network and mount namespaces vanish.
//
// Inputs (environment): WD (work directory shared with the Go side), NETDIR,
// NETWORKD, LOGLEVEL, TIMEOUT_MS, VENDOR ("1" keeps vendor networkd files),
// WAITALL ("1": also wait for every link that exists), STABLE_MS (how long
// every awaited link must stay settled; 0: the first time they all are).
// Files in WD: journal.sock (bound by the Go side), prepare.sh, waitfor
// (lines "NAME" or "NAME:STATE,STATE"), failed (names of netdevs networkd
// said it could not create, written by the Go side while the script waits),
// inspect/N.sh. Outputs go to WD/out.
//
// Exit status 0 means the script ran to the end (settled or not, see
// out/status); anything else is a harness failure described on stderr.
const harnessScript = `
set -u
die() { echo "netgen-oracle: $*" >&2; exit 90; }
OUT="$WD/out"

# Hide every networkd configuration of the host. /etc/systemd gets an empty
# tmpfs (so networkd.conf and networkd.conf.d are gone), then the directory
# under test becomes /etc/systemd/network.
mount -t tmpfs -o mode=0755 netgen-oracle /etc/systemd || die "mount tmpfs on /etc/systemd"
mkdir /etc/systemd/network || die "mkdir /etc/systemd/network"
mount --bind "$NETDIR" /etc/systemd/network || die "bind-mount $NETDIR"
: > /etc/systemd/networkd.conf
if [ "$VENDOR" != 1 ]; then
	for d in /usr/lib/systemd/network /usr/local/lib/systemd/network \
		/usr/lib/systemd/networkd.conf.d /usr/local/lib/systemd/networkd.conf.d \
		/lib/systemd/network /lib/systemd/networkd.conf.d; do
		[ -d "$d" ] || continue
		[ -L /lib ] && case $d in /lib/*) continue;; esac
		mount -t tmpfs -o ro,mode=0755 netgen-oracle "$d" || die "hide $d"
	done
fi

# A fresh /run: no host D-Bus socket (networkd must not take the bus name of
# the host's networkd), no host /run/systemd/netif, /run/systemd/network or
# /run/udev. networkd creates /run/systemd/netif itself (owned by
# systemd-network) before dropping privileges. Its log goes, with priorities,
# to a journal socket that really is the Go side's socket.
mount -t tmpfs -o mode=0755 netgen-oracle /run || die "mount tmpfs on /run"
mkdir -p /run/systemd/journal || die "mkdir /run/systemd/journal"
: > /run/systemd/journal/socket
mount --bind "$WD/journal.sock" /run/systemd/journal/socket || die "bind-mount journal socket"

# A sysfs of this network namespace, read-only: networkd then assumes there
# is no udev and does not leave every link pending udev initialization.
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys || die "mount sysfs"

# udev makes /dev/net/tun 0666 (50-udev-default.rules); devtmpfs alone makes it
# 0600, and networkd, no longer root, could not create taps. Give this mount
# namespace its own node.
if [ -d /dev/net ]; then
	mount -t tmpfs -o mode=0755,nosuid,noexec netgen-oracle /dev/net || die "mount tmpfs on /dev/net"
	mknod -m 0666 /dev/net/tun c 10 200 || die "mknod /dev/net/tun"
fi

# systemd (PID 1) brings lo up at boot before networkd starts.
ip link set lo up || die "ip link set lo up"

if ! sh -ex "$WD/prepare.sh" > "$OUT/prepare.log" 2>&1; then
	cat "$OUT/prepare.log" >&2
	die "a Prepare command failed"
fi

SYSTEMD_LOG_LEVEL="$LOGLEVEL" SYSTEMD_LOG_TARGET=journal SYSTEMD_LOG_COLOR=0 \
	"$NETWORKD" > "$OUT/networkd.stderr" 2>&1 &
NPID=$!

settled() { # settled IFNAME [STATES]: networkd is done with the link, or
	# its ADMIN_STATE is one of the comma-separated STATES if given
	grep -qx "$1" "$WD/failed" 2>/dev/null && return 0
	[ -r "/sys/class/net/$1/ifindex" ] || return 1
	read -r idx < "/sys/class/net/$1/ifindex" || return 1
	[ -r "/run/systemd/netif/links/$idx" ] || return 1
	st=$(sed -n 's/^ADMIN_STATE=//p' "/run/systemd/netif/links/$idx")
	case ",${2:-configured,unmanaged,failed,linger}," in *",$st,"*) return 0;; esac
	return 1
}
all_settled() {
	while IFS=: read -r n states; do
		[ -n "$n" ] || continue
		settled "$n" "$states" || return 1
	done < "$WD/waitfor"
	if [ "$WAITALL" = 1 ]; then
		for p in /sys/class/net/*; do
			[ -e "$p/ifindex" ] || continue
			settled "${p##*/}" || return 1
		done
	fi
	return 0
}

alive() { # alive PID: running and not a zombie
	st=$(sed -n "s/^State:[[:space:]]*\([A-Z]\).*/\1/p" "/proc/$1/status" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

status=timeout
start=$(date +%s%3N)
since=
while :; do
	if ! alive "$NPID"; then status=exited; break; fi
	now=$(date +%s%3N)
	if all_settled; then
		[ -n "$since" ] || since=$now
		[ $((now - since)) -ge "$STABLE_MS" ] && { status=settled; break; }
	else
		since=
	fi
	[ $((now - start)) -ge "$TIMEOUT_MS" ] && break
	sleep 0.02
done
echo "$(( $(date +%s%3N) - start ))" > "$OUT/elapsed_ms"

ip -d -j link show > "$OUT/link.json" 2>> "$OUT/harness.err"
ip -j addr show > "$OUT/addr.json" 2>> "$OUT/harness.err"
mkdir -p "$OUT/states"
for f in /run/systemd/netif/links/*; do
	[ -f "$f" ] && cp "$f" "$OUT/states/"
done
for f in "$WD"/inspect/*.sh; do
	[ -f "$f" ] || continue
	sh "$f" > "$f.out" 2>&1
	echo $? > "$f.rc"
done

if [ "$status" != exited ]; then
	kill -TERM "$NPID" 2>/dev/null
fi
wait "$NPID"
echo $? > "$OUT/networkd.rc"
echo "$status" > "$OUT/status"
exit 0
`
