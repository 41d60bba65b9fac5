package nrf91modem

import "github.com/modemsim/modemsim/atparser"

// CME error codes the modem reports with +CMEE=1 (nrf91.md §1.2 [S], from
// sdk-nrf lib/modem_key_mgmt and the %CMNG / %KEYGEN reference pages).
const (
	CMEPhoneFailure     = 0   // phone failure / invalid
	CMEMemoryFailure    = 23  // memory failure
	CMEIncorrectParams  = 50  // incorrect parameters
	CMESystemError      = 60  // system error
	CMENotFound         = 513 // not found (read/delete of a missing entry)
	CMENoAccess         = 514 // no access (private key read, reserved tag)
	CMEMemoryFull       = 515 // memory full
	CMENotAllowedActive = 518 // not allowed in active state (+CFUN 1, 2, 21)
	CMEAlreadyExists    = 519 // already exists
	CMEAuthFailed       = 520 // authentication failed / already exists (%XSUDO, %XPMNG)
	CMEKeyGenFailed     = 523 // key generation failed (%KEYGEN)
	CMEInvalidContent   = 527 // invalid certificate content for write of type 0 or 1 (mfw ≥ 2.0) [T DevZone 127428]
	CMEPowerOffWarning  = 528 // power-off warning active
)

// fail answers a failure the way the modem does: a numeric +CME ERROR when
// +CMEE=1 (or 2, treated like 1 [T DevZone 127428]), a plain ERROR otherwise
// [I from 27.007; modem_key_mgmt turns CMEE on to get codes, S].
func (m *Modem) fail(code int) atparser.Response {
	if m.cmee == 0 {
		return atparser.Error()
	}
	return atparser.CMEError(code)
}
