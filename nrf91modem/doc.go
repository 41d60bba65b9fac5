// Package nrf91modem is the nRF91 modem firmware as seen through AT: the
// commands the modem itself answers (%CMNG, +CFUN, +CMEE, +CGSN, +CEREG, …),
// operating on the board's identity and its credential store.
//
// It knows nothing about framing or the serial port: an AT host persona
// (at_client, Serial Modem) parses a line with atparser, hands the command to
// Modem.Handle and writes the Response in its own framing. Unsolicited result
// codes go to the Notify callback, which the engine writes between responses.
//
// Facts are from ../shared/protocols/nrf91.md; each carries the note's tag:
// [S] read in a source, [T] seen on a device, [I] inferred (configurable).
package nrf91modem
