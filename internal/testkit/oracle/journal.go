package oracle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Syslog priorities, as in the PRIORITY= field of a journal entry.
const (
	PriEmerg   = 0
	PriAlert   = 1
	PriCrit    = 2
	PriErr     = 3
	PriWarning = 4
	PriNotice  = 5
	PriInfo    = 6
	PriDebug   = 7
)

var priorityNames = [...]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// LogEntry is one message networkd logged, received over the journal native
// protocol, so that its priority is exact.
type LogEntry struct {
	// Priority is the syslog priority (PriErr, PriWarning, ...).
	Priority int
	// Message is the MESSAGE= field, as networkd would print it on a console,
	// e.g. "/etc/systemd/network/10-br0.network:7: Unknown key 'Foo' in
	// section [Network], ignoring." or "br0: Link UP".
	Message string
	// Interface is the INTERFACE= field of link-scoped messages ("" if none).
	Interface string
	// ConfigFile and ConfigLine locate configuration parse messages
	// (CONFIG_FILE=, CONFIG_LINE=): ConfigFile is the path networkd saw, under
	// /etc/systemd/network.
	ConfigFile string
	ConfigLine int
	// Fields holds every field of the entry (PRIORITY, MESSAGE, CODE_FILE,
	// CODE_FUNC, ERRNO, ...).
	Fields map[string]string
}

// PriorityName returns "err", "warning", ... for the entry's priority.
func (e LogEntry) PriorityName() string {
	if e.Priority >= 0 && e.Priority < len(priorityNames) {
		return priorityNames[e.Priority]
	}
	return strconv.Itoa(e.Priority)
}

// String returns "PRIORITY: MESSAGE", e.g. "warning: br0: Could not ...".
func (e LogEntry) String() string { return e.PriorityName() + ": " + e.Message }

// journalListener receives journal native protocol datagrams on a unix socket.
type journalListener struct {
	conn *net.UnixConn
	path string

	mu      sync.Mutex
	entries []LogEntry
	bad     int // datagrams that could not be parsed
	done    chan struct{}

	onEntry func(LogEntry) // called by the reader for every entry, in order
}

// endMarker is sent by the Go side after networkd has exited: every datagram
// networkd sent is queued before it, so the reader stops there.
const endMarker = "NETGEN_ORACLE_END=1\n"

func listenJournal(path string, onEntry func(LogEntry)) (*journalListener, error) {
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	// networkd writes after dropping privileges to systemd-network.
	if err := os.Chmod(path, 0o666); err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetReadBuffer(8 << 20)
	j := &journalListener{conn: conn, path: path, done: make(chan struct{}), onEntry: onEntry}
	go j.read()
	return j, nil
}

func (j *journalListener) read() {
	defer close(j.done)
	buf := make([]byte, 1<<20)
	oob := make([]byte, 1024)
	for {
		n, oobn, _, _, err := j.conn.ReadMsgUnix(buf, oob)
		if err != nil {
			return
		}
		closeRights(oob[:oobn])
		data := buf[:n]
		if string(data) == endMarker {
			return
		}
		fields, err := parseJournalDatagram(data)
		if err != nil {
			j.mu.Lock()
			j.bad++
			j.mu.Unlock()
			continue
		}
		e := entryFromFields(fields)
		if j.onEntry != nil {
			j.onEntry(e)
		}
		j.mu.Lock()
		j.entries = append(j.entries, e)
		j.mu.Unlock()
	}
}

// closeRights closes file descriptors passed with SCM_RIGHTS (journal clients
// send a memfd for very large entries; networkd's logger never does).
func closeRights(oob []byte) {
	if len(oob) == 0 {
		return
	}
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return
	}
	for _, m := range msgs {
		fds, err := syscall.ParseUnixRights(&m)
		if err != nil {
			continue
		}
		for _, fd := range fds {
			_ = syscall.Close(fd)
		}
	}
}

// finish waits until everything sent before now has been read and returns
// the entries. It must be called after the sender (networkd) has exited.
func (j *journalListener) finish() ([]LogEntry, int) {
	if c, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: j.path, Net: "unixgram"}); err == nil {
		_, _ = c.Write([]byte(endMarker))
		c.Close()
	} else {
		j.conn.Close()
	}
	<-j.done
	j.conn.Close()
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.entries, j.bad
}

// abort stops the reader without waiting for the end marker.
func (j *journalListener) abort() ([]LogEntry, int) {
	j.conn.Close()
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.entries, j.bad
}

// parseJournalDatagram parses the journal native protocol: a sequence of
// "KEY=VALUE\n" fields, or "KEY\n" followed by a 64-bit little-endian length,
// the value's bytes and "\n" for values that may contain newlines.
func parseJournalDatagram(b []byte) (map[string]string, error) {
	fields := make(map[string]string)
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		eq := bytes.IndexByte(b, '=')
		switch {
		case eq >= 0 && (nl < 0 || eq < nl):
			end := nl
			if end < 0 {
				end = len(b)
			}
			fields[string(b[:eq])] = string(b[eq+1 : end])
			if nl < 0 {
				b = nil
			} else {
				b = b[nl+1:]
			}
		case nl >= 0:
			key := string(b[:nl])
			b = b[nl+1:]
			if len(b) < 8 {
				return nil, errors.New("journal: truncated binary field length")
			}
			size := binary.LittleEndian.Uint64(b[:8])
			b = b[8:]
			if uint64(len(b)) < size+1 || b[size] != '\n' {
				return nil, fmt.Errorf("journal: bad binary field %q", key)
			}
			fields[key] = string(b[:size])
			b = b[size+1:]
		default:
			return nil, errors.New("journal: field without value")
		}
	}
	return fields, nil
}

func entryFromFields(f map[string]string) LogEntry {
	e := LogEntry{Priority: PriInfo, Fields: f}
	if p, err := strconv.Atoi(f["PRIORITY"]); err == nil {
		e.Priority = p
	}
	e.Message = strings.TrimRight(f["MESSAGE"], "\n")
	e.Interface = f["INTERFACE"]
	e.ConfigFile = f["CONFIG_FILE"]
	if l, err := strconv.Atoi(f["CONFIG_LINE"]); err == nil {
		e.ConfigLine = l
	}
	return e
}
