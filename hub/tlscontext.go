package hub

import (
	"crypto/tls"
	"strconv"
	"strings"
	"time"
)

// TLSContext is what the hub knows about a connection below MQTT: the TLS
// SNI, the WebSocket request and the client certificate. A refusal before
// any CONNECT (failed TLS handshake, rejected WebSocket upgrade, the
// renegotiation gate) has no client or device id, so this is the only way to
// tell whose attempt it was (issue 12).
type TLSContext struct {
	// SNI is the server name the client asked for ("" when it sent none).
	SNI string `json:"sni,omitempty"`
	// WebSocketRequest is the request URI of the WebSocket upgrade (path and query).
	WebSocketRequest string `json:"webSocketRequest,omitempty"`
	// ClientCertSubject and ClientCertCN describe the first client
	// certificate; ClientCertChain is the number of certificates presented.
	ClientCertSubject string `json:"clientCertSubject,omitempty"`
	ClientCertCN      string `json:"clientCertCN,omitempty"`
	ClientCertChain   int    `json:"clientCertChain,omitempty"`
	// Chain is the client certificate chain as presented, leaf first.
	Chain []CertSummary `json:"chain,omitempty"`
}

// CertSummary describes one presented certificate.
type CertSummary struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	SHA256    string    `json:"sha256"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	IsCA      bool      `json:"isCA,omitempty"`
}

// newTLSContext extracts the context from a (possibly failed) handshake's
// state: crypto/tls records the SNI and the client certificates as soon as
// they are read, so both survive a handshake that fails later.
func newTLSContext(st tls.ConnectionState, requestURI string) *TLSContext {
	c := &TLSContext{SNI: st.ServerName, WebSocketRequest: requestURI, ClientCertChain: len(st.PeerCertificates)}
	if len(st.PeerCertificates) > 0 {
		leaf := st.PeerCertificates[0]
		c.ClientCertSubject, c.ClientCertCN = leaf.Subject.String(), leaf.Subject.CommonName
	}
	for _, x := range st.PeerCertificates {
		c.Chain = append(c.Chain, CertSummary{Subject: x.Subject.String(), Issuer: x.Issuer.String(),
			SHA256: thumbSHA256(x.Raw), NotBefore: x.NotBefore, NotAfter: x.NotAfter, IsCA: x.IsCA})
	}
	if c.SNI == "" && c.WebSocketRequest == "" && c.ClientCertChain == 0 {
		return nil
	}
	return c
}

// addValues copies the context into a reason's values.
func (c *TLSContext) addValues(v map[string]string) {
	if c == nil {
		return
	}
	for k, s := range map[string]string{"sni": c.SNI, "webSocketRequest": c.WebSocketRequest,
		"clientCertSubject": c.ClientCertSubject} {
		if s != "" {
			v[k] = s
		}
	}
	if c.ClientCertChain > 0 {
		v["clientCertChain"] = strconv.Itoa(c.ClientCertChain)
	}
}

// Concerns reports whether the attempt is about device id: its device or
// client id is id, or — for a refusal before MQTT — its client certificate's
// CN is id or its SNI's first label is id.
func (a Attempt) Concerns(id string) bool {
	if id == "" {
		return true
	}
	if a.DeviceID == id || a.ClientID == id {
		return true
	}
	if a.TLS == nil {
		return false
	}
	first, _, _ := strings.Cut(a.TLS.SNI, ".")
	return a.TLS.ClientCertCN == id || first == id
}
