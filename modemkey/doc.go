// Package modemkey holds the cryptography behind the nRF91 commands
// AT%KEYGEN and AT%ATTESTTOKEN and the board's persistent identity key.
//
// It is a pure library: it takes and returns bytes and keys. AT parsing, the
// credential store and the choice of nonces and UUIDs belong to the caller.
//
// Every wire format here was decoded from real-device output published in
// nRFCloud/utils ADVANCED.md (see /work/shared/protocols/nrf91.md §3 and §4,
// tagged [T]); the vectors are repeated in this package's tests.
//
// The one thing that cannot be reproduced is Nordic's device identity key,
// which signs every COSE_Sign1 the real modem emits. The board's own
// Identity key stands in for it; its public key is exportable so a verifier
// in the simulation can check what the board signs.
//
// Since Go 1.26 the crypto/ecdsa functions ignore the io.Reader they are given
// and always use the system's secure random source; the rand parameters are
// kept so the API reads like the rest of the standard library (tests that need
// determinism can use testing/cryptotest.SetGlobalRandom).
package modemkey
