package fleet

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
)

// MaxBoards bounds the boards one file expands to: far above the ptys a
// Linux machine allows by default (/proc/sys/kernel/pty/max is 4096), low
// enough that a typo in a count cannot exhaust memory.
const MaxBoards = 100_000

// TranscriptMemory is Spec.Transcript for a transcript kept in memory only
// (the tail of TranscriptTail bytes).
const TranscriptMemory = "memory"

// maxCredentialFile bounds a credential file: a %CMNG write is capped by
// the 4096-byte AT line (nrf91.md §2), so anything near a megabyte is the
// wrong file.
const maxCredentialFile = 1 << 20

// maxReported is how many errors an error from Parse lists.
const maxReported = 10

// IMEI lengths: 14 digits and a Luhn check digit (3GPP TS 23.003 §6.2.1;
// nrf91.md §4).
const (
	imeiBodyDigits = 14
	imeiDigits     = 15
)

// boardName is what a board name may be: it names the board's state
// directory under the state directory, so it must stay one path element.
var boardName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// yamlLine takes the line out of a YAML syntax error, which carries it
// only in its text ("yaml: line 3: did not find expected key").
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// File is a parsed fleet file: every board fully expanded.
type File struct {
	// Path is the file Load read; "" for Parse.
	Path string
	// State is the state directory (relative paths are relative to the
	// fleet file's directory); "" when the file names none.
	State string
	// Boards are the boards in file order, templates expanded in place.
	Boards []Spec
	// Faults is the faults: section (modemsim load); nil when there is none.
	Faults *Faults
}

// Spec is one board, with templates rendered and defaults applied.
type Spec struct {
	Name    string
	Kind    string // "" lets the board registry choose its default
	Persona string // "" lets the kind choose its default
	// Hardware holds the identity and hardware knobs (imei, model,
	// device_uuid, firmware, capacity_entries, …) as YAML gave them
	// (strings, ints, floats, bools, nil, []any, map[string]any), templates
	// rendered; fields left out are for the board to generate.
	Hardware map[string]any
	// Firmware holds the persona's knobs (terminator, quote_idle_reset, …),
	// likewise.
	Firmware map[string]any
	// Link and DeviceNode name the port; "" for none. They are used as
	// given (a relative link is made in the working directory).
	Link, DeviceNode string
	// Transcript is "" (off), TranscriptMemory, or a file path (relative
	// paths are relative to the fleet file's directory).
	Transcript string
	// TranscriptTail is how many bytes of transcript are kept in memory;
	// 0 means the board's default.
	TranscriptTail int
	Credentials    []Credential
	// Line is the line of the board's entry in the fleet file.
	Line int
}

// Error is one problem in a fleet file.
type Error struct {
	File  string // "" for Parse
	Line  int    // 1-based; 0 when the problem has no line
	Field string // the key path, e.g. boards[2].hardware.imei
	Err   error
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// Load reads and parses the fleet file at path.
func Load(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fleet file: %w", err)
	}
	f, err := parse(data, filepath.Dir(path), path, MaxBoards)
	if err != nil {
		return nil, err
	}
	f.Path = path
	return f, nil
}

// Parse parses a fleet file's contents. Credential files, and relative
// state and transcript paths, are taken relative to baseDir. The error
// lists up to 10 problems, each an *Error with its line and field.
func Parse(data []byte, baseDir string) (*File, error) {
	return parse(data, baseDir, "", MaxBoards)
}

// Keys each mapping of the file may hold.
var (
	topKeys        = []string{"state", "defaults", "faults", "boards"}
	boardKeys      = []string{"name", "count", "kind", "persona", "hardware", "firmware", "link", "device_node", "transcript", "transcript_tail", "credentials"}
	defaultKeys    = slices.DeleteFunc(slices.Clone(boardKeys), func(k string) bool { return k == "name" || k == "count" })
	credentialKeys = []string{"tag", "type", "file", "pem"}
)
