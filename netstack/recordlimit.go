package netstack

import (
	"fmt"
	"net"
	"strconv"
	"sync"
)

// TLS record layer facts [S RFC 5246 §6.2]: a 5-byte header (content type,
// version, length) before every record.
const (
	recordHeaderLen        = 5
	recordChangeCipherSpec = 20
	recordAlert            = 21
	recordHandshake        = 22
	recordApplicationData  = 23
)

// gcmRecordExpansion is what an AES-GCM record adds to its plaintext: the
// 8-byte explicit nonce and the 16-byte tag [S RFC 5288 §3]. The hub
// negotiates ECDHE-RSA-AES-GCM suites [I azure-iot-hub.md §3.2], so after
// the server's ChangeCipherSpec a record may be this much longer than the
// content it carries.
const gcmRecordExpansion = 8 + 16

// RecordTooLargeError is an incoming TLS record longer than the device's
// TLS stack can buffer: mbedTLS's MBEDTLS_SSL_IN_CONTENT_LEN
// (CONFIG_MBEDTLS_SSL_MAX_CONTENT_LEN in NCS) — `ssl_msg.c: bad message
// length`, MBEDTLS_ERR_SSL_INVALID_RECORD, the handshake fails [S mbedtls
// library/ssl_msg.c ssl_parse_record_header; FAILURE-CASES WS4].
type RecordTooLargeError struct {
	ContentType byte
	// Length is the record's length field, Limit the device's content
	// limit (plus the cipher's expansion once encrypted).
	Length, Limit int
}

func (e *RecordTooLargeError) Error() string {
	return fmt.Sprintf("tls: incoming %s record of %d bytes exceeds the device's %d-byte record limit",
		recordTypeName(e.ContentType), e.Length, e.Limit)
}

func recordTypeName(t byte) string {
	switch t {
	case recordChangeCipherSpec:
		return "change_cipher_spec"
	case recordAlert:
		return "alert"
	case recordHandshake:
		return "handshake"
	case recordApplicationData:
		return "application_data"
	}
	return "type-" + strconv.Itoa(int(t))
}

// RecordInspector follows the TLS record headers of one direction of a
// connection from the bytes as they arrive, in any chunking, and refuses a
// record longer than the limit. crypto/tls cannot limit the records it
// accepts, so the device's limit is enforced under it, on the raw stream.
type RecordInspector struct {
	limit     int
	hdr       [recordHeaderLen]byte
	nhdr      int // header bytes seen of the current record
	body      int // body bytes still to skip
	encrypted bool
	err       error
	// Records counts the complete headers seen; Largest is the longest
	// record length seen (what a measurement wants).
	Records, Largest int
}

// NewRecordInspector limits records to limit bytes of content (0: no
// limit, only counting).
func NewRecordInspector(limit int) *RecordInspector { return &RecordInspector{limit: limit} }

// Feed inspects the next bytes of the stream. Once a record is refused,
// every later call returns the same error.
func (r *RecordInspector) Feed(p []byte) error {
	for len(p) > 0 && r.err == nil {
		if r.body > 0 {
			n := min(r.body, len(p))
			r.body -= n
			p = p[n:]
			continue
		}
		n := copy(r.hdr[r.nhdr:], p)
		r.nhdr += n
		p = p[n:]
		if r.nhdr < recordHeaderLen {
			return nil
		}
		r.nhdr = 0
		typ := r.hdr[0]
		length := int(r.hdr[3])<<8 | int(r.hdr[4])
		r.Records++
		r.Largest = max(r.Largest, length)
		limit := r.limit
		if r.encrypted {
			limit += gcmRecordExpansion
		}
		if r.limit > 0 && length > limit {
			r.err = &RecordTooLargeError{ContentType: typ, Length: length, Limit: limit}
			return r.err
		}
		if typ == recordChangeCipherSpec {
			// Records after the peer's ChangeCipherSpec are encrypted.
			r.encrypted = true
		}
		r.body = length
	}
	return r.err
}

// limitConn applies a RecordInspector to what the peer sends.
type limitConn struct {
	net.Conn
	mu  sync.Mutex
	ins *RecordInspector
}

func (c *limitConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.mu.Lock()
		ferr := c.ins.Feed(p[:n])
		c.mu.Unlock()
		if ferr != nil {
			// mbedTLS stops at the header: nothing of the record reaches it.
			return 0, ferr
		}
	}
	return n, err
}
