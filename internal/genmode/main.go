package genmode

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// IsGenerator reports whether the process was started as the generator:
// systemd runs it by its path, which becomes argv[0].
func IsGenerator(argv0 string) bool {
	return filepath.Base(argv0) == Name
}

// Main runs the generator with systemd's arguments (normal-dir [early-dir
// late-dir]; only normal-dir is used) and returns its exit status: 0 when
// every lab file was valid and written, 1 otherwise (systemd logs that and
// carries on; the valid labs are written either way).
func Main(args []string, stderr io.Writer) int {
	if len(args) != 1 && len(args) != 3 {
		fmt.Fprintf(stderr, "%s: usage: %s NORMAL-DIR [EARLY-DIR LATE-DIR] (systemd runs it; see systemd.generator(7))\n", Name, Name)
		return 2
	}
	// Labs are the booted system's, not the initrd's.
	if os.Getenv("SYSTEMD_IN_INITRD") == "1" {
		return 0
	}
	unitDir, err := filepath.Abs(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", Name, err)
		return 2
	}
	// systemd (251 and later) tells its generators which manager runs
	// them; without it this is a run by hand, and the messages belong on
	// standard error.
	log := StderrLog(stderr)
	if os.Getenv("SYSTEMD_SCOPE") != "" {
		log = NewLog()
	}
	if Run(Config{UnitDir: unitDir, Log: log}) {
		return 0
	}
	return 1
}
