// Package nrf91modem is the nRF91 modem firmware as seen through AT: the
// commands the modem itself answers (%CMNG, +CFUN, +CMEE, +CGSN, +CEREG, …),
// operating on the board's identity and its credential store.
//
// It knows nothing about framing or the serial port: an AT host persona
// (at_client, Serial Modem) parses a line with atparser, hands the command to
// Modem.Handle and writes the Response in its own framing. Unsolicited result
// codes go to the Notify callback, which the engine writes between responses.
//
// AT+CFUN=1 registers on a simulated LTE network (Options.Network: delay,
// outcome, later coverage loss); the registration state drives +CEREG,
// +CSCON, +CGEV and the status commands, and NetworkState tells a network
// stack whether the modem can carry traffic. The command table is the list
// of what is simulated (SimulatedCommands, AT+CLAC); other commands answer
// ERROR and are logged once per modem.
//
// Facts are from ../shared/protocols/nrf91.md; each carries the note's tag:
// [S] read in a source, [T] seen on a device, [I] inferred (configurable).
package nrf91modem
