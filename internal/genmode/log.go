package genmode

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"

	"github.com/netgen-lab/netgen/diag"
)

// Syslog priorities (syslog(3)), with the daemon facility systemd's own
// generators use.
const (
	prioErr     = 3
	prioWarning = 4
	prioNotice  = 5
	facDaemon   = 3 << 3
)

// maxRecord is what one write to /dev/kmsg may carry: the kernel refuses a
// longer one (LOG_LINE_MAX, 1024 bytes less the record header).
const maxRecord = 976

// Log writes the generator's messages where systemd's own generators write
// theirs: the kernel log, /dev/kmsg, since neither the journal nor syslog is
// up when generators run (systemd.generator(7)). journald imports the kernel
// log once it starts, so `journalctl -b -t netgen-generator` shows them.
// Where there is no /dev/kmsg (a container: systemd-nspawn gives it none)
// they go to /dev/console, as systemd's do: the generator's standard error
// is PID 1's, which is /dev/null.
type Log struct {
	// open opens the kernel log for one record.
	open func() (io.WriteCloser, error)
	// fallback opens where the messages go without it.
	fallback func() (io.WriteCloser, error)
	pid      int
}

// NewLog returns the Log of a generator run by systemd.
func NewLog() *Log {
	return &Log{
		open: func() (io.WriteCloser, error) {
			return os.OpenFile("/dev/kmsg", os.O_WRONLY, 0)
		},
		fallback: func() (io.WriteCloser, error) {
			return os.OpenFile("/dev/console", os.O_WRONLY|syscall.O_NOCTTY, 0)
		},
		pid: os.Getpid(),
	}
}

// StderrLog returns a Log for a generator run by hand: everything goes to
// w, as a command's messages do.
func StderrLog(w io.Writer) *Log {
	return &Log{
		open:     func() (io.WriteCloser, error) { return nil, errors.New("not run by systemd") },
		fallback: func() (io.WriteCloser, error) { return nopCloser{w}, nil },
		pid:      os.Getpid(),
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// record writes one message. The kernel rate-limits each open /dev/kmsg to
// 10 records in 5 s, and a broken lab easily has more diagnostics than
// that, so each record gets an open of its own; what the generator logs is
// bounded by the labs' diagnostics. A multi-line message is one record
// (journald shows it whole, source line and caret aligned), split at line
// ends when it is longer than a record may be.
func (l *Log) record(prio int, msg string) {
	msg = strings.TrimRight(msg, "\n")
	for _, chunk := range chunks(msg, maxRecord-40) {
		w, err := l.open()
		if err != nil {
			if w, err = l.fallback(); err == nil {
				fmt.Fprintf(w, "%s: %s\n", Name, chunk)
				w.Close()
			}
			continue
		}
		// One write is one record: "<PRI>IDENT[PID]: MESSAGE", the syslog
		// form journald parses the identifier and PID from.
		fmt.Fprintf(w, "<%d>%s[%d]: %s\n", facDaemon|prio, Name, l.pid, chunk)
		w.Close()
	}
}

// chunks splits msg at line ends into pieces of at most n bytes; a single
// longer line is cut.
func chunks(msg string, n int) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(msg, "\n") {
		for len(line) > n {
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
			out = append(out, line[:n])
			line = line[n:]
		}
		if cur.Len() > 0 && cur.Len()+1+len(line) > n {
			out = append(out, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte('\n')
		}
		cur.WriteString(line)
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

// Error logs an error: a lab, or part of one, did not come up.
func (l *Log) Error(format string, args ...any) {
	l.record(prioErr, "error: "+fmt.Sprintf(format, args...))
}

// Warning logs something a user should fix.
func (l *Log) Warning(format string, args ...any) {
	l.record(prioWarning, "warning: "+fmt.Sprintf(format, args...))
}

// Notice logs a normal but significant event.
func (l *Log) Notice(format string, args ...any) {
	l.record(prioNotice, fmt.Sprintf(format, args...))
}

// Diagnostics logs each diagnostic of a lab as one record, rendered exactly
// as `netgen validate` prints it (position, source line, caret, hint).
func (l *Log) Diagnostics(list *diag.List, src []byte) {
	for _, d := range list.Sorted() {
		var b bytes.Buffer
		one := &diag.List{File: list.File, Items: []diag.Diagnostic{d}}
		one.Render(&b, src)
		prio := prioErr
		if d.Severity == diag.Warning {
			prio = prioWarning
		}
		l.record(prio, b.String())
	}
}
