package spwf04

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"strconv"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
)

// Where a trust anchor was found, in the file system's volume numbering
// (1 user flash, 2 RAM / TLSCERT store): the working hypothesis for the
// `Loading:<a>:<b>` lines' b [I spwf04.md §4].
const (
	volumeFlash    = 1
	volumeTLSStore = 2
)

// Progress lines of a TLS handshake [C spwf04.md §4].
const (
	lineSkipCA    = "AT-S.Skip CA"
	lineLoading   = "AT-S.Loading:"
	lineCertError = "AT-S.Certificate Error:"
)

// trustStore is what the module trusts at connect time: `<key id>.ca`
// files of the flash volume and the TLSCERT CA with its key id. The module
// finds the issuer of the server's chain by key identifier (the top
// certificate's Authority Key Id), in the file system first.
type trustStore struct {
	files   map[string]*x509.Certificate // lower-case hex key id → anchor
	store   *x509.Certificate
	storeID []byte // from auth, or extracted on a DER load
	// realKeyID maps a served stand-in key id to the real root's (Hardware.RealKeyID).
	realKeyID func([]byte) ([]byte, bool)
}

// anchors are the certificates the stack may verify with: only those the
// module can find by key id (a CA without an id is never found [I FT]).
func (t trustStore) anchors() []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range t.files {
		out = append(out, c)
	}
	if t.store != nil && len(t.storeID) > 0 {
		out = append(out, t.store)
	}
	return out
}

// find looks up the issuer of chain's top certificate: the flash volume
// first, and `Skip CA` when it has none, then the TLSCERT store
// [I spwf04.md §4: amazon.com with a TLSCERT root prints Skip CA then
// Loading:1:2; an FS anchor needs no TLSCERT].
func (t trustStore) find(chain []*x509.Certificate) (lines []string, anchor *x509.Certificate, volume int) {
	if len(chain) == 0 {
		return nil, nil, 0
	}
	top := chain[len(chain)-1]
	need := top.AuthorityKeyId
	if len(need) == 0 {
		need = top.SubjectKeyId // a self-signed top names itself
	}
	if t.realKeyID != nil {
		if real, ok := t.realKeyID(need); ok {
			need = real
		}
	}
	if c := t.files[hex.EncodeToString(need)]; c != nil && len(need) > 0 {
		return nil, c, volumeFlash
	}
	lines = []string{lineSkipCA}
	if t.store != nil && len(need) > 0 && bytes.Equal(t.storeID, need) {
		return lines, t.store, volumeTLSStore
	}
	return lines, nil, 0
}

// loadingLines are printed once the chain verified: the anchor, then each
// certificate from the top down to the leaf [I FT: Azure's two-certificate
// chain gives Loading:1:2, 2:1, 3:1, 3:1].
func (m *Module) loadingLines(chain []*x509.Certificate, volume int) []string {
	lines := []string{lineLoading + "1:" + strconv.Itoa(volume)}
	for depth := 2; depth <= len(chain)+1; depth++ {
		lines = append(lines, lineLoading+strconv.Itoa(depth)+":1")
	}
	if *m.cfg.LoadingRepeatLeaf && len(chain) > 0 {
		lines = append(lines, lines[len(lines)-1])
	}
	return lines
}

// loadTrust reads the anchors and the client credentials for a connection.
func (m *Module) loadTrust() (trustStore, tlsSource, error) {
	t := trustStore{files: map[string]*x509.Certificate{}, realKeyID: m.hw.RealKeyID}
	files, err := m.hw.Flash.Files()
	if err != nil {
		return t, tlsSource{}, err
	}
	for _, f := range files {
		id := caFileKeyID(f.Name)
		if id == nil {
			continue
		}
		data, err := m.hw.Flash.ReadFile(f.Name)
		if err != nil {
			return t, tlsSource{}, err
		}
		if c := parseOneCert(data); c != nil {
			t.files[hex.EncodeToString(id)] = c
		}
	}
	read := func(it TLSItem) ([]byte, error) {
		b, err := m.hw.Flash.TLS(it)
		if errors.Is(err, ErrNoFile) {
			return nil, nil
		}
		return b, err
	}
	ca, err := read(TLSCA)
	if err != nil {
		return t, tlsSource{}, err
	}
	if t.storeID, err = read(TLSAuth); err != nil {
		return t, tlsSource{}, err
	}
	t.store = parseOneCert(ca)
	src := tlsSource{}
	for _, c := range t.anchors() {
		src.anchors = append(src.anchors, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	if src.cert, err = read(TLSCert); err != nil {
		return t, src, err
	}
	key, err := read(TLSKey)
	if err != nil {
		return t, src, err
	}
	src.key = keyPEM(key)
	return t, src, nil
}

// parseOneCert reads a PEM or DER certificate, nil if it is neither.
func parseOneCert(b []byte) *x509.Certificate {
	if blk, _ := pem.Decode(b); blk != nil {
		b = blk.Bytes
	}
	c, err := x509.ParseCertificate(b)
	if err != nil {
		return nil
	}
	return c
}

// keyPEM gives the stack a PEM key: a DER key is wrapped in the block its
// encoding names; anything else is passed as it is (and fails to parse).
func keyPEM(b []byte) []byte {
	if len(b) == 0 || isPEM(b) {
		return b
	}
	if _, err := x509.ParsePKCS8PrivateKey(b); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: b})
	}
	if _, err := x509.ParseECPrivateKey(b); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: b})
	}
	if _, err := x509.ParsePKCS1PrivateKey(b); err == nil {
		return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: b})
	}
	return b
}

// tlsSlot is the one credential tag the module's store maps to.
const tlsSlot = 0

// tlsSource is the module's TLS store as a netstack credential source,
// in the modem numbering (0 CA, 1 certificate, 2 key).
type tlsSource struct {
	anchors, cert, key []byte
}

func (s tlsSource) Use(k credstore.Key) ([]byte, error) {
	types := netstack.ModemSlotTypes()
	var b []byte
	if k.Tag == tlsSlot {
		switch k.Type {
		case types.CA:
			b = s.anchors
		case types.Cert:
			b = s.cert
		case types.Key:
			b = s.key
		}
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("spwf04 TLS store %v: %w", k, credstore.ErrNotFound)
	}
	return b, nil
}

// handshake records what the module printed during one TLS handshake.
type handshake struct {
	lines   []string
	certErr int  // the Certificate Error number, 0 if none
	passed  bool // the server was verified: MQTT was reached
}

// errNotFoundByKeyID aborts a handshake Go's verification accepted but
// whose issuer the module does not find by key identifier.
var errNotFoundByKeyID = errors.New("spwf04: the chain's issuer is not a stored CA found by key identifier")

// verifier is the module's own check, run after the stack's verification
// (netstack.TLSConfig.VerifyConnection): the anchor the chain verified
// against must be the one found by key id.
func (m *Module) verifier(t trustStore, h *handshake) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		lines, anchor, volume := t.find(cs.PeerCertificates)
		if anchor == nil || !t.verifiedWith(cs.VerifiedChains, anchor) {
			h.lines, h.certErr = lines, m.cfg.CertUnknownCA
			return errNotFoundByKeyID
		}
		h.lines = append(lines, m.loadingLines(cs.PeerCertificates, volume)...)
		h.passed = true
		return nil
	}
}

// verifiedWith tells whether a verified chain ends in anchor. A real root
// the stack replaced by its stand-in has the same subject, and its key id
// maps back to the real one.
func (t trustStore) verifiedWith(chains [][]*x509.Certificate, anchor *x509.Certificate) bool {
	for _, ch := range chains {
		end := ch[len(ch)-1]
		id := end.SubjectKeyId
		if t.realKeyID != nil {
			if real, ok := t.realKeyID(id); ok {
				id = real
			}
		}
		if bytes.Equal(end.RawSubject, anchor.RawSubject) && bytes.Equal(id, anchor.SubjectKeyId) {
			return true
		}
	}
	return false
}

// failedHandshake fills h from a handshake the stack's verification
// refused: the lookup lines, and the Certificate Error for the class.
func (m *Module) failedHandshake(t trustStore, h *handshake, err error) {
	if h.certErr != 0 || h.passed {
		return
	}
	var cve *tls.CertificateVerificationError
	if !errors.As(err, &cve) {
		return
	}
	lines, anchor, volume := t.find(cve.UnverifiedCertificates)
	h.lines = lines
	class := netstack.Classify(err)
	if anchor == nil || class == netstack.ClassUnknownAuthority || class == netstack.ClassNoTrustAnchor {
		h.certErr = m.cfg.CertUnknownCA
		return
	}
	h.lines = append(h.lines, lineLoading+"1:"+strconv.Itoa(volume))
	switch class {
	case netstack.ClassCertExpired:
		h.certErr = m.cfg.CertExpired
	case netstack.ClassCertNotYetValid:
		h.certErr = m.cfg.CertNotYetValid
	case netstack.ClassHostNameMismatch:
		h.certErr = m.cfg.CertHostName
	default:
		h.certErr = m.cfg.CertOther
	}
}

// out is the handshake's lines with the Certificate Error, if any.
func (h *handshake) out() []string {
	if h.certErr == 0 {
		return h.lines
	}
	return append(h.lines, lineCertError+strconv.Itoa(h.certErr))
}
