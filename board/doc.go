// Package board assembles a simulated board: the hardware that keeps state
// (identity, identity key, non-volatile credential store; a Kind) and the
// firmware persona its serial port speaks (a Persona, from the Catalog).
// Re-flashing changes the persona, never the state: a user provisions with
// at_client, then flashes another persona onto the same state directory and
// finds the same credentials (DESIGN.md). A Fleet serves many boards from one
// process, sharing one port watcher.
package board
