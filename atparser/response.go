package atparser

import "strconv"

// FinalKind is the final result code that ends a response.
type FinalKind int

const (
	FinalNone  FinalKind = iota // no final result (partial output, e.g. a prompt)
	FinalOK                     // OK
	FinalError                  // ERROR
	FinalCME                    // +CME ERROR: <Code>
	FinalCMS                    // +CMS ERROR: <Code>
)

// String names the final result kind for logs and test output.
func (k FinalKind) String() string {
	switch k {
	case FinalNone:
		return "none"
	case FinalOK:
		return "OK"
	case FinalError:
		return "ERROR"
	case FinalCME:
		return "CME"
	case FinalCMS:
		return "CMS"
	}
	return "FinalKind(?)"
}

// Response is what a handler answers: information lines (without line
// endings; they may contain CR/LF, e.g. a PEM read back, and are written
// verbatim) and a final result.
type Response struct {
	Lines []string
	Final FinalKind
	Code  int // for FinalCME / FinalCMS
}

// OK is a successful response with optional information lines.
func OK(lines ...string) Response { return Response{Lines: lines, Final: FinalOK} }

// Error is a plain ERROR (also what +CMEE=0 turns every CME error into).
func Error() Response { return Response{Final: FinalError} }

// CMEError is "+CME ERROR: <code>".
func CMEError(code int) Response { return Response{Final: FinalCME, Code: code} }

// CMSError is "+CMS ERROR: <code>".
func CMSError(code int) Response { return Response{Final: FinalCMS, Code: code} }

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
	// FramingBare is at_client/at_host: the modem's bytes as they are, each
	// line ending CRLF, no echo, no blank lines: "line\r\nOK\r\n"
	// [S nrf91.md §1.1].
	FramingBare Framing = iota
	// FramingPrefixed is the Serial Modem (SLM) host: a CRLF before the
	// information lines and another before the final result:
	// "\r\n+CFUN: 4\r\n\r\nOK\r\n"; no lines gives "\r\nOK\r\n"; URCs are
	// "\r\n<urc>\r\n" [S nrf91.md §1.3, sm_at_host.c format_final_result].
	FramingPrefixed
)

// String names the framing for logs and test output.
func (f Framing) String() string {
	switch f {
	case FramingBare:
		return "bare"
	case FramingPrefixed:
		return "prefixed"
	}
	return "Framing(?)"
}

// AppendResponse appends the wire bytes of r to dst. The caller writes the
// result in one write, so a URC can never land inside a response.
func (f Framing) AppendResponse(dst []byte, r Response) []byte {
	if f == FramingPrefixed {
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
		if r.Final != FinalNone {
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
	if r.Final != FinalNone {
		dst = appendFinal(dst, r)
		dst = append(dst, lineEnd...)
	}
	return dst
}

// appendFinal appends the final result text without line endings.
func appendFinal(dst []byte, r Response) []byte {
	switch r.Final {
	case FinalOK:
		return append(dst, finalOK...)
	case FinalCME:
		return strconv.AppendInt(append(dst, cmeErrorPrefix...), int64(r.Code), 10)
	case FinalCMS:
		return strconv.AppendInt(append(dst, cmsErrorPrefix...), int64(r.Code), 10)
	}
	// FinalError and unknown kinds: an unknown kind is a programming error,
	// and ERROR is the answer a host handles best.
	return append(dst, finalError...)
}

// AppendURC appends one unsolicited result line to dst.
func (f Framing) AppendURC(dst []byte, line string) []byte {
	if f == FramingPrefixed {
		dst = append(dst, lineEnd...)
	}
	dst = append(dst, line...)
	return append(dst, lineEnd...)
}
