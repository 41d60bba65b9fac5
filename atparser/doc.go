// Package atparser turns the bytes a host tool writes to a simulated modem
// into AT commands and encodes the answers. It knows AT syntax, not any
// dialect: which commands exist is up to the persona that uses it.
//
// Three steps, one type each:
//
//   - Framer splits the byte stream into command lines the way Nordic's
//     at_host RX state machine does (sdk-nrf lib/at_host/at_host.c,
//     /work/shared/protocols/nrf91.md §1.1): quote-aware (CR, LF and NUL
//     inside "…" are content, so a multi-line PEM in AT%CMNG arrives whole),
//     a configurable terminator, BS/DEL editing, a hard cap of
//     DefaultMaxLen-1 bytes, whitespace-only lines dropped, and raw
//     length-prefixed payloads (ExpectRaw) for SPWF04-style commands.
//   - Parse splits one line into name, kind (exec/set/read/test) and typed
//     parameters.
//   - Framing encodes a Response or URC as at_client (FramingBare) or the
//     Serial Modem application (FramingPrefixed) puts it on the wire.
//
// A minimal command loop:
//
//	fr := atparser.NewFramer(atparser.WithTerminator(atparser.TermAny))
//	for p := input; len(p) > 0; {
//		n, frame, ok := fr.Scan(p)
//		p = p[n:]
//		if !ok {
//			continue
//		}
//		resp := atparser.Error()
//		if cmd, err := atparser.Parse(frame.Line); err == nil && cmd.Name == "+CGSN" {
//			resp = atparser.OK("352656100367872")
//		}
//		out = atparser.FramingBare.AppendResponse(out, resp) // "352656100367872\r\nOK\r\n"
//	}
//
// Framer is not safe for concurrent use; Parse and the Framing methods are
// pure functions.
package atparser
