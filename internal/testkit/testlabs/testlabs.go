// Package testlabs finds the lab files the tests run: the examples and the
// test labs, without the reachability matrices (NAME.reach.yml) that sit
// beside them. It exists so that every tier means the same by "every example".
package testlabs

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/netgen-lab/netgen/internal/compile"
)

// Labs returns the lab files in dir; the test fails when there is none.
func Labs(t testing.TB, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yml"))
	var labs []string
	for _, f := range files {
		if !strings.HasSuffix(f, ".reach.yml") {
			labs = append(labs, f)
		}
	}
	if err != nil || len(labs) == 0 {
		t.Fatalf("no labs in %s: %v", dir, err)
	}
	return labs
}

// Compile compiles a lab source that must be valid; the test fails, with
// the diagnostics, if it is not.
func Compile(t testing.TB, name string, src []byte) *compile.Result {
	t.Helper()
	res, err := compile.Compile(name, src)
	if err != nil {
		t.Fatal(err)
	}
	if res.Diags.HasErrors() {
		var b bytes.Buffer
		res.Diags.Render(&b, src)
		t.Fatalf("%s has errors:\n%s", name, b.String())
	}
	return res
}

// Reach is a lab's hand-written reachability matrix, NAME.reach.yml beside
// NAME.yml.
type Reach struct {
	// Setup are shell commands the test runs before checking (e.g. a veth
	// standing in for an uplink NIC).
	Setup  []string `yaml:"setup"`
	Ping   []Probe  `yaml:"ping"`
	NoPing []Probe  `yaml:"no-ping"`
}

// Probe is one ping: from a namespace (or "host") to an address.
type Probe struct {
	From string `yaml:"from"`
	To   string `yaml:"to"`
}

// ReadReach reads the reachability matrix beside a lab file.
func ReadReach(t testing.TB, lab string) Reach {
	t.Helper()
	var r Reach
	path := strings.TrimSuffix(lab, ".yml") + ".reach.yml"
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("lab %s has no reachability matrix: %v", lab, err)
	}
	if err := yaml.Unmarshal(src, &r); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return r
}
