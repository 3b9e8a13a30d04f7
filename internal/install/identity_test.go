package install

import (
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

// TestBuildIdentityIsGoBuildID: the stamps' build identity is the build ID
// the Go tool gives this very binary (a test binary is built without VCS
// information, as go install and distribution builds are).
func TestBuildIdentityIsGoBuildID(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "tool", "buildid", exe).Output()
	if err != nil {
		t.Skipf("go tool buildid: %v", err)
	}
	want := "go-buildid:" + strings.TrimSpace(string(out))
	if got := BuildIdentity(); got != want {
		t.Errorf("BuildIdentity() = %q, want %q", got, want)
	}
	if goBuildID("/proc/self/exe") == goBuildID("/bin/sh") {
		t.Error("a C binary has the Go build ID of this one")
	}
}

// TestBuildInfoIdentity: without a build ID, only build information that
// pins the code gives an identity, and it changes with any setting.
func TestBuildInfoIdentity(t *testing.T) {
	release := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "v1.2.0", Sum: "h1:x"}}
	devel := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "m", Version: "(devel)"}}
	vcs := func(modified string) *debug.BuildInfo {
		return &debug.BuildInfo{GoVersion: "go1.26.8", Main: devel.Main, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: modified}}}
	}
	tagged := *release
	tagged.Settings = []debug.BuildSetting{{Key: "-tags", Value: "x"}}
	for _, c := range []struct {
		name string
		bi   *debug.BuildInfo
		some bool
	}{{"release", release, true}, {"devel", devel, false}, {"clean vcs", vcs("false"), true}, {"modified vcs", vcs("true"), false}, {"tagged", &tagged, true}} {
		if got := buildInfoIdentity(c.bi); (got != "") != c.some {
			t.Errorf("%s: identity %q", c.name, got)
		}
	}
	if buildInfoIdentity(release) == buildInfoIdentity(&tagged) {
		t.Error("a build with other tags has the same identity")
	}
}
