package nrf91modem

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
)

// %CMNG credential types on nRF91x1 / mfw ≥ 1.3 (nrf91.md §2 [S]; 8–11 names
// from nrfcredstore's CredType).
const (
	TypeRootCA           = 0
	TypeClientCert       = 1
	TypeClientKey        = 2
	TypePSK              = 3
	TypePSKIdentity      = 4
	TypePublicKey        = 5
	TypeIdentityPubKey   = 6
	TypeReserved         = 7
	TypeEndorsementKey   = 8
	TypeOwnershipKey     = 9
	TypeNordicRootCA     = 10
	TypeNordicBasePubKey = 11
	maxType              = 11
)

// %CMNG opcodes.
const (
	opWrite  = 0
	opList   = 1
	opRead   = 2
	opDelete = 3
)

// Security tag ranges (nrf91.md §2 [S]): user tags 0–2147483647; above that
// the modem reserves them, except 2147483648–2147483667, the TLS-decryptable
// debug tags applications may use.
const (
	maxUserTag       = 2147483647
	maxDecryptTag    = 2147483667
	maxTag           = 4294967295
	passwordMaxChars = 32 // PKCS#8 password for an encrypted type-2 key [S old page]
)

// writableTypes are the types a host may write with opcode 0; the others are
// managed by the modem itself (%KEYGEN, %XPMNG, Nordic provisioning) [I].
var writableTypes = map[int64]bool{TypeRootCA: true, TypeClientCert: true, TypeClientKey: true, TypePSK: true, TypePSKIdentity: true}

func handleCMNG(ctx context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindSet {
		// No read or test form is documented for %CMNG [I].
		return atparser.Error()
	}
	op, ok := cmd.IntParam(0)
	if !ok {
		return atparser.Error()
	}
	switch op {
	case opWrite:
		return m.cmngWrite(cmd)
	case opList:
		return m.cmngList(cmd)
	case opRead:
		return m.cmngRead(cmd)
	case opDelete:
		return m.cmngDelete(cmd)
	}
	return m.fail(CMEIncorrectParams)
}

// slotParams reads <sec_tag>,<type> at positions 1 and 2; a missing or
// non-integer value is a syntax error (plain ERROR), an out-of-range one an
// incorrect parameter [I].
func (m *Modem) slotParams(cmd atparser.Command) (credstore.Key, *atparser.Response) {
	tag, ok1 := cmd.IntParam(1)
	typ, ok2 := cmd.IntParam(2)
	if !ok1 || !ok2 {
		r := atparser.Error()
		return credstore.Key{}, &r
	}
	if tag < 0 || tag > maxTag || typ < 0 || typ > maxType {
		r := m.fail(CMEIncorrectParams)
		return credstore.Key{}, &r
	}
	return credstore.Key{Tag: uint32(tag), Type: int(typ)}, nil
}

// userTag reports whether a host may write or delete at this tag.
func userTag(tag uint32) bool { return tag <= maxDecryptTag }

func (m *Modem) nvmWriteBlocked() (atparser.Response, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.lteActive {
		return m.fail(CMENotAllowedActive), true
	}
	if m.pofWarning {
		return m.fail(CMEPowerOffWarning), true
	}
	return atparser.Response{}, false
}

func (m *Modem) cmngWrite(cmd atparser.Command) atparser.Response {
	if cmd.ParamCount() < 4 || cmd.ParamCount() > 5 {
		return atparser.Error()
	}
	key, bad := m.slotParams(cmd)
	if bad != nil {
		return *bad
	}
	content, ok := cmd.StringParam(3)
	if !ok || content == "" {
		return m.fail(CMEIncorrectParams)
	}
	if cmd.ParamCount() == 5 {
		pw, ok := cmd.StringParam(4)
		if !ok || key.Type != TypeClientKey || len(pw) > passwordMaxChars {
			return m.fail(CMEIncorrectParams)
		}
	}
	if !userTag(key.Tag) || !writableTypes[int64(key.Type)] {
		return m.fail(CMENoAccess)
	}
	if r, blocked := m.nvmWriteBlocked(); blocked {
		return r
	}
	if (key.Type == TypeRootCA || key.Type == TypeClientCert) && m.validatesPEM() && !isPEMCertificates([]byte(content)) {
		return m.fail(CMEInvalidContent)
	}
	if m.opts.RejectOverwrite {
		if _, err := m.store.Get(key); err == nil {
			return m.fail(CMEAlreadyExists)
		}
	}
	if err := m.store.Put(key, []byte(content)); err != nil {
		return m.storeFailure("write", key, err)
	}
	return atparser.OK()
}

func (m *Modem) cmngList(cmd atparser.Command) atparser.Response {
	var f credstore.Filter
	switch cmd.ParamCount() {
	case 1:
	case 2, 3:
		tag, ok := cmd.IntParam(1)
		if !ok {
			return atparser.Error()
		}
		if tag < 0 || tag > maxTag {
			return m.fail(CMEIncorrectParams)
		}
		t := uint32(tag)
		f.Tag = &t
		if cmd.ParamCount() == 3 {
			typ, ok := cmd.IntParam(2)
			if !ok {
				return atparser.Error()
			}
			if typ < 0 || typ > maxType {
				return m.fail(CMEIncorrectParams)
			}
			ty := int(typ)
			f.Type = &ty
		}
	default:
		return atparser.Error()
	}
	entries := m.store.List(f)
	lines := make([]string, 0, len(entries))
	for _, e := range entries {
		if e.Type > maxType {
			continue // nrfcredstore v2 crashes on types it does not know [S]
		}
		// The sha field is always printed: both nrfcredstore versions index it [S].
		lines = append(lines, fmt.Sprintf(`%%CMNG: %d,%d,"%s"`, e.Tag, e.Type, e.DigestHex()))
	}
	// No match → just OK (modem_key_mgmt_exists relies on it [S]).
	return atparser.OK(lines...)
}

func (m *Modem) cmngRead(cmd atparser.Command) atparser.Response {
	if cmd.ParamCount() != 3 {
		return atparser.Error()
	}
	key, bad := m.slotParams(cmd)
	if bad != nil {
		return *bad
	}
	e, err := m.store.Get(key)
	if err != nil {
		return m.storeFailure("read", key, err)
	}
	content, err := m.store.Read(key)
	if err != nil {
		return m.storeFailure("read", key, err)
	}
	// Content exactly as written, CR and LF included (nrf91.md §2 [S]).
	return atparser.OK(fmt.Sprintf(`%%CMNG: %d,%d,"%s","%s"`, key.Tag, key.Type, e.DigestHex(), content))
}

func (m *Modem) cmngDelete(cmd atparser.Command) atparser.Response {
	if cmd.ParamCount() != 3 {
		return atparser.Error()
	}
	key, bad := m.slotParams(cmd)
	if bad != nil {
		return *bad
	}
	// Write and delete are refused as such while activated (nrf91.md §2 [S]);
	// that the state is checked before existence is inferred [I].
	if r, blocked := m.nvmWriteBlocked(); blocked {
		return r
	}
	if _, err := m.store.Get(key); err != nil {
		return m.storeFailure("delete", key, err)
	}
	if !userTag(key.Tag) {
		return m.fail(CMENoAccess)
	}
	if err := m.store.Delete(key); err != nil {
		return m.storeFailure("delete", key, err)
	}
	return atparser.OK()
}

// storeFailure maps a credential-store error to the modem's code.
func (m *Modem) storeFailure(op string, key credstore.Key, err error) atparser.Response {
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		return m.fail(CMENotFound)
	case errors.Is(err, credstore.ErrNoAccess):
		return m.fail(CMENoAccess)
	case errors.Is(err, credstore.ErrFull):
		return m.fail(CMEMemoryFull)
	}
	m.log.Error("credential store failed", "op", op, "tag", key.Tag, "type", key.Type, "err", err)
	return m.fail(CMEMemoryFailure)
}

func (m *Modem) validatesPEM() bool {
	if m.opts.ValidatePEM != nil {
		return *m.opts.ValidatePEM
	}
	return firmwareAtLeast(m.id.Firmware, 2, 0)
}

// isPEMCertificates reports whether b holds one or more PEM certificates and
// nothing else but whitespace, as mbedTLS would accept for a CA chain or a
// client certificate. LF and CRLF line ends both parse (nrf91.md §2).
func isPEMCertificates(b []byte) bool {
	found := false
	for {
		block, rest := pem.Decode(b)
		if block == nil {
			return found && len(trimSpace(rest)) == 0
		}
		if block.Type != "CERTIFICATE" {
			return false
		}
		if _, err := x509.ParseCertificate(block.Bytes); err != nil {
			return false
		}
		found = true
		b = rest
	}
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r' || b[0] == '\n' || b[0] == 0) {
		b = b[1:]
	}
	return b
}
