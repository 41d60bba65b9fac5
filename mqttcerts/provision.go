package mqttcerts

import (
	"fmt"
	"strings"

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

// Zephyr errno values the provisioning returns [S zephyr errno.h,
// subsys/net/lib/tls_credentials: -EEXIST for a taken slot, -ENOMEM when
// no slot is free].
const (
	errENOMEM = -12
	errEINVAL = -22
)

// Store is the TLS credential store (tls_credential_add/get).
type Store interface {
	Get(credstore.Key) (credstore.Entry, error)
	Use(credstore.Key) ([]byte, error)
	Put(credstore.Key, []byte) error
}

// Logger prints a firmware log line: level "err"/"wrn"/"inf"/"dbg",
// module, the function (printed on debug lines), text.
type Logger func(level, module, function, text string)

const (
	logModule   = "mqtt_helper"
	logFunction = "certificates_provision"
)

// slot is one tls_credential_add of certificates_provision.
type slot struct {
	array, what string
	typ         func(netstack.SlotTypes) int
}

// provisionOrder is certificates_provision: CA, private key, public
// certificate, per sec tag, each with the name its log lines use
// [S sdk-nrf mqtt_helper.c, NCS v2.5].
var provisionOrder = []slot{
	{ArrayCA, "CA certificate", func(t netstack.SlotTypes) int { return t.CA }},
	{ArrayPrivateKey, "private key", func(t netstack.SlotTypes) int { return t.Key }},
	{ArrayDeviceCert, "public certificate", func(t netstack.SlotTypes) int { return t.Cert }},
}

// Arrays names the arrays certificates_provision reads for the tags: the
// primary three, and the _2 ones when secondaryTag is not -1. A header that
// lacks one does not compile.
func Arrays(secondaryTag int64) []string {
	var names []string
	for _, s := range provisionOrder {
		names = append(names, s.array)
	}
	if secondaryTag != -1 {
		for _, s := range provisionOrder {
			names = append(names, s.array+"_2")
		}
	}
	return names
}

// Provision adds the header's certificates to store as mqtt_helper's
// certificates_provision does before its first connect: for each array
// whose sizeof is more than 1 (a placeholder "" holds only the NUL and is
// skipped), tls_credential_add(tag, type, buf, sizeof(buf)) — the NUL is
// stored too — for the CA, the key and the device certificate under
// secTag, then the _2 arrays under secondaryTag when it is not -1. A slot
// that exists is kept (-EEXIST is only a debug line). The error is the
// errno the sample logs as "Could not provision certificates, error: %d".
//
// Nothing is parsed here: tls_credential_add stores bytes, so a bad PEM
// fails later, in the TLS socket's setup (FAILURE-CASES W2).
func Provision(store Store, types netstack.SlotTypes, arrays []Array, secTag, secondaryTag int64, log Logger) int {
	byName := map[string][]byte{}
	for _, a := range arrays {
		byName[a.Name] = a.Bytes
	}
	tags := []struct {
		tag          int64
		suffix, what string
	}{{secTag, "", ""}}
	if secondaryTag != -1 {
		tags = append(tags, struct {
			tag          int64
			suffix, what string
		}{secondaryTag, "_2", "secondary "})
	}
	for _, t := range tags {
		for _, s := range provisionOrder {
			buf, ok := byName[s.array+t.suffix]
			if !ok {
				log("err", logModule, "", fmt.Sprintf("Failed to register %s%s: %d", t.what, s.what, errEINVAL))
				return errEINVAL
			}
			if len(buf) <= 1 {
				continue
			}
			key := credstore.Key{Tag: uint32(t.tag), Type: s.typ(types)}
			if _, err := store.Get(key); err == nil {
				log("dbg", logModule, logFunction, fmt.Sprintf("%s already exists, sec tag: %d", upperFirst(s.what), t.tag))
				continue
			}
			if err := store.Put(key, buf); err != nil {
				log("err", logModule, "", fmt.Sprintf("Failed to register %s%s: %d", t.what, s.what, errENOMEM))
				return errENOMEM
			}
		}
	}
	return 0
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
