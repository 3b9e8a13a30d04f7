package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/netgen-lab/netgen/internal/testkit/testbed"
	"github.com/netgen-lab/netgen/names"
)

// The services example (examples/services.yml) as the boot tier checks it.
const (
	svcLab   = "services"
	svcEcho  = "netgen-services_svc-srv--echo.service"
	svcTick  = "netgen-services_svc-srv--tick.service"
	svcHello = "netgen-services_svc-srv--hello.service"
)

// checkServices proves lab "services" on a booted system: the echo
// service answers from another namespace by address and by name, a
// service that exits is started again, resolv.conf and hosts are the lab's
// both under `ip netns exec` and inside a service, a restart of the
// namespace's unit brings the service back in the new namespace, a live
// build that changes one service restarts that one alone, and `down`
// leaves no unit, file or process behind.
func checkServices(t *testing.T, c *testbed.Container, root string) {
	t.Helper()
	if names.ServiceUnit(svcLab, "srv", "echo") != svcEcho {
		t.Fatalf("service unit names changed: %s", names.ServiceUnit(svcLab, "srv", "echo"))
	}
	sh := func(cmd string) (int, string) {
		t.Helper()
		code, out, stderr := inContainer(t, c, cmd)
		return code, out + stderr
	}
	// The echo service, from cli: by address, by name (/etc/hosts of
	// cli, from names: true), over IPv6.
	echo := func(stage string) {
		t.Helper()
		for _, to := range []string{"192.168.80.1", "srv", "2001:db8:80::1"} {
			var out string
			var code int
			// A service just (re)started may not listen yet.
			for i := 0; i < 30; i++ {
				code, out = sh(`ip netns exec cli timeout 5 bash -c 'exec 3<>/dev/tcp/` + to + `/8080; echo hi-` + to + ` >&3; read -r l <&3; echo "$l"'`)
				if code == 0 && strings.Contains(out, "hi-"+to) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if code != 0 || !strings.Contains(out, "hi-"+to) {
				t.Errorf("%s: echo service at %s:8080 from cli: exit %d, want its line back:\n%s", stage, to, code, out)
			}
		}
	}
	mainPID := func(unit string) string {
		t.Helper()
		_, out := sh("systemctl show -p MainPID --value " + unit)
		return strings.TrimSpace(out)
	}
	echo("boot")

	// What programs see: the files netgen wrote, through ip netns exec
	// and inside a running service (/proc/PID/root is its mount view).
	for _, f := range []string{"resolv.conf", "hosts"} {
		want, err := os.ReadFile(filepath.Join(root, "etc/netns/srv", f))
		if err != nil {
			t.Fatal(err)
		}
		if _, out := sh("ip netns exec srv cat /etc/" + f); out != string(want) {
			t.Errorf("ip netns exec srv cat /etc/%s:\n%s\nwant:\n%s", f, out, want)
		}
		if _, out := sh("cat /proc/" + mainPID(svcEcho) + "/root/etc/" + f); out != string(want) {
			t.Errorf("/etc/%s as service echo sees it:\n%s\nwant:\n%s", f, out, want)
		}
	}
	if _, out := sh("ip netns exec cli cat /etc/resolv.conf"); !strings.Contains(out, "nameserver 192.168.80.53\nsearch lab.test\n") {
		t.Errorf("cli's resolv.conf: want the lab's nameserver and its own search list:\n%s", out)
	}
	if _, out := sh("ip netns exec cli getent hosts localhost srv gw.lab.test"); !strings.Contains(out, "srv") || !strings.Contains(out, "192.168.80.254") || !strings.Contains(out, "localhost") {
		t.Errorf("getent hosts in cli: want localhost, srv and gw.lab.test:\n%s", out)
	}
	// hello runs as www-data with its environment, and says so in the journal.
	if _, out := sh("journalctl -b -o cat -u " + svcHello); !strings.Contains(out, "hello from namespace srv at 100% as www-data") {
		t.Errorf("journal of service hello: no greeting as www-data with its environment:\n%s", out)
	}
	// Lab quoting (e2e/testdata/labs/exec-quoting.yml): every word and
	// variable reaches the program as the lab wrote it.
	wantWords := "[a b]\n[it's]\n[say \"hi\"]\n[back\\slash]\n[$HOME]\n[${X}]\n[]\n[100%]\n[%n]\n[tab\there]\n"
	if _, out := sh("journalctl -b -o cat _SYSTEMD_UNIT=netgen-quoting_svc-q--words.service"); out != wantWords {
		t.Errorf("service words printed its arguments as:\n%s\nwant:\n%s", out, wantWords)
	}
	if _, out := sh("journalctl -b -o cat _SYSTEMD_UNIT=netgen-quoting_svc-q--env.service"); out != "a \"b\" c|x\\y|50%|$1|\n" {
		t.Errorf("service env printed its environment as %q, want %q", out, "a \"b\" c|x\\y|50%|$1|\n")
	}
	// tick exits every second and is started again.
	time.Sleep(2500 * time.Millisecond)
	if _, out := sh("systemctl show -p NRestarts --value " + svcTick); func() bool { n, _ := strconv.Atoi(strings.TrimSpace(out)); return n < 1 }() {
		t.Errorf("service tick exits every second, but NRestarts is %q", strings.TrimSpace(out))
	}

	// A restart of srv's unit: a new namespace, and echo in it.
	oldPID := mainPID(svcEcho)
	if code, out := sh("systemctl restart netgen-services_ns-srv.service"); code != 0 {
		t.Fatalf("systemctl restart of srv's unit: exit %d\n%s", code, out)
	}
	waitJobs(t, c)
	newPID := mainPID(svcEcho)
	if newPID == oldPID || newPID == "0" {
		t.Errorf("echo's main PID is %s after its namespace was rebuilt (was %s): want a new process", newPID, oldPID)
	}
	_, ns := sh("stat -L -c net:[%i] /run/netns/srv")
	_, svc := sh("readlink /proc/" + newPID + "/ns/net")
	if strings.TrimSpace(ns) != strings.TrimSpace(svc) {
		t.Errorf("after the restart echo runs in %s, the namespace srv is %s", svc, ns)
	}
	echo("after systemctl restart of srv's unit")

	// A live build that changes hello alone restarts hello alone.
	src, err := os.ReadFile(filepath.Join(root, "root/labs/services.yml"))
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(src), `WHERE: "namespace srv"`, `WHERE: "srv, again"`, 1)
	if changed == string(src) {
		t.Fatal("examples/services.yml: hello's environment changed, the live test cannot edit it")
	}
	if err := os.WriteFile(filepath.Join("/proc", strconv.Itoa(c.PID), "root/root/labs/services2.yml"), []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	echoPID, helloPID := mainPID(svcEcho), mainPID(svcHello)
	if code, out := sh("netgen build /root/labs/services2.yml"); code != 0 {
		t.Fatalf("live build of the changed services lab: exit %d\n%s", code, out)
	}
	if mainPID(svcEcho) != echoPID {
		t.Errorf("a change to service hello restarted service echo")
	}
	if p := mainPID(svcHello); p == helloPID || p == "0" {
		t.Errorf("a change to service hello did not restart it (main PID %s, was %s)", p, helloPID)
	}
	if _, out := sh("journalctl -b -o cat -u " + svcHello); !strings.Contains(out, "hello from srv, again at 100% as www-data") {
		t.Errorf("journal of service hello after the live build: no new greeting:\n%s", out)
	}

	// down: no service, unit, file or process of the lab is left.
	if code, out := sh("netgen down services 2>&1"); code != 0 {
		t.Fatalf("netgen down services: exit %d\n%s", code, out)
	}
	_, left := sh(`ls -d /etc/netns/srv /etc/netns/cli /etc/systemd/system/netgen-services* 2>/dev/null; ls /run/netns | grep -E '^(srv|cli)$'; systemctl list-units --all --plain --no-legend 'netgen-services*' | grep -v not-found; pgrep '^systemd-socket'; pgrep -u www-data sleep`)
	if strings.TrimSpace(left) != "" {
		t.Errorf("left after netgen down services:\n%s", left)
	}
}
