package modemkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/fxamacker/cbor/v2"
	"github.com/veraison/go-cose"
)

// Message identifiers, first element of the CBOR payload. Names are those of
// nRF Cloud utils' modem_credentials_parser (msg_type_dict, payload_id_dict)
// [S]; the values were seen in real output (nrf91.md §3, §4 [T]).
const (
	MsgDeviceIdentityV1 = 1 // AT%ATTESTTOKEN body, "Device identity message v1"
	MsgPubKeyV2         = 8 // AT%KEYGEN=…,2,1, "pubkey_msg_v2"
	MsgCSRV1            = 9 // AT%KEYGEN=…,2,0, "CSR_msg_v1"
)

// cborTagSelfDescribe (RFC 8949 §3.4.6) wraps every payload array the modem
// emits: d9 d9 f7 (§3, §4 [T]).
const cborTagSelfDescribe = 55799

// keyIDIdentityKey is the kid the modem puts in the unprotected header,
// CBOR-encoded as a bstr: {4: h'21'}, h'21' = CBOR -2 = "identity_key" in
// utils' header_key_type_dict (§3 [T]).
const keyIDIdentityKey = -2

// Sentinel errors callers can test with errors.Is.
var (
	// ErrMalformedMessage means a KEYGEN/ATTESTTOKEN string or COSE_Sign1 could
	// not be decoded.
	ErrMalformedMessage = errors.New("modemkey: malformed message")
	// ErrBadSignature means a COSE_Sign1 signature did not verify.
	ErrBadSignature = errors.New("modemkey: COSE signature does not verify")
	// ErrDetachedPayload means the COSE_Sign1 payload is nil and none was
	// given, or both an embedded and a detached payload were present.
	ErrDetachedPayload = errors.New("modemkey: COSE payload must be either embedded or detached")
)

// b64 is the modem's encoding for both parts: Base64url without padding
// (§3 [S/T]).
var b64 = base64.RawURLEncoding

// KeygenResponse returns the quoted text of "%KEYGEN: "…"" for
// AT%KEYGEN=<secTag>,2,0: "b64url(csrDER).b64url(COSE_Sign1)". The COSE
// payload is tag 55799 [9, uuid, bstr(cbor(secTag)), sha256(csrDER), nonce]
// (§3 [T]); the digest covers csrDER as given, NULL quirk included, exactly
// as utils compute it.
func (id *Identity) KeygenResponse(rand io.Reader, csrDER []byte, deviceUUID [16]byte, secTag uint32, nonce [16]byte) (string, error) {
	return id.keygenMessage(rand, MsgCSRV1, csrDER, deviceUUID, secTag, nonce)
}

// PublicKeyResponse returns the quoted text of "%KEYGEN: "…"" for
// AT%KEYGEN=<secTag>,2,1, the "CBOR device pubkey message": the body is the
// DER SubjectPublicKeyInfo of pub (the real sample body starts MFkwEwYH…,
// 30 59 30 13 06 07 …, nRFCloud/utils ADVANCED.md "KEYGEN - Public Key"
// [T]), and the COSE payload is [8, uuid, bstr(cbor(secTag)),
// sha256(SPKI DER), nonce] in the same envelope as KeygenResponse [T].
func (id *Identity) PublicKeyResponse(rand io.Reader, pub *ecdsa.PublicKey, deviceUUID [16]byte, secTag uint32, nonce [16]byte) (string, error) {
	if pub == nil {
		return "", fmt.Errorf("modemkey: public key response: %w", ErrUnsupportedKey)
	}
	spki, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", fmt.Errorf("modemkey: public key response: %w", err)
	}
	return id.keygenMessage(rand, MsgPubKeyV2, spki, deviceUUID, secTag, nonce)
}

// keygenPayload is the array inside the KEYGEN COSE payload (§3 [T]).
type keygenPayload struct {
	_          struct{} `cbor:",toarray"`
	MsgID      int
	DeviceUUID []byte
	SecTag     []byte // CBOR-encoded integer inside a bstr
	Digest     []byte // SHA-256 of the body
	Nonce      []byte
}

func (id *Identity) keygenMessage(rand io.Reader, msgID int, body []byte, deviceUUID [16]byte, secTag uint32, nonce [16]byte) (string, error) {
	tag, err := cbor.Marshal(secTagValue(secTag))
	if err != nil {
		return "", fmt.Errorf("modemkey: encode sec_tag: %w", err)
	}
	digest := sha256.Sum256(body)
	payload, err := cbor.Marshal(cbor.Tag{Number: cborTagSelfDescribe, Content: keygenPayload{
		MsgID: msgID, DeviceUUID: deviceUUID[:], SecTag: tag, Digest: digest[:], Nonce: nonce[:],
	}})
	if err != nil {
		return "", fmt.Errorf("modemkey: encode KEYGEN payload: %w", err)
	}
	msg, err := id.sign1(rand, payload, false)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(body) + "." + b64.EncodeToString(msg), nil
}

// secTagValue is the integer the modem encodes for a sec_tag. It is a 32-bit
// signed value on the wire: utils turn a negative one back into
// (-v ^ 0xFFFFFFFF) + 1 (modem_credentials_parser.parse_cose [S]), so tags
// above 2147483647 appear negative [I]; smaller tags are plain uints [T].
func secTagValue(t uint32) int64 { return int64(int32(t)) }

// attestPayload is the AT%ATTESTTOKEN body array (§4 [T]).
type attestPayload struct {
	_            struct{} `cbor:",toarray"`
	MsgID        int
	DeviceUUID   []byte
	DeviceType   int
	FirmwareUUID []byte
	Nonce        []byte
}

// AttestationToken returns the quoted text of "%ATTESTTOKEN: "…"":
// "b64url(body).b64url(COSE_Sign1)" with body = tag 55799
// [1, uuid, deviceType, fwUUID, nonce] and a COSE_Sign1 whose payload is nil
// and whose signature covers body as a detached payload (RFC 9052 §2) (§4
// [T] for the shape; what the real modem signs is not observable [I]).
func (id *Identity) AttestationToken(rand io.Reader, deviceUUID [16]byte, deviceType int, fwUUID [16]byte, nonce [16]byte) (string, error) {
	body, err := cbor.Marshal(cbor.Tag{Number: cborTagSelfDescribe, Content: attestPayload{
		MsgID: MsgDeviceIdentityV1, DeviceUUID: deviceUUID[:], DeviceType: deviceType,
		FirmwareUUID: fwUUID[:], Nonce: nonce[:],
	}})
	if err != nil {
		return "", fmt.Errorf("modemkey: encode attestation body: %w", err)
	}
	msg, err := id.sign1(rand, body, true)
	if err != nil {
		return "", err
	}
	return b64.EncodeToString(body) + "." + b64.EncodeToString(msg), nil
}

// sign1 makes the modem's COSE_Sign1: tag 18, protected {1: -7}, unprotected
// {4: h'21'}, 64-byte r‖s ES256 signature (§3 [T]).
func (id *Identity) sign1(rand io.Reader, payload []byte, detached bool) ([]byte, error) {
	if id == nil || id.Key == nil {
		return nil, fmt.Errorf("modemkey: sign COSE: %w", ErrUnsupportedKey)
	}
	signer, err := cose.NewSigner(cose.AlgorithmES256, id.Key)
	if err != nil {
		return nil, fmt.Errorf("modemkey: sign COSE: %w", err)
	}
	kid, err := cbor.Marshal(keyIDIdentityKey)
	if err != nil {
		return nil, fmt.Errorf("modemkey: encode kid: %w", err)
	}
	msg := cose.Sign1Message{
		Headers: cose.Headers{
			Protected:   cose.ProtectedHeader{cose.HeaderLabelAlgorithm: cose.AlgorithmES256},
			Unprotected: cose.UnprotectedHeader{cose.HeaderLabelKeyID: kid},
		},
		Payload: payload,
	}
	if err := msg.Sign(rand, nil, signer); err != nil {
		return nil, fmt.Errorf("modemkey: sign COSE: %w", err)
	}
	if detached {
		msg.Payload = nil // encoded as CBOR null (f6), as in the real token [T]
	}
	out, err := msg.MarshalCBOR()
	if err != nil {
		return nil, fmt.Errorf("modemkey: encode COSE: %w", err)
	}
	return out, nil
}

// VerifyCOSE checks a tagged ES256 COSE_Sign1 with pub and returns its
// payload. For a nil-payload message (AT%ATTESTTOKEN) pass the detached
// payload; otherwise pass nil.
func VerifyCOSE(pub *ecdsa.PublicKey, msgBytes []byte, detachedPayload []byte) ([]byte, error) {
	if pub == nil {
		return nil, fmt.Errorf("modemkey: verify COSE: %w", ErrUnsupportedKey)
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(msgBytes); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrMalformedMessage, err)
	}
	switch {
	case msg.Payload == nil && detachedPayload == nil,
		msg.Payload != nil && detachedPayload != nil:
		return nil, ErrDetachedPayload
	case msg.Payload == nil:
		msg.Payload = detachedPayload
	}
	verifier, err := cose.NewVerifier(cose.AlgorithmES256, pub)
	if err != nil {
		return nil, fmt.Errorf("modemkey: verify COSE: %w", err)
	}
	if err := msg.Verify(nil, verifier); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadSignature, err)
	}
	return msg.Payload, nil
}

// KeygenMessage is a decoded AT%KEYGEN response (content 0 or 1). Parsing
// does not verify the signature; use VerifyCOSE on COSE for that.
type KeygenMessage struct {
	Body       []byte // CSR DER (MsgCSRV1) or SubjectPublicKeyInfo DER (MsgPubKeyV2)
	COSE       []byte // the COSE_Sign1, nil if the string had no second part
	MsgID      int
	DeviceUUID [16]byte
	SecTag     uint32
	Digest     [32]byte // SHA-256 of Body claimed by the payload
	Nonce      [16]byte
}

// ParseKeygenResponse decodes "b64url(body)[.b64url(COSE)]" (padding
// optional, as utils add it back) and, when the COSE part is present, its
// payload. It checks that the payload digest matches the body, the one check
// nRF Cloud utils make (§3 [S]).
func ParseKeygenResponse(s string) (*KeygenMessage, error) {
	bodyPart, cosePart, hasCOSE := strings.Cut(s, ".")
	body, err := decodeB64(bodyPart)
	if err != nil {
		return nil, fmt.Errorf("%w: body: %w", ErrMalformedMessage, err)
	}
	m := &KeygenMessage{Body: body}
	if !hasCOSE {
		return m, nil
	}
	if m.COSE, err = decodeB64(cosePart); err != nil {
		return nil, fmt.Errorf("%w: COSE: %w", ErrMalformedMessage, err)
	}
	var msg cose.Sign1Message
	if err := msg.UnmarshalCBOR(m.COSE); err != nil {
		return nil, fmt.Errorf("%w: COSE_Sign1: %w", ErrMalformedMessage, err)
	}
	var p keygenPayload
	if err := unmarshalSelfDescribed(msg.Payload, &p); err != nil {
		return nil, fmt.Errorf("%w: KEYGEN payload: %w", ErrMalformedMessage, err)
	}
	var tag int64
	if err := decMode.Unmarshal(p.SecTag, &tag); err != nil || tag < -1<<31 || tag > 1<<32-1 {
		return nil, fmt.Errorf("%w: sec_tag %x", ErrMalformedMessage, p.SecTag)
	}
	if len(p.DeviceUUID) != 16 || len(p.Digest) != sha256.Size || len(p.Nonce) != 16 {
		return nil, fmt.Errorf("%w: KEYGEN payload field sizes", ErrMalformedMessage)
	}
	m.MsgID, m.SecTag = p.MsgID, uint32(tag)
	copy(m.DeviceUUID[:], p.DeviceUUID)
	copy(m.Digest[:], p.Digest)
	copy(m.Nonce[:], p.Nonce)
	if sum := sha256.Sum256(body); !bytes.Equal(sum[:], p.Digest) {
		return nil, fmt.Errorf("%w: payload digest does not match body", ErrMalformedMessage)
	}
	return m, nil
}

// AttestationMessage is a decoded AT%ATTESTTOKEN response. Parsing does not
// verify the signature; use VerifyCOSE(pub, COSE, Body) for that.
type AttestationMessage struct {
	Body         []byte // the CBOR body, also the detached COSE payload
	COSE         []byte // nil if the string had no second part
	MsgID        int
	DeviceUUID   [16]byte
	DeviceType   int
	FirmwareUUID [16]byte
	Nonce        [16]byte
}

// ParseAttestationToken decodes "b64url(body)[.b64url(COSE)]".
func ParseAttestationToken(s string) (*AttestationMessage, error) {
	bodyPart, cosePart, hasCOSE := strings.Cut(s, ".")
	body, err := decodeB64(bodyPart)
	if err != nil {
		return nil, fmt.Errorf("%w: body: %w", ErrMalformedMessage, err)
	}
	var p attestPayload
	if err := unmarshalSelfDescribed(body, &p); err != nil {
		return nil, fmt.Errorf("%w: attestation body: %w", ErrMalformedMessage, err)
	}
	if len(p.DeviceUUID) != 16 || len(p.FirmwareUUID) != 16 || len(p.Nonce) != 16 {
		return nil, fmt.Errorf("%w: attestation field sizes", ErrMalformedMessage)
	}
	m := &AttestationMessage{Body: body, MsgID: p.MsgID, DeviceType: p.DeviceType}
	copy(m.DeviceUUID[:], p.DeviceUUID)
	copy(m.FirmwareUUID[:], p.FirmwareUUID)
	copy(m.Nonce[:], p.Nonce)
	if hasCOSE {
		if m.COSE, err = decodeB64(cosePart); err != nil {
			return nil, fmt.Errorf("%w: COSE: %w", ErrMalformedMessage, err)
		}
	}
	return m, nil
}

// decMode decodes outside bytes: no duplicate map keys, no indefinite
// lengths, as go-cose does.
var decMode = func() cbor.DecMode {
	m, err := cbor.DecOptions{
		DupMapKey:   cbor.DupMapKeyEnforcedAPF,
		IndefLength: cbor.IndefLengthForbidden,
	}.DecMode()
	if err != nil {
		panic(err) // static options; cannot fail
	}
	return m
}()

// selfDescribePrefix is the encoding of tag 55799 (d9 d9 f7). The decoder
// skips this tag on its own, so its presence is checked on the bytes.
var selfDescribePrefix = []byte{0xd9, 0xd9, 0xf7}

// unmarshalSelfDescribed decodes a tag-55799-wrapped array into v; the tag is
// required because the modem always writes it (§3, §4 [T]).
func unmarshalSelfDescribed(data []byte, v any) error {
	rest, ok := bytes.CutPrefix(data, selfDescribePrefix)
	if !ok {
		return fmt.Errorf("missing self-describe tag %d", cborTagSelfDescribe)
	}
	return decMode.Unmarshal(rest, v)
}

// decodeB64 accepts Base64url with or without padding.
func decodeB64(s string) ([]byte, error) {
	return b64.DecodeString(strings.TrimRight(s, "="))
}
