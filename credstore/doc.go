// Package credstore is a simulated board's non-volatile credential storage:
// persistent, crash-safe slots keyed by (sec_tag, type), each holding opaque
// bytes stored verbatim together with their SHA-256 digest.
//
// The package knows no dialect: a type is just an int. The board decides which
// types are secret (usable by the device through [Store.Use], never readable
// through [Store.Read]) with [WithSecretTypes], e.g. 2, 8 and 9 for the nRF91
// modem's %CMNG (/work/shared/protocols/nrf91.md §2 [I]).
//
// # On-disk layout
//
// One store is one directory, normally one per simulated board:
//
//	<dir>/README.txt        explains this layout (written once, when missing)
//	<dir>/.lock             flock(2)-held by the process that has the store open
//	<dir>/<tag>/<type>      one slot: exactly the stored bytes, nothing added
//
// <tag> and <type> are canonical decimal numbers (no sign, no leading zeros):
// tag 0..4294967295, type 0..2147483647. So `cp root.pem state/credstore/42/0`
// seeds sec_tag 42, type 0; the slot appears at the next [Open]. Files and
// directories with other names are logged and ignored; empty files are ignored
// because no slot can be empty. Files named ".*.tmp-*" are unfinished writes
// and are removed by [Open].
//
// # Durability
//
// [Store.Put] writes a temporary file in the slot's directory, fsyncs it,
// renames it over the slot and fsyncs the directory; [Store.Delete] removes and
// fsyncs likewise. A process killed at any moment therefore leaves each slot
// with its old or its new content, never a torn or empty one.
//
// Contents and digests are cached at Open and on Put, so reads and listings do
// no I/O; edits made to the files while a store is open are not seen until
// the next Open (and may be overwritten by a Put).
//
// Only one process may have a directory open: the second [Open] fails with
// [ErrLocked]. A Store is safe for concurrent use by multiple goroutines.
//
// The package builds on Unix systems only (it uses flock(2)).
package credstore
