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

// KmsgLog is a Log with its kernel log opened by open.
func KmsgLog(open func() (io.WriteCloser, error), fallback io.Writer) *Log {
	return &Log{open: open, fallback: fallback, pid: 1}
}
