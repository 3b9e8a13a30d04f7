package genmode

import (
	"errors"
	"io"
)

// ConsoleLog is a Log without /dev/kmsg: everything goes to w, as on a
// container's console.
func ConsoleLog(w io.Writer) *Log {
	return KmsgLog(func() (io.WriteCloser, error) { return nil, errors.New("no /dev/kmsg in tests") }, w)
}

// KmsgLog is a Log with its kernel log opened by open, and w in its place
// when that fails.
func KmsgLog(open func() (io.WriteCloser, error), w io.Writer) *Log {
	return &Log{open: open, fallback: func() (io.WriteCloser, error) { return nopCloser{w}, nil }, pid: 1}
}
