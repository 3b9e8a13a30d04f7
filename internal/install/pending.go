package install

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// Pending work. A live build changes files, then the running system (stop,
// daemon-reload, re-create devices, reload networkd, start and restart
// units). Once the files are renamed into place a re-run finds them
// current and would skip the runtime steps an interrupted run never did.
// So the runtime work is written down durably before the first rename and
// removed only when it is done: the next run does it, whatever stopped the
// previous one (a kill, a power loss). apply owns what the work is; this
// file only keeps its bytes beside the record.

// PendingName is the file name of a lab's pending runtime work.
func PendingName(lab string) string { return ".netgen-" + lab + ".pending" }

// PendingPath is where a lab's pending work is on this machine.
func (d Dirs) PendingPath(lab string) string {
	return filepath.Join(d.NetworkPath(), PendingName(lab))
}

// ReadPending returns a lab's pending work, nil when there is none.
func ReadPending(d Dirs, lab string) ([]byte, error) {
	b, err := readRegular(d.PendingPath(lab))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// HasPending reports whether a lab has pending work (or whether that
// cannot be told: any doubt counts as work).
func HasPending(d Dirs, lab string) bool {
	_, err := os.Lstat(d.PendingPath(lab))
	return !errors.Is(err, fs.ErrNotExist)
}

// WritePending stores a lab's pending work durably: the file and the
// directory entry are on disk when it returns.
func WritePending(d Dirs, lab string, data []byte) error {
	path := d.PendingPath(lab)
	if err := WriteFile(path, data, 0o644); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// ClearPending removes a lab's pending work once it is done.
func ClearPending(d Dirs, lab string) error {
	path := d.PendingPath(lab)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// syncDir flushes a directory's entries (a rename or unlink in it).
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
