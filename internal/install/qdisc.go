package install

import (
	"github.com/netgen-lab/netgen/generator"
	"github.com/netgen-lab/netgen/render"
)

// Qdisc is the netem a link carries and who sets it: the unit that owns
// the link, or networkd ("").
type Qdisc struct {
	Unit string `json:"unit,omitempty"`
	Args string `json:"args"`
}

// addQdiscs records every impaired link's netem and, for every unit, the
// hash of its file without its netem batches (render.StableUnit): a build
// that changes only impairments is applied with `tc qdisc replace`, and
// the links keep their ifindex, addresses and neighbours.
func addQdiscs(r *Record, p *generator.Plan, files []render.File) {
	for _, f := range files {
		if f.Dir == render.UnitDir {
			if r.StableUnits == nil {
				r.StableUnits = map[string]string{}
			}
			r.StableUnits[f.Name] = hash(render.StableUnit(f.Data))
		}
	}
	for _, l := range p.Links {
		if l.Netem == nil {
			continue
		}
		if r.Qdiscs == nil {
			r.Qdiscs = map[string]Qdisc{}
		}
		q := Qdisc{Args: render.NetemArgs(l.Netem)}
		if l.Owner != nil {
			q.Unit = l.Owner.Name
		}
		r.Qdiscs[l.Label()] = q
	}
}
