package spwf04

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/modemsim/modemsim/atengine"
)

// maxFileName bounds a file name on the user-flash volume (a FAT 8.3
// volume built by ST's tool [C X10] takes long names too; the limit is [U]).
const maxFileName = 64

// fileLine is one `FSL` line; the format is [U]: the manual's was not
// available, so the name comes last after the size.
func fileLine(f FileInfo) string { return "AT-S.File:" + strconv.Itoa(f.Size) + ":" + f.Name }

// validFileName refuses names the list line or the volume cannot hold.
func validFileName(name string) bool {
	if name == "" || len(name) > maxFileName || name == "." || name == ".." {
		return false
	}
	for _, c := range []byte(name) {
		if c < 0x20 || c > 0x7e || c == '/' || c == '\\' || c == ':' {
			return false
		}
	}
	return true
}

// AT+S.FSC=<file>,<len><CR><data> creates a file (replacing one of the
// same name) [C spwf04.md §4, X5].
func (m *Module) cmdFSC(_ context.Context, r request) atengine.Reply { return m.fileWrite(r, false) }

// AT+S.FSA=<file>,<len><CR><data> appends to an existing file [C issue 10].
func (m *Module) cmdFSA(_ context.Context, r request) atengine.Reply { return m.fileWrite(r, true) }

func (m *Module) fileWrite(r request, appendTo bool) atengine.Reply {
	if len(r.args) < 2 || r.arg(0) == "" || r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	name := r.arg(0)
	if !validFileName(name) {
		return fail(ErrOpenFile)
	}
	n, err := m.parseLen(r.arg(1))
	if err != nil {
		return failErr(err)
	}
	// A missing file for FSA is found after the payload was read, so its
	// bytes never run as commands [I].
	return m.payload(n, func(_ context.Context, data []byte) atengine.Reply {
		var old []byte
		if appendTo {
			var err error
			if old, err = m.hw.Flash.ReadFile(name); err != nil {
				return fail(ErrOpenFile)
			}
		}
		content := append(old, data...)
		if used, err := m.usedExcept(name); err != nil || used+len(content) > m.cfg.FSCapacity {
			return fail(ErrFailedWriteFlash)
		}
		if err := m.hw.Flash.WriteFile(name, content); err != nil {
			m.log.Error("file write", "file", name, "err", err)
			return fail(ErrFailedWriteFlash)
		}
		return ok()
	})
}

// usedExcept is the volume's use without the file name.
func (m *Module) usedExcept(name string) (int, error) {
	files, err := m.hw.Flash.Files()
	if err != nil {
		return 0, err
	}
	used := 0
	for _, f := range files {
		if f.Name != name {
			used += f.Size
		}
	}
	return used, nil
}

// AT+S.FSL[=<file>] lists the user-flash volume.
func (m *Module) cmdFSL(_ context.Context, r request) atengine.Reply {
	files, err := m.hw.Flash.Files()
	if err != nil {
		return fail(ErrReadDir)
	}
	var lines []string
	for _, f := range files {
		if name := r.arg(0); name == "" || name == f.Name {
			lines = append(lines, fileLine(f))
		}
	}
	if r.arg(0) != "" && len(lines) == 0 {
		return fail(ErrOpenFile)
	}
	return ok(lines...)
}

// AT+S.FSP=<file>[,<offset>[,<length>]] prints part of a file: a
// `AT-S.Reading:<n>:<size>` line, n raw bytes, AT-S.OK (SOCKR's shape
// [C spwf04.md §6]; for FSP [I]).
func (m *Module) cmdFSP(_ context.Context, r request) atengine.Reply {
	if r.arg(0) == "" {
		return fail(ErrMissingArgs)
	}
	data, err := m.hw.Flash.ReadFile(r.arg(0))
	if err != nil {
		return fail(ErrOpenFile)
	}
	off, n := 0, len(data)
	if s := r.arg(1); s != "" {
		if off, err = strconv.Atoi(s); err != nil || off < 0 || off > len(data) {
			return fail(ErrSeekFile)
		}
		n = len(data) - off
	}
	if s := r.arg(2); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 0 {
			return fail(ErrInvalidArgs)
		}
		n = min(n, len(data)-off)
	}
	out := []byte("AT-S.Reading:" + strconv.Itoa(n) + ":" + strconv.Itoa(len(data)) + "\r\n")
	out = append(out, data[off:off+n]...)
	out = append(out, "AT-S.OK\r\n"...)
	return atengine.Answer(out)
}

// AT+S.FSD=<file> deletes a file.
func (m *Module) cmdFSD(_ context.Context, r request) atengine.Reply {
	if r.arg(0) == "" {
		return fail(ErrMissingArgs)
	}
	if err := m.hw.Flash.DeleteFile(r.arg(0)); err != nil {
		if !errors.Is(err, ErrNoFile) {
			m.log.Error("FSD", "err", err)
		}
		return fail(ErrDeleteFile)
	}
	return ok()
}

// AT+S.FSR=<old>,<new> renames a file; the new name must be free.
func (m *Module) cmdFSR(_ context.Context, r request) atengine.Reply {
	if r.arg(0) == "" || r.arg(1) == "" {
		return fail(ErrMissingArgs)
	}
	to := r.arg(1)
	if !validFileName(to) {
		return fail(ErrRenameFile)
	}
	if _, err := m.hw.Flash.ReadFile(to); err == nil {
		return fail(ErrRenameFile)
	}
	if err := m.hw.Flash.RenameFile(r.arg(0), to); err != nil {
		if !errors.Is(err, ErrNoFile) {
			m.log.Error("FSR", "err", err)
		}
		return fail(ErrRenameFile)
	}
	return ok()
}

// caFileSuffix marks a trust anchor file: `<subject key id hex>.ca`
// [C FT: e59d5930824758ccacfa085436867b3ab5044df0.ca]. Hex case [U]:
// both cases are accepted.
const caFileSuffix = ".ca"

// caFileKeyID is the key id a file name carries, nil if it is no anchor file.
func caFileKeyID(name string) []byte {
	hexPart, isCA := strings.CutSuffix(strings.ToLower(name), caFileSuffix)
	if !isCA || hexPart == "" || len(hexPart)%2 != 0 {
		return nil
	}
	id := make([]byte, len(hexPart)/2)
	for i := range id {
		v, err := strconv.ParseUint(hexPart[2*i:2*i+2], 16, 8)
		if err != nil {
			return nil
		}
		id[i] = byte(v)
	}
	return id
}
