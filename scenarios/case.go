// Package scenarios holds every forum failure case (FAILURE-CASES.md) as a
// named world built from data — boards, the credentials they store, the hub
// with its root migration and simulation date, its registry, DPS CAs and
// enrollments — plus the steps a person takes, the lines the device prints
// when it fails, the fix, and the lines it prints when it works.
//
// Run replays a case with real boards (board.Catalog, a real pty each, the
// host's bytes written as a host tool writes them) against an in-process
// hub on 127.0.0.1 port 0 in a temporary state directory, and records what
// happened: the transcript, the hub's reasons, the certificates involved and
// a timeline of connection attempts. `modemsim demo` shows a Result in the
// terminal or as a page; features/demos.feature asserts every case ends in
// the outcome its own feature asserts.
//
// A case is one entry of Cases (cases.go); its steps use the actions of
// actions.go. Adding a case needs no new code unless it needs a new action:
//
//  1. Describe the world: World.Date, own CAs and device certificates, the
//     Hub (registry, hub CAs, DPS CAs, groups) and the Boards (kind,
//     persona, knobs, preloaded Credentials naming their content source).
//  2. List the Steps in order, each with its Phase, what is done (Say), the
//     Action (Type a line, run a Tool, Flash a persona, …) and the Outcome:
//     the lines the board or tool prints, in order, exactly as the case's
//     feature asserts them, and the hub's or DPS's reason.
//  3. Add the ID to features/demos.feature's Examples.
//
// A new kind of action (the nRF7002 DK's WebSocket sample, say) is a type
// with a do method in actions.go, or a Flash of the new persona.
package scenarios

import (
	"fmt"
	"slices"
)

// Case is one forum case as data.
type Case struct {
	ID     string // "M1", unique; the demo's argument
	Title  string // one line, for `modemsim demo`
	Source string // the forum thread under /work/shared/forum, or "" for a host-tool case
	// Failure and Fix say in a sentence what goes wrong and what fixes it.
	Failure, Fix string
	World        World
	Steps        []Step
}

// World is what exists before the first step.
type World struct {
	// Date is the simulation date (YYYY-MM-DD; the clock starts at noon and
	// runs); "" is the wall clock. The hub's root follows it (the 2023/2024
	// migration to DigiCert Global Root G2).
	Date string
	// CAs are the user's own root CAs (made with openssl in the threads).
	CAs []string
	// Certs are device certificates, each signed by one of CAs.
	Certs []DeviceCert
	Hub   *Hub // nil: the case needs no hub
	// Boards are opened in order; the first is the one steps act on by default.
	Boards []BoardSpec
}

// DeviceCert is a device certificate with CN, issued by Issuer.
type DeviceCert struct{ CN, Issuer string }

// Hub is the emulated IoT Hub + DPS.
type Hub struct {
	HostName string
	// OwnPKI makes stand-in roots of the case's own, created at Date (the
	// SPWF04 module reads them from disk), shared only with cases of the
	// same date; otherwise the runner's shared PKI is loaded at Date.
	OwnPKI  bool
	Devices []Device
	// CAs are own CAs uploaded to the hub and verified.
	CAs []string
	// DPSCAs are own CAs uploaded to DPS, verified by proof of possession or not.
	DPSCAs []DPSCA
	Groups []Group
}

// Device is a registry entry.
type Device struct {
	ID         string
	Auth       string // "sas", "ca", "self-signed"
	PrimaryKey string // base64 (sas); "" lets the hub make one
}

// DPSCA is a CA uploaded to DPS.
type DPSCA struct {
	Name     string
	Verified bool
}

// Group is a DPS X.509 enrollment group bound to a CA.
type Group struct{ ID, CA string }

// BoardSpec is one board: hardware, firmware and what its store holds.
type BoardSpec struct {
	Name    string // the steps' name for it; also its state directory
	Kind    string // board kind ("" nrf91)
	Persona string // firmware ("" the kind's default)
	// Hardware and Firmware are the board's knobs; string values may use the
	// placeholders of expand ({PKI_DIR}, {HUB_MQTT}, {HUB_WS}).
	Hardware, Firmware map[string]any
	Credentials        []Credential
	// Network puts the board on the hub's network (nRF91: the LTE network
	// reaching the hub's host names).
	Network bool
	// Count > 1 opens that many boards named Name-00, Name-01, …; a step
	// whose Board is Name acts on each.
	Count int
	// Terminator ends a typed line ("" is CRLF, as at_client and pyserial
	// tools send it).
	Terminator string
}

// Credential is preloaded into the board's store, as provisioning before
// the case did. Content names its source (see content).
type Credential struct {
	Tag     uint32
	Type    int
	Content string
}

// Phase groups steps for the demo: what the user did and saw, the fix,
// and what the board did then.
type Phase string

// Phases, in the order a case tells them.
const (
	PhaseSetup   Phase = "setup"
	PhaseFailure Phase = "failure"
	PhaseFix     Phase = "fix"
	PhaseSuccess Phase = "success"
)

// Step is one thing a person (or the hub's operator) does, and what must follow.
type Step struct {
	Phase Phase
	Say   string // what is done, in words, for the demo
	Board string // the board it acts on; "" the first
	Do    Action
	Want  Outcome
}

// Outcome is what a step must produce. Lines are matched in order among
// the lines printed since the last matched line (timestamps and ANSI
// escapes aside); "*" in a line stands for any text.
type Outcome struct {
	Lines []string
	// Absent lines (same matching) must not be among what the step printed.
	Absent []string
	// HubReason is a check the hub records (hub.Check); HubReasonDevice,
	// when set, the device it is recorded for; HubReasonValues values it names.
	HubReason       string
	HubReasonDevice string
	HubReasonValues map[string]string
	DPSReason       string // a check DPS records (dps.Check*)
	// Telemetry is a message the hub must have received.
	Telemetry *Telemetry
}

// Telemetry is a device-to-cloud message, payload exact.
type Telemetry struct{ Device, Payload string }

// Cases returns every case, in the order FAILURE-CASES.md tells them.
func Cases() []Case { return slices.Clone(cases) }

// Lookup returns the case with id.
func Lookup(id string) (Case, error) {
	for _, c := range cases {
		if c.ID == id {
			return c, nil
		}
	}
	return Case{}, fmt.Errorf("scenarios: no case %q (modemsim demo lists them)", id)
}

// IDs returns every case's ID.
func IDs() []string {
	out := make([]string, len(cases))
	for i, c := range cases {
		out[i] = c.ID
	}
	return out
}
