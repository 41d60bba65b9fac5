// Package athost is the wire side of Nordic's two AT hosts on the nRF91:
// the at_host library that the at_client sample runs (answers as the modem
// gives them) and the Serial Modem application's host (CRLF-prefixed lines).
// It holds their line discipline for the engine and their reply framings;
// the personas pick one.
package athost

import (
	"strconv"

	"github.com/modemsim/modemsim/atparser"
)

// Wire strings [S nrf91.md §1.1, §1.2: nrf_modem_at final codes; §1.3:
// Serial Modem OK_STR "\r\nOK\r\n", ERROR_STR "\r\nERROR\r\n", CRLF_STR].
const (
	lineEnd        = "\r\n"
	finalOK        = "OK"
	finalError     = "ERROR"
	cmeErrorPrefix = "+CME ERROR: "
	cmsErrorPrefix = "+CMS ERROR: "
)

// Framing is how a firmware wraps response and URC lines on the wire.
type Framing int

const (
	// Bare is at_client/at_host: the modem's bytes as they are, each
	// line ending CRLF, no echo, no blank lines: "line\r\nOK\r\n"
	// [S nrf91.md §1.1].
	Bare Framing = iota
	// Prefixed is the Serial Modem (SLM) host: a CRLF before the
	// information lines and another before the final result:
	// "\r\n+CFUN: 4\r\n\r\nOK\r\n"; no lines gives "\r\nOK\r\n"; URCs are
	// "\r\n<urc>\r\n" [S nrf91.md §1.3, sm_at_host.c format_final_result].
	Prefixed
)

// String names the framing for logs and test output.
func (f Framing) String() string {
	switch f {
	case Bare:
		return "bare"
	case Prefixed:
		return "prefixed"
	}
	return "Framing(?)"
}

// AppendResponse appends the wire bytes of r to dst. The caller writes the
// result in one write, so a URC can never land inside a response.
func (f Framing) AppendResponse(dst []byte, r atparser.Response) []byte {
	if f == Prefixed {
		if len(r.Lines) > 0 {
			dst = append(dst, lineEnd...)
			for i, l := range r.Lines {
				if i > 0 {
					dst = append(dst, lineEnd...)
				}
				dst = append(dst, l...)
			}
			dst = append(dst, lineEnd...)
		}
		if r.Final != atparser.FinalNone {
			dst = append(dst, lineEnd...)
			dst = appendFinal(dst, r)
			dst = append(dst, lineEnd...)
		}
		return dst
	}
	for _, l := range r.Lines {
		dst = append(dst, l...)
		dst = append(dst, lineEnd...)
	}
	if r.Final != atparser.FinalNone {
		dst = appendFinal(dst, r)
		dst = append(dst, lineEnd...)
	}
	return dst
}

// appendFinal appends the final result text without line endings.
func appendFinal(dst []byte, r atparser.Response) []byte {
	switch r.Final {
	case atparser.FinalOK:
		return append(dst, finalOK...)
	case atparser.FinalCME:
		return strconv.AppendInt(append(dst, cmeErrorPrefix...), int64(r.Code), 10)
	case atparser.FinalCMS:
		return strconv.AppendInt(append(dst, cmsErrorPrefix...), int64(r.Code), 10)
	}
	// FinalError and unknown kinds: an unknown kind is a programming error,
	// and ERROR is the answer a host handles best.
	return append(dst, finalError...)
}

// AppendURC appends one unsolicited result line to dst.
func (f Framing) AppendURC(dst []byte, line string) []byte {
	if f == Prefixed {
		dst = append(dst, lineEnd...)
	}
	dst = append(dst, line...)
	return append(dst, lineEnd...)
}
