// Package board assembles a simulated board: the hardware that keeps state
// (identity, identity key, non-volatile credential store) and the firmware
// persona its serial port speaks. Re-flashing changes the persona, never the
// state: a user provisions with at_client, then runs another persona on the
// same state directory and finds the same credentials (DESIGN.md).
package board
