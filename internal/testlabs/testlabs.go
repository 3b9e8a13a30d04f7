// Package testlabs finds the lab files the tests run: the examples and the
// test labs, without the reachability matrices (NAME.reach.yml) that sit
// beside them. It exists so that every tier means the same by "every example".
package testlabs

import (
	"path/filepath"
	"strings"
	"testing"
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
