// Package atparser turns the bytes a host tool writes to a simulated modem
// into AT commands and encodes the answers. It knows AT syntax, not any
// dialect: which commands exist is up to the persona that uses it.
//
// Two steps, one type each:
//
//   - Framer splits the byte stream into command lines the way Nordic's
//     at_host RX state machine does (sdk-nrf lib/at_host/at_host.c,
//     /work/shared/protocols/nrf91.md §1.1): quote-aware (CR, LF and NUL
//     inside "…" are content, so a multi-line PEM in AT%CMNG arrives whole),
//     a configurable terminator, BS/DEL editing, a hard cap of
//     DefaultMaxLen-1 bytes, and whitespace-only lines dropped. Raw
//     payloads after a command (SPWF04 TLSCERT) are the engine's job
//     (atengine.Payload).
//   - Parse splits one line into name, kind (exec/set/read/test) and typed
//     parameters.
//
// A Response is what a command handler answers (information lines and a
// final result); how it looks on the wire belongs to the firmware that
// prints it (persona/athost for Nordic's AT hosts).
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
//		answers = append(answers, resp)
//	}
//
// Framer is not safe for concurrent use; Parse is a pure function.
package atparser
