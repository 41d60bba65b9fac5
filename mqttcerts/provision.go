package mqttcerts

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/netstack"
)

// Array names mqtt-certs.h defines [S sdk-nrf subsys/net/lib/mqtt_helper,
// the forum post's header: forum/nrf7002dk-azure-certificates.txt].
const (
	ArrayCA          = "ca_certificate"
	ArrayPrivateKey  = "private_key"
	ArrayDeviceCert  = "device_certificate"
	ArrayCA2         = "ca_certificate_2"
	ArrayPrivateKey2 = "private_key_2"
	ArrayDeviceCert2 = "device_certificate_2"
	// ConfigSecondaryTag is the Kconfig option that gates the _2 arrays.
	ConfigSecondaryTag = "CONFIG_MQTT_HELPER_SECONDARY_SEC_TAG"
)

// Zephyr errno values the boot path returns [S zephyr errno.h].
const (
	errENOENT = -2
	errEINVAL = -22
	errEEXIST = -17
)

// Store is the TLS credential store (tls_credential_add/get).
type Store interface {
	Get(credstore.Key) (credstore.Entry, error)
	Use(credstore.Key) ([]byte, error)
	Put(credstore.Key, []byte) error
}

// Logger prints a firmware log line: level "err"/"wrn"/"inf", module, text.
type Logger func(level, module, text string)

const logModule = "mqtt_helper"

// slot is one tls_credential_add of certificates_provision.
type slot struct {
	array, what string
	typ         func(netstack.SlotTypes) int
}

// provisionOrder is certificates_provision: CA, private key, public
// certificate, per sec tag [S sdk-nrf mqtt_helper.c].
var provisionOrder = []slot{
	{ArrayCA, "CA certificate", func(t netstack.SlotTypes) int { return t.CA }},
	{ArrayPrivateKey, "private key", func(t netstack.SlotTypes) int { return t.Key }},
	{ArrayDeviceCert, "public certificate", func(t netstack.SlotTypes) int { return t.Cert }},
}

// Provision adds the header's certificates to store at boot, as
// mqtt_helper's certificates_provision does: tls_credential_add(tag, type,
// buf, sizeof(buf)) for the CA, the key and the device certificate under
// secTag, then the _2 arrays under secondaryTag when it is not -1. A slot
// that exists is kept (-EEXIST only warns). The error is the errno the
// sample logs as "Could not provision certificates, error: %d".
//
// With Zephyr's default volatile backend the store starts empty at every
// boot, so the header's current content wins; with a persistent backend an
// old credential stays (the warning says so).
func Provision(store Store, types netstack.SlotTypes, arrays []Array, secTag, secondaryTag int64, log Logger) int {
	byName := map[string][]byte{}
	for _, a := range arrays {
		byName[a.Name] = a.Bytes
	}
	tags := []struct {
		tag    int64
		suffix string
	}{{secTag, ""}}
	if secondaryTag > -1 {
		tags = append(tags, struct {
			tag    int64
			suffix string
		}{secondaryTag, "_2"})
	}
	for _, t := range tags {
		for _, s := range provisionOrder {
			buf, ok := byName[s.array+t.suffix]
			if !ok {
				log("err", logModule, fmt.Sprintf("Failed to register %s: %d", s.what, errEINVAL))
				return errEINVAL
			}
			key := credstore.Key{Tag: uint32(t.tag), Type: s.typ(types)}
			if _, err := store.Get(key); err == nil {
				log("wrn", logModule, fmt.Sprintf("%s already exists, sec tag: %d", s.what, t.tag))
				continue
			}
			if err := store.Put(key, buf); err != nil {
				log("err", logModule, fmt.Sprintf("Failed to register %s: %d", s.what, errEINVAL))
				return errEINVAL
			}
		}
	}
	return 0
}

// pemCertificateHeader is what mbedtls_x509_crt_parse looks for to treat a
// buffer as PEM [S mbedtls library/x509_crt.c; zephyr sockets_tls.c crt_is_pem].
const pemCertificateHeader = "-----BEGIN CERTIFICATE-----"

// mbedTLS error codes [S mbedtls include/mbedtls/x509.h, pem.h].
const (
	mbedErrX509InvalidFormat = -0x2180 // MBEDTLS_ERR_X509_INVALID_FORMAT
	mbedErrPEMInvalidData    = -0x1100 // MBEDTLS_ERR_PEM_INVALID_DATA [I] for a bad base64 body
)

// ParseCA is Zephyr's tls_add_ca_certificate with mbedTLS: a buffer is PEM
// only if it ends in NUL and contains "-----BEGIN CERTIFICATE-----";
// anything else is parsed as DER. On failure it returns the mbedTLS error
// and the errno the socket returns (-EINVAL), and the line NET_ERR logs.
func ParseCA(buf []byte) (certs []*x509.Certificate, mbedErr int, errno int, logLine string) {
	fail := func(e int) ([]*x509.Certificate, int, int, string) {
		return nil, e, errEINVAL, fmt.Sprintf("Failed to parse CA certificate, err: -0x%x", -e)
	}
	if len(buf) == 0 || buf[len(buf)-1] != 0 || !bytes.Contains(buf, []byte(pemCertificateHeader)) {
		c, err := x509.ParseCertificate(buf)
		if err != nil {
			return fail(mbedErrX509InvalidFormat)
		}
		return []*x509.Certificate{c}, 0, 0, ""
	}
	rest := buf[:len(buf)-1]
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return fail(mbedErrX509InvalidFormat)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return fail(mbedErrPEMInvalidData)
	}
	return certs, 0, 0, ""
}

// CheckSecTag is the part of a TLS socket's setup that W1 and W2 fail in:
// the sec tag must hold something (else -ENOENT, W1), and its CA must parse
// (else -EINVAL, W2). It returns 0 or the errno mqtt_connect reports, and
// the NET_ERR line if any.
func CheckSecTag(store Store, types netstack.SlotTypes, tag uint32) (int, string) {
	any := false
	for _, typ := range []int{types.CA, types.Key, types.Cert} {
		if _, err := store.Get(credstore.Key{Tag: tag, Type: typ}); err == nil {
			any = true
		}
	}
	if !any {
		return errENOENT, ""
	}
	ca, err := store.Use(credstore.Key{Tag: tag, Type: types.CA})
	switch {
	case errors.Is(err, credstore.ErrNotFound):
		return 0, ""
	case err != nil:
		return errEINVAL, ""
	}
	if _, _, errno, line := ParseCA(ca); errno != 0 {
		return errno, line
	}
	return 0, ""
}
