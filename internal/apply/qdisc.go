package apply

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"

	"github.com/netgen-lab/netgen/internal/install"
)

// QdiscChange is a netem to set (Args) or remove (Args "") on a running
// link, in place: networkd 252 does not re-apply a changed
// [NetworkEmulator] on reload, and restarting a unit would re-create its
// links (new ifindex, addresses and neighbours gone).
type QdiscChange struct {
	NS   string `json:"ns,omitempty"`
	Dev  string `json:"dev"`
	Args string `json:"args,omitempty"`
}

func (q QdiscChange) label() string {
	if q.NS == "" {
		return q.Dev
	}
	return q.NS + ":" + q.Dev
}

func qdiscChange(label, args string) QdiscChange {
	if ns, dev, ok := strings.Cut(label, ":"); ok {
		return QdiscChange{NS: ns, Dev: dev, Args: args}
	}
	return QdiscChange{Dev: label, Args: args}
}

// onlyQdiscs reports whether unit u's file changed only in its netem
// batches: then apply changes the qdiscs and leaves the unit running.
func onlyQdiscs(old, rec *install.Record, u string) bool {
	h, ok := old.StableUnits[u]
	return ok && h == rec.StableUnits[u]
}

// qdiscs works out the netem changes that no start, restart or
// re-creation of a device carries out: every impaired link whose netem
// changed, appeared or went, and whose owner stays up as it is.
func (a *Actions) qdiscs(old, rec *install.Record, start, restart, recreate map[string]bool, pending *Actions) {
	busy := func(q install.Qdisc, label string) bool {
		if q.Unit != "" {
			return start[q.Unit] || restart[q.Unit] || !slices.Contains(rec.Units, q.Unit)
		}
		return recreate[label] || slices.Contains(a.Delete, label)
	}
	seen := map[string]bool{}
	add := func(label string) {
		if seen[label] {
			return
		}
		seen[label] = true
		nq, now := rec.Qdiscs[label]
		oq, had := old.Qdiscs[label]
		switch {
		case now && busy(nq, label), !now && had && busy(oq, label):
			return
		case now:
			a.Qdiscs = append(a.Qdiscs, qdiscChange(label, nq.Args))
		default:
			a.Qdiscs = append(a.Qdiscs, qdiscChange(label, ""))
		}
	}
	if pending != nil {
		for _, q := range pending.Qdiscs {
			add(q.label())
		}
	}
	for label, q := range rec.Qdiscs {
		if old.Qdiscs[label] != q {
			add(label)
		}
	}
	for label := range old.Qdiscs {
		if _, still := rec.Qdiscs[label]; !still {
			add(label)
		}
	}
	slices.SortFunc(a.Qdiscs, func(x, y QdiscChange) int { return strings.Compare(x.label(), y.label()) })
}

func (q QdiscChange) describe() string {
	if q.Args == "" {
		return "remove the netem of " + q.label() + " (the link stays)"
	}
	return "set the netem of " + q.label() + " to `" + q.Args + "` (the link stays)"
}

// applyQdisc runs `tc qdisc replace` (or `del`) for one change. A removal
// on a link that is gone or has no qdisc any more is done already.
func applyQdisc(q QdiscChange) error {
	args := []string{}
	if q.NS != "" {
		args = append(args, "-n", q.NS)
	}
	if q.Args == "" {
		args = append(args, "qdisc", "del", "dev", q.Dev, "root")
		_ = exec.Command("tc", args...).Run()
		return nil
	}
	args = append(args, "qdisc", "replace", "dev", q.Dev, "root")
	args = append(args, strings.Fields(q.Args)...)
	if out, err := exec.Command("tc", args...).CombinedOutput(); err != nil {
		return fmt.Errorf("tc %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
