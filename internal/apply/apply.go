// Package apply makes a running system match a lab whose files were just
// written: it works out the runtime actions (stop, daemon-reload, re-create
// devices, networkd reload, start, restart) from the previous and the new
// record, and carries them out over D-Bus.
//
// networkd 252 creates new netdevs on reload, but ignores a changed .netdev
// while its device exists and never deletes a device whose file is gone;
// only links whose .network changed are reconfigured. apply fills exactly
// those gaps: it deletes such devices so networkd re-creates them, and has
// every port of a re-created bridge rejoin it.
package apply

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"time"

	sd "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"

	"github.com/netgen-lab/netgen/internal/install"
	"github.com/netgen-lab/netgen/internal/killpoint"
)

// SystemdRunning reports whether systemd is PID 1 here (sd_booted(3)).
func SystemdRunning() bool {
	fi, err := os.Stat("/run/systemd/system")
	return err == nil && fi.IsDir()
}

// Actions are the runtime steps that bring a running system to a lab.
type Actions struct {
	// Stop are units the lab no longer has: stopped while their files exist.
	Stop         []string
	DaemonReload bool
	// Recreate are networkd devices whose .netdev changed (networkd 252
	// ignores it while the device exists); Delete are those whose .netdev is gone.
	Recreate, Delete []string
	NetworkdReload   bool
	// Start are units that are new or not active; Restart are units whose
	// file changed or whose host bridge is re-created.
	Start, Restart []string
}

// Empty reports whether nothing needs doing.
func (a *Actions) Empty() bool {
	return len(a.Stop) == 0 && !a.DaemonReload && len(a.Recreate) == 0 && len(a.Delete) == 0 &&
		!a.NetworkdReload && len(a.Start) == 0 && len(a.Restart) == 0
}

// Describe lists the actions for humans, in the order they run.
func (a *Actions) Describe() []string {
	var out []string
	for _, u := range a.Stop {
		out = append(out, "stop and disable "+u)
	}
	if a.DaemonReload {
		out = append(out, "reload systemd (daemon-reload)")
	}
	for _, d := range a.Recreate {
		out = append(out, "re-create device "+d+" (its .netdev changed)")
	}
	for _, d := range a.Delete {
		out = append(out, "delete device "+d+" (no longer in the lab)")
	}
	switch {
	case len(a.Recreate)+len(a.Delete) > 0:
		out = append(out, "restart systemd-networkd")
	case a.NetworkdReload:
		out = append(out, "reload systemd-networkd")
	}
	for _, u := range a.Start {
		out = append(out, "start "+u)
	}
	for _, u := range a.Restart {
		out = append(out, "restart "+u)
	}
	return out
}

// Compute works out the actions from the previous record, the new one, the
// file changes, the units' current states (unit → ActiveState; nil when
// unknown, e.g. in an image) and the work an interrupted run left pending
// (nil when none): what the files no longer show but the running system
// still lacks.
func Compute(old, rec *install.Record, changes []install.Change, d install.Dirs, active map[string]string, pending *Actions) *Actions {
	a := &Actions{}
	// The directory a file is in decides which daemon reloads.
	netDir := d.NetworkPath() + "/"
	for _, c := range changes {
		if c.Quiet {
			continue
		}
		if c.Link == nil && strings.HasPrefix(c.Path, netDir) {
			a.NetworkdReload = true
		} else {
			a.DaemonReload = true
		}
	}
	newUnits := map[string]bool{}
	for _, u := range rec.Units {
		newUnits[u] = true
	}
	for _, u := range old.Units {
		if !newUnits[u] {
			a.Stop = append(a.Stop, u)
		}
	}
	restart := map[string]bool{}
	start := map[string]bool{}
	for _, u := range rec.Units {
		oldHash, had := old.UnitHashes[u]
		switch {
		case !had:
			start[u] = true
		case oldHash != rec.UnitHashes[u] && !strings.HasSuffix(u, ".target"):
			restart[u] = true
		case active != nil && active[u] != "active":
			start[u] = true
		}
	}
	recreate := map[string]bool{}
	for dev, h := range old.Netdevs {
		nh, still := rec.Netdevs[dev]
		switch {
		case !still:
			a.Delete = append(a.Delete, dev)
		case nh != h:
			recreate[dev] = true
		}
	}
	if pending != nil {
		a.merge(pending, rec, start, restart, recreate)
	}
	for dev := range recreate {
		a.Recreate = append(a.Recreate, dev)
		for _, u := range rec.HostBridgePorts[dev] {
			if !start[u] {
				restart[u] = true
			}
		}
	}
	for u := range start {
		a.Start = append(a.Start, u)
	}
	for u := range restart {
		a.Restart = append(a.Restart, u)
	}
	if active != nil {
		// A unit that is not running needs no stop (an interrupted run may
		// have stopped it already, and systemd may have forgotten it).
		a.Stop = slices.DeleteFunc(a.Stop, func(u string) bool { return active[u] == "inactive" || active[u] == "" })
	}
	for _, list := range []*[]string{&a.Stop, &a.Recreate, &a.Delete, &a.Start, &a.Restart} {
		slices.Sort(*list)
		*list = slices.Compact(*list)
	}
	// Services before the target: a target's start waits for them anyway.
	sort.SliceStable(a.Start, func(i, j int) bool {
		return !strings.HasSuffix(a.Start[i], ".target") && strings.HasSuffix(a.Start[j], ".target")
	})
	return a
}

// merge adds the work an interrupted run left, as far as the new lab still
// wants it: a unit it was to start or restart is restarted (or started
// when it is not running), unless the lab no longer has it, when it is
// stopped; a device it was to re-create or delete is re-created when the
// lab has it, deleted when not.
func (a *Actions) merge(p *Actions, rec *install.Record, start, restart, recreate map[string]bool) {
	a.DaemonReload = a.DaemonReload || p.DaemonReload
	a.NetworkdReload = a.NetworkdReload || p.NetworkdReload
	has := map[string]bool{}
	for _, u := range rec.Units {
		has[u] = true
	}
	for _, u := range p.Stop {
		if !has[u] {
			a.Stop = append(a.Stop, u)
		}
	}
	for _, u := range append(append([]string{}, p.Start...), p.Restart...) {
		switch {
		case !has[u]:
			a.Stop = append(a.Stop, u)
		case !start[u] && !strings.HasSuffix(u, ".target"):
			restart[u] = true
		case !start[u]:
			start[u] = true
		}
	}
	for _, dev := range append(append([]string{}, p.Recreate...), p.Delete...) {
		if _, ok := rec.Netdevs[dev]; ok {
			recreate[dev] = true
		} else {
			a.Delete = append(a.Delete, dev)
		}
	}
}

// Bytes is the actions as pending work (install.WritePending).
func (a *Actions) Bytes() []byte {
	b, _ := json.Marshal(a)
	return append(b, '\n')
}

// ParsePending reads pending work written by Bytes.
func ParsePending(b []byte) (*Actions, error) {
	var a Actions
	if err := json.Unmarshal(b, &a); err != nil {
		return nil, err
	}
	return &a, nil
}

const (
	networkdUnit   = "systemd-networkd.service"
	networkdSocket = "systemd-networkd.socket"
)

// Error is a failure of the running system, with advice.
type Error struct {
	Msg string
}

func (e *Error) Error() string { return e.Msg }

// System talks to systemd and networkd over D-Bus.
type System struct {
	conn *sd.Conn
	bus  *godbus.Conn
	log  io.Writer
}

// Connect opens the system bus.
func Connect(ctx context.Context, log io.Writer) (*System, error) {
	conn, err := sd.NewSystemConnectionContext(ctx)
	if err != nil {
		return nil, &Error{fmt.Sprintf("cannot reach systemd over D-Bus (%v): the files are written but nothing was applied; run `systemctl daemon-reload`, `networkctl reload` and start the lab's target, or build with --no-reload", err)}
	}
	bus, err := godbus.ConnectSystemBus()
	if err != nil {
		conn.Close()
		return nil, &Error{fmt.Sprintf("cannot reach the system bus (%v)", err)}
	}
	return &System{conn: conn, bus: bus, log: log}, nil
}

// Close releases the bus connections.
func (s *System) Close() {
	s.conn.Close()
	s.bus.Close()
}

// States returns the ActiveState of each unit ("" for one systemd does not know).
func (s *System) States(ctx context.Context, units []string) map[string]string {
	out := map[string]string{}
	for _, u := range units {
		p, err := s.conn.GetUnitPropertyContext(ctx, u, "ActiveState")
		if err != nil {
			out[u] = ""
			continue
		}
		out[u] = strings.Trim(p.Value.String(), `"`)
	}
	return out
}

// jobs queues one job per unit, then waits for all of them, and returns a
// message per job that failed.
func (s *System) jobs(ctx context.Context, what string, units []string, f func(context.Context, string, string, chan<- string) (int, error)) []string {
	type pending struct {
		unit string
		ch   chan string
	}
	var failed []string
	var queued []pending
	for _, u := range units {
		ch := make(chan string, 1)
		if _, err := f(ctx, u, "replace", ch); err != nil {
			failed = append(failed, fmt.Sprintf("%s %s: %v", what, u, err))
			continue
		}
		queued = append(queued, pending{u, ch})
	}
	for _, p := range queued {
		select {
		case res := <-p.ch:
			if res != "done" {
				failed = append(failed, fmt.Sprintf("%s %s: job %s; see `journalctl -u %s`", what, p.unit, res, p.unit))
			}
		case <-ctx.Done():
			failed = append(failed, fmt.Sprintf("%s %s: %v", what, p.unit, ctx.Err()))
		}
	}
	return failed
}

func (s *System) job(ctx context.Context, what, unit string, f func(context.Context, string, string, chan<- string) (int, error)) error {
	ch := make(chan string, 1)
	if _, err := f(ctx, unit, "replace", ch); err != nil {
		return fmt.Errorf("%s %s: %w", what, unit, err)
	}
	select {
	case res := <-ch:
		if res != "done" {
			return fmt.Errorf("%s %s: job %s; see `journalctl -u %s`", what, unit, res, unit)
		}
	case <-ctx.Done():
		return fmt.Errorf("%s %s: %w", what, unit, ctx.Err())
	}
	return nil
}

// Before runs what must happen while the old files are still in place:
// stopping the units the lab no longer has.
// A unit an interrupted run already stopped (and whose file may be gone)
// is skipped.
func (s *System) Before(ctx context.Context, a *Actions) error {
	for _, u := range a.Stop {
		if st := s.States(ctx, []string{u})[u]; st == "inactive" || st == "" {
			continue
		}
		fmt.Fprintf(s.log, "netgen: stopping %s (no longer in the lab)\n", u)
		if err := s.job(ctx, "stop", u, s.conn.StopUnitContext); err != nil {
			return &Error{err.Error()}
		}
		killpoint.Step("stop " + u)
	}
	return nil
}

// After runs the rest once the new files are in place. An error means a
// step could not be carried out (its work is still to do); failed lists
// the start and restart jobs that ran and failed, which the units' states
// show from then on.
func (s *System) After(ctx context.Context, a *Actions) (failed []string, err error) {
	if a.DaemonReload {
		if err := s.conn.ReloadContext(ctx); err != nil {
			return nil, &Error{fmt.Sprintf("daemon-reload: %v", err)}
		}
		killpoint.Step("daemon-reload")
	}
	if len(a.Recreate)+len(a.Delete) > 0 {
		// networkd 252 keeps a parsed .network, with the ifindex of the bridge
		// it names, across a reload: ports of a re-created bridge would be
		// enslaved to the old one (EINVAL) and stay failed. So networkd is
		// stopped, the devices deleted, and networkd started afresh: it
		// creates them from the new files and configures every link again.
		// The socket first: a netlink message on it would start networkd
		// again before the devices are gone.
		for _, u := range []string{networkdSocket, networkdUnit} {
			if err := s.job(ctx, "stop", u, s.conn.StopUnitContext); err != nil {
				return nil, &Error{err.Error()}
			}
			killpoint.Step("stop " + u)
		}
		for _, d := range a.Recreate {
			fmt.Fprintf(s.log, "netgen: re-creating %s: its .netdev changed, and networkd does not apply that to an existing device\n", d)
			if err := DeleteLink(d); err != nil {
				return nil, &Error{err.Error()}
			}
			killpoint.Step("delete device " + d)
		}
		for _, d := range a.Delete {
			fmt.Fprintf(s.log, "netgen: deleting %s: it is no longer in the lab, and networkd does not delete it\n", d)
			if err := DeleteLink(d); err != nil {
				return nil, &Error{err.Error()}
			}
			killpoint.Step("delete device " + d)
		}
		for _, u := range []string{networkdSocket, networkdUnit} {
			if err := s.job(ctx, "start", u, s.conn.StartUnitContext); err != nil {
				return nil, &Error{err.Error()}
			}
			killpoint.Step("start " + u)
		}
		for _, d := range a.Recreate {
			if err := waitLink(ctx, d, 30*time.Second); err != nil {
				return nil, &Error{fmt.Sprintf("networkd did not re-create %s: %v; see `journalctl -u systemd-networkd`", d, err)}
			}
		}
	} else if a.NetworkdReload {
		if err := s.networkd(ctx, "Reload"); err != nil {
			return nil, &Error{fmt.Sprintf("systemd-networkd reload: %v (is systemd-networkd running? `systemctl status systemd-networkd`)", err)}
		}
		killpoint.Step("reload systemd-networkd")
	}
	// Every start job is queued before any is waited for, so that systemd
	// runs them in parallel, as at boot (one after another, 100 namespaces
	// took 1.5 times as long).
	failed = s.jobs(ctx, "start", a.Start, s.conn.StartUnitContext)
	if len(a.Start) > 0 {
		killpoint.Step("start units")
	}
	for _, u := range a.Restart {
		// A restart propagates to PartOf= units as jobs of their own; a
		// restart of one of them issued meanwhile would kill its start.
		s.waitJobs(ctx)
		if err := s.job(ctx, "restart", u, s.conn.RestartUnitContext); err != nil {
			failed = append(failed, err.Error())
		}
		killpoint.Step("restart " + u)
	}
	// A restart propagates to PartOf= units as jobs of their own: wait for
	// them before judging.
	s.waitJobs(ctx)
	return failed, nil
}

// Verify reports every unit of units that is not active, with the jobs
// that failed (After), as one *Error; nil when the lab is up.
func (s *System) Verify(ctx context.Context, units, failed []string) error {
	for u, st := range s.States(ctx, units) {
		if st != "active" && !strings.HasSuffix(u, ".target") {
			failed = append(failed, fmt.Sprintf("%s is %s; see `journalctl -u %s`", u, st, u))
		}
	}
	if len(failed) > 0 {
		sort.Strings(failed)
		return &Error{"the lab did not come up:\n  " + strings.Join(slices.Compact(failed), "\n  ")}
	}
	return nil
}

func (s *System) waitJobs(ctx context.Context) {
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		jobs, err := s.conn.ListJobsContext(ctx)
		if err != nil || len(jobs) == 0 {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (s *System) networkd(ctx context.Context, method string, args ...any) error {
	obj := s.bus.Object("org.freedesktop.network1", "/org/freedesktop/network1")
	return obj.CallWithContext(ctx, "org.freedesktop.network1.Manager."+method, 0, args...).Err
}

// DeleteLink deletes a host link; one that is already gone is fine.
func DeleteLink(name string) error {
	if _, err := net.InterfaceByName(name); err != nil {
		return nil
	}
	out, err := exec.Command("ip", "link", "delete", "dev", name).CombinedOutput()
	if err != nil {
		if _, gone := net.InterfaceByName(name); gone != nil {
			return nil
		}
		return fmt.Errorf("ip link delete %s: %v: %s", name, err, strings.TrimSpace(string(out)))
	}
	return nil
}

func waitLink(ctx context.Context, name string, d time.Duration) error {
	deadline := time.Now().Add(d)
	for {
		if _, err := net.InterfaceByName(name); err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return errors.New("timed out")
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Down stops every unit of a lab (the target first: its units are PartOf it).
func (s *System) Down(ctx context.Context, rec *install.Record) error {
	units := append([]string(nil), rec.Units...)
	sort.SliceStable(units, func(i, j int) bool {
		return strings.HasSuffix(units[i], ".target") && !strings.HasSuffix(units[j], ".target")
	})
	var failed []string
	for _, u := range units {
		if st := s.States(ctx, []string{u})[u]; st == "inactive" || st == "" {
			continue
		}
		fmt.Fprintf(s.log, "netgen: stopping %s\n", u)
		if err := s.job(ctx, "stop", u, s.conn.StopUnitContext); err != nil {
			failed = append(failed, err.Error())
		}
	}
	if len(failed) > 0 {
		return &Error{strings.Join(failed, "\n")}
	}
	return nil
}

// AfterDown, once the lab's files are gone, has systemd and networkd forget
// them and deletes what they leave behind: networkd never deletes a device
// whose .netdev is gone, and a namespace pinned by a process outlives its
// unit.
func (s *System) AfterDown(ctx context.Context, rec *install.Record) error {
	if err := s.conn.ReloadContext(ctx); err != nil {
		return &Error{fmt.Sprintf("daemon-reload: %v", err)}
	}
	for _, d := range rec.HostDevices {
		if err := DeleteLink(d); err != nil {
			return &Error{err.Error()}
		}
	}
	for _, ns := range rec.Namespaces {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			if out, err := exec.Command("ip", "netns", "delete", ns).CombinedOutput(); err != nil {
				return &Error{fmt.Sprintf("ip netns delete %s: %v: %s", ns, err, out)}
			}
		}
	}
	if err := s.networkd(ctx, "Reload"); err != nil {
		return &Error{fmt.Sprintf("systemd-networkd reload: %v", err)}
	}
	return nil
}
