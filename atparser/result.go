package atparser

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
