package nrf91modem

import (
	"context"
	"crypto/ecdsa"
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"github.com/modemsim/modemsim/atparser"
	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/modemkey"
)

// %KEYGEN <response_content> values (nrf91.md §3 [S]).
const (
	keygenCSR    = 0
	keygenPubKey = 1
)

// handleKEYGEN: AT%KEYGEN=<sec_tag>,<key_type>[,<response_content>][,<attributes>][,<key_usage>].
// The private key is stored at (sec_tag, key_type) and never leaves the modem;
// the host gets a CSR (or the public key) wrapped with a COSE_Sign1 by the
// board's identity key.
func handleKEYGEN(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	if cmd.Kind != atparser.KindSet || cmd.ParamCount() < 2 || cmd.ParamCount() > 5 {
		return atparser.Error()
	}
	tag, ok1 := cmd.IntParam(0)
	keyType, ok2 := cmd.IntParam(1)
	if !ok1 || !ok2 {
		return atparser.Error()
	}
	content := int64(keygenCSR)
	if cmd.ParamCount() >= 3 && cmd.Params[2].Kind != atparser.ParamEmpty {
		var ok bool
		if content, ok = cmd.IntParam(2); !ok {
			return atparser.Error()
		}
	}
	var opts modemkey.CSROptions
	opts.NullParam = !m.opts.StandardCSR
	if cmd.ParamCount() >= 4 && cmd.Params[3].Kind != atparser.ParamEmpty {
		s, ok := cmd.StringParam(3)
		if !ok {
			return atparser.Error()
		}
		opts.Attributes = s
	}
	if cmd.ParamCount() == 5 {
		s, ok := cmd.StringParam(4)
		if !ok {
			return atparser.Error()
		}
		opts.KeyUsage = s
	}
	if tag < 0 || tag > maxTag || (keyType != TypeClientKey && keyType != TypeEndorsementKey) ||
		(content != keygenCSR && content != keygenPubKey) {
		return m.fail(CMEIncorrectParams)
	}
	key := credstore.Key{Tag: uint32(tag), Type: int(keyType)}
	if !userTag(key.Tag) {
		return m.fail(CMENoAccess)
	}
	if r, blocked := m.nvmWriteBlocked(); blocked {
		return r
	}
	if m.identityKey == nil {
		return m.fail(CMEKeyGenFailed)
	}

	priv, reused, err := m.keygenKey(key)
	if err != nil {
		if errors.Is(err, errKeyExists) {
			return m.fail(CMEAlreadyExists)
		}
		return m.keygenStoreFailure(key, err)
	}
	uuid, err := modemkey.ParseUUID(m.id.DeviceUUID)
	if err != nil {
		return m.fail(CMEKeyGenFailed)
	}
	var nonce [16]byte
	if _, err := io.ReadFull(m.rand, nonce[:]); err != nil {
		return m.fail(CMEKeyGenFailed)
	}
	var body string
	// The endorsement key (type 8) only ever answers with its public key
	// message (payload id 8): it exists to be registered, never certified
	// through a CSR [S keygen_set; the CSR case is not documented for 8].
	if content == keygenPubKey || key.Type == TypeEndorsementKey {
		body, err = m.identityKey.PublicKeyResponse(m.rand, &priv.PublicKey, uuid, key.Tag, nonce)
	} else {
		var der []byte
		der, err = modemkey.BuildCSR(m.rand, priv, m.id.DeviceUUID, opts)
		if err == nil {
			body, err = m.identityKey.KeygenResponse(m.rand, der, uuid, key.Tag, nonce)
		}
	}
	if err != nil {
		if !reused {
			// Nothing half-done stays behind: a failed request leaves no key.
			_ = m.store.Delete(key)
		}
		if errors.Is(err, modemkey.ErrBadAttributes) {
			return m.fail(CMEIncorrectParams)
		}
		m.log.Error("keygen failed", "tag", key.Tag, "err", err)
		return m.fail(CMEKeyGenFailed)
	}
	return atparser.OK(`%KEYGEN: "` + body + `"`)
}

var errKeyExists = errors.New("key exists")

// keygenKey creates the key at the slot, or reuses an existing endorsement
// key (type 8 is reused if present [S]); a client key that exists is 519 [I].
func (m *Modem) keygenKey(key credstore.Key) (priv *ecdsa.PrivateKey, reused bool, err error) {
	if existing, err := m.store.Use(key); err == nil {
		if key.Type != TypeEndorsementKey {
			return nil, false, errKeyExists
		}
		k, err := parseECKey(existing)
		if err != nil {
			return nil, false, fmt.Errorf("stored endorsement key: %w", err)
		}
		return k, true, nil
	} else if !errors.Is(err, credstore.ErrNotFound) {
		return nil, false, err
	}
	k, err := modemkey.GenerateKey(m.rand)
	if err != nil {
		return nil, false, err
	}
	pemKey, err := modemkey.MarshalPrivateKeyPEM(k)
	if err != nil {
		return nil, false, err
	}
	if err := m.store.Put(key, pemKey); err != nil {
		return nil, false, err
	}
	return k, false, nil
}

func (m *Modem) keygenStoreFailure(key credstore.Key, err error) atparser.Response {
	if errors.Is(err, credstore.ErrFull) {
		return m.fail(CMEMemoryFull)
	}
	m.log.Error("keygen store failed", "tag", key.Tag, "type", key.Type, "err", err)
	return m.fail(CMEKeyGenFailed)
}

// handleATTESTTOKEN: AT%ATTESTTOKEN[="<32 hex nonce>"] (nrf91.md §4 [S/T]).
func handleATTESTTOKEN(_ context.Context, m *Modem, cmd atparser.Command) atparser.Response {
	var nonce [16]byte
	switch cmd.Kind {
	case atparser.KindExec:
		if _, err := io.ReadFull(m.rand, nonce[:]); err != nil {
			return m.fail(CMESystemError)
		}
	case atparser.KindSet:
		s, ok := cmd.StringParam(0)
		if !ok || cmd.ParamCount() != 1 || len(s) != 32 {
			return m.fail(CMEIncorrectParams)
		}
		b, err := hex.DecodeString(s)
		if err != nil {
			return m.fail(CMEIncorrectParams)
		}
		copy(nonce[:], b)
	default:
		return atparser.Error()
	}
	if m.identityKey == nil {
		return m.fail(CMESystemError)
	}
	uuid, err1 := modemkey.ParseUUID(m.id.DeviceUUID)
	fw, err2 := modemkey.ParseUUID(m.id.ModemUUID)
	if err := errors.Join(err1, err2); err != nil {
		return m.fail(CMESystemError)
	}
	devType, ok := m.opts.DeviceType, m.opts.DeviceType != 0
	if !ok {
		devType, ok = modemkey.DeviceTypeForModel(m.model.CGMM)
	}
	if !ok {
		return m.fail(CMESystemError)
	}
	tok, err := m.identityKey.AttestationToken(m.rand, uuid, devType, fw, nonce)
	if err != nil {
		m.log.Error("attestation token failed", "err", err)
		return m.fail(CMESystemError)
	}
	return atparser.OK(`%ATTESTTOKEN: "` + tok + `"`)
}

func parseECKey(pemKey []byte) (*ecdsa.PrivateKey, error) {
	s, err := modemkey.ParsePrivateKeyPEM(pemKey)
	if err != nil {
		return nil, err
	}
	k, ok := s.(*ecdsa.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, not ECDSA", s)
	}
	return k, nil
}
