package modemkey

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// DefaultKeyUsage is the key usage the real modem puts in every CSR when
// AT%KEYGEN has no <key_usage>: BIT STRING 03 02 03 E8 = digitalSignature,
// nonRepudiation, keyEncipherment, keyAgreement (nrf91.md §3 [T]). Written in
// the 9-character form of <key_usage>, X.509 KeyUsage bit order (§3 [I]).
const DefaultKeyUsage = "111010000"

// keyUsageBits is the length of the <key_usage> string: the nine KeyUsage
// bits of RFC 5280 §4.2.1.3, digitalSignature(0) … decipherOnly(8) (§3 [S]).
const keyUsageBits = 9

// maxDNValue is mbedTLS's MBEDTLS_X509_MAX_DN_NAME_SIZE (256) minus the byte
// its parser keeps free: values longer than 255 bytes are rejected [I, see
// parseAttributes].
const maxDNValue = 255

// Sentinel errors callers can test with errors.Is.
var (
	// ErrBadAttributes means the %KEYGEN <attributes> string is malformed:
	// unknown name, missing '=' or value, bad escape, unterminated quote,
	// value too long or not encodable in its ASN.1 string type.
	ErrBadAttributes = errors.New("modemkey: malformed CSR attributes")
	// ErrBadKeyUsage means <key_usage> is not nine characters of '0'/'1'.
	ErrBadKeyUsage = errors.New("modemkey: malformed CSR key usage")
	// ErrMalformedCSR means NormalizeCSR or ParseCSR got bytes that are not a
	// DER CertificationRequest.
	ErrMalformedCSR = errors.New("modemkey: malformed CSR")
)

// CSROptions shape the CSR of AT%KEYGEN=<tag>,2,0[,<attributes>[,<key_usage>]].
type CSROptions struct {
	// Attributes is the <attributes> parameter. "" gives subject CN = device
	// UUID (§3 [T]); otherwise a comma-separated ID=value list such as
	// "O=Nordic Semiconductor,L=Trondheim,C=no,CN=mydevice", and the subject
	// is exactly that list, in that order (the UUID is not added, §3 [T]).
	Attributes string
	// KeyUsage is the <key_usage> parameter: "" for DefaultKeyUsage, else nine
	// '0'/'1' characters, character i = KeyUsage bit i [I].
	KeyUsage string
	// NullParam reproduces the real modem's explicit NULL parameter after
	// ecdsa-with-SHA256 in the outer signatureAlgorithm (§3 [T]). It is the
	// mbedTLS 2.x CSR writer's habit; the board config defaults it to true.
	NullParam bool
	// LegacyStringTypes encodes every attribute as UTF8String except the
	// e-mail address (IA5String), as mbedTLS ≤ 2.16 did. By default C,
	// serialNumber, postalAddress, postalCode and dnQualifier are
	// PrintableString and DC is IA5String, as in later mbedTLS 2.x. Which one
	// the modem firmware uses is unknown [U]; CN is UTF8String in both [T].
	LegacyStringTypes bool
}

// ASN.1 universal tags of the directory string types.
const (
	tagUTF8String      = asn1.TagUTF8String
	tagPrintableString = asn1.TagPrintableString
	tagIA5String       = asn1.TagIA5String
)

// dnName is one attribute name the modem accepts in <attributes>.
type dnName struct {
	oid asn1.ObjectIdentifier
	tag int // string type in the later-2.x table
}

var (
	oidCN                  = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidSurname             = asn1.ObjectIdentifier{2, 5, 4, 4}
	oidSerialNumber        = asn1.ObjectIdentifier{2, 5, 4, 5}
	oidCountry             = asn1.ObjectIdentifier{2, 5, 4, 6}
	oidLocality            = asn1.ObjectIdentifier{2, 5, 4, 7}
	oidState               = asn1.ObjectIdentifier{2, 5, 4, 8}
	oidOrganization        = asn1.ObjectIdentifier{2, 5, 4, 10}
	oidOrgUnit             = asn1.ObjectIdentifier{2, 5, 4, 11}
	oidTitle               = asn1.ObjectIdentifier{2, 5, 4, 12}
	oidPostalAddress       = asn1.ObjectIdentifier{2, 5, 4, 16}
	oidPostalCode          = asn1.ObjectIdentifier{2, 5, 4, 17}
	oidGivenName           = asn1.ObjectIdentifier{2, 5, 4, 42}
	oidInitials            = asn1.ObjectIdentifier{2, 5, 4, 43}
	oidGenerationQualifier = asn1.ObjectIdentifier{2, 5, 4, 44}
	oidDNQualifier         = asn1.ObjectIdentifier{2, 5, 4, 46}
	oidPseudonym           = asn1.ObjectIdentifier{2, 5, 4, 65}
	oidEmail               = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}
	oidDomainComponent     = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 25}
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
)

// oidECDSASignaturePrefix is the ecdsa-with-SHA2 arc (RFC 5758 §3.2); none of
// its algorithms take parameters, so NormalizeCSR strips a NULL under any.
var oidECDSASignaturePrefix = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3}

// dnNames is mbedTLS 2.x x509_create.c's x509_attrs table (names are
// case-sensitive there). The modem's CSR carries mbedTLS 2.x's NULL-parameter
// signature quirk, so it very likely parses <attributes> with
// mbedtls_x509_string_to_names too [I]; nrfcredstore's example
// "O=…,L=…,C=no,CN=…" (§3 [S]) fits it.
var dnNames = map[string]dnName{
	"CN":                     {oidCN, tagUTF8String},
	"commonName":             {oidCN, tagUTF8String},
	"C":                      {oidCountry, tagPrintableString},
	"countryName":            {oidCountry, tagPrintableString},
	"O":                      {oidOrganization, tagUTF8String},
	"organizationName":       {oidOrganization, tagUTF8String},
	"L":                      {oidLocality, tagUTF8String},
	"locality":               {oidLocality, tagUTF8String},
	"R":                      {oidEmail, tagIA5String},
	"OU":                     {oidOrgUnit, tagUTF8String},
	"organizationalUnitName": {oidOrgUnit, tagUTF8String},
	"ST":                     {oidState, tagUTF8String},
	"stateOrProvinceName":    {oidState, tagUTF8String},
	"emailAddress":           {oidEmail, tagIA5String},
	"serialNumber":           {oidSerialNumber, tagPrintableString},
	"postalAddress":          {oidPostalAddress, tagPrintableString},
	"postalCode":             {oidPostalCode, tagPrintableString},
	"dnQualifier":            {oidDNQualifier, tagPrintableString},
	"title":                  {oidTitle, tagUTF8String},
	"surName":                {oidSurname, tagUTF8String},
	"SN":                     {oidSurname, tagUTF8String},
	"givenName":              {oidGivenName, tagUTF8String},
	"GN":                     {oidGivenName, tagUTF8String},
	"initials":               {oidInitials, tagUTF8String},
	"pseudonym":              {oidPseudonym, tagUTF8String},
	"generationQualifier":    {oidGenerationQualifier, tagUTF8String},
	"domainComponent":        {oidDomainComponent, tagIA5String},
	"DC":                     {oidDomainComponent, tagIA5String},
}

// dnAttr is one parsed attribute, in output order.
type dnAttr struct {
	oid   asn1.ObjectIdentifier
	tag   int
	value string
}

// BuildCSR returns the DER CSR of AT%KEYGEN=<tag>,2,0 exactly as nrf91.md §3
// describes: version 0; subject of UTF8String attributes (default: only
// CN = deviceUUID); P-256 SubjectPublicKeyInfo; one extensionRequest holding
// a non-critical keyUsage; ecdsa-with-SHA256, with the NULL parameter when
// o.NullParam is set. deviceUUID is used verbatim (the modem prints it
// lowercase 8-4-4-4-12, see FormatUUID).
func BuildCSR(rand io.Reader, key *ecdsa.PrivateKey, deviceUUID string, o CSROptions) ([]byte, error) {
	if key == nil {
		return nil, fmt.Errorf("modemkey: build CSR: %w", ErrUnsupportedKey)
	}
	attrs := []dnAttr{{oid: oidCN, tag: tagUTF8String, value: deviceUUID}}
	if o.Attributes != "" {
		var err error
		if attrs, err = parseAttributes(o.Attributes, o.LegacyStringTypes); err != nil {
			return nil, err
		}
	} else if deviceUUID == "" {
		return nil, fmt.Errorf("modemkey: build CSR: empty device UUID: %w", ErrBadAttributes)
	}
	subject, err := marshalSubject(attrs)
	if err != nil {
		return nil, err
	}
	ku, err := keyUsageExtensionValue(o.KeyUsage)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.CertificateRequest{
		// RawSubject, because crypto/x509 would pick PrintableString for a
		// printable CN while the modem always writes UTF8String (§3 [T]).
		RawSubject:         subject,
		SignatureAlgorithm: x509.ECDSAWithSHA256,
		ExtraExtensions:    []pkix.Extension{{Id: oidKeyUsage, Value: ku}},
	}
	der, err := x509.CreateCertificateRequest(rand, tmpl, key)
	if err != nil {
		return nil, fmt.Errorf("modemkey: build CSR: %w", err)
	}
	if o.NullParam {
		if der, err = setSignatureNullParam(der, true); err != nil {
			return nil, fmt.Errorf("modemkey: build CSR: %w", err)
		}
	}
	return der, nil
}

// NormalizeCSR removes an explicit NULL parameter after an ecdsa-with-SHA2
// signature algorithm, like nRF Cloud utils' _normalize_ecdsa_csr_der
// (§3 [S]), so strict parsers (Python cryptography, RFC 5758 §3.2) load the
// CSR. The signature covers only CertificationRequestInfo, so it stays valid.
// A well-formed CSR without the quirk is returned unchanged; bytes that are
// not a DER CertificationRequest give ErrMalformedCSR.
func NormalizeCSR(der []byte) ([]byte, error) {
	out, err := setSignatureNullParam(der, false)
	if err != nil {
		return nil, fmt.Errorf("modemkey: normalize CSR: %w", err)
	}
	return out, nil
}

// ParseCSR normalizes der and parses it with crypto/x509.
func ParseCSR(der []byte) (*x509.CertificateRequest, error) {
	n, err := NormalizeCSR(der)
	if err != nil {
		return nil, err
	}
	csr, err := x509.ParseCertificateRequest(n)
	if err != nil {
		return nil, fmt.Errorf("modemkey: parse CSR: %w", err)
	}
	return csr, nil
}

// certificationRequest is the outer CSR SEQUENCE (RFC 2986 §4.2) with the
// parts we do not touch kept as raw TLVs, so re-encoding is byte-exact.
type certificationRequest struct {
	Info      asn1.RawValue
	Algorithm pkix.AlgorithmIdentifier
	Signature asn1.RawValue
}

var asn1Null = []byte{0x05, 0x00}

// setSignatureNullParam adds (null=true) or removes the NULL parameter of an
// ECDSA signatureAlgorithm and returns the re-encoded CSR. Other CSRs come
// back unchanged after the structural check.
func setSignatureNullParam(der []byte, null bool) ([]byte, error) {
	var cr certificationRequest
	rest, err := asn1.Unmarshal(der, &cr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCSR, err)
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformedCSR, len(rest))
	}
	if !isUniversal(cr.Info, asn1.TagSequence, true) || !isUniversal(cr.Signature, asn1.TagBitString, false) {
		return nil, fmt.Errorf("%w: unexpected element types", ErrMalformedCSR)
	}
	alg := cr.Algorithm.Algorithm
	if len(alg) != len(oidECDSASignaturePrefix)+1 || !alg[:len(oidECDSASignaturePrefix)].Equal(oidECDSASignaturePrefix) {
		return der, nil
	}
	hasNull := bytes.Equal(cr.Algorithm.Parameters.FullBytes, asn1Null)
	switch {
	case null && len(cr.Algorithm.Parameters.FullBytes) == 0:
		cr.Algorithm.Parameters = asn1.NullRawValue
	case !null && hasNull:
		cr.Algorithm.Parameters = asn1.RawValue{}
	default:
		return der, nil
	}
	out, err := asn1.Marshal(cr)
	if err != nil {
		return nil, fmt.Errorf("re-encode CSR: %w", err)
	}
	return out, nil
}

func isUniversal(v asn1.RawValue, tag int, compound bool) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == tag && v.IsCompound == compound
}

// keyUsageExtensionValue returns the DER keyUsage BIT STRING for a
// <key_usage> string. Trailing zero bits are dropped (DER named bit list,
// X.690 §11.2.2; mbedtls_asn1_write_named_bitstring does the same), which
// yields the modem's 03 02 03 E8 for the default [T].
func keyUsageExtensionValue(s string) ([]byte, error) {
	if s == "" {
		s = DefaultKeyUsage
	}
	if len(s) != keyUsageBits {
		return nil, fmt.Errorf("%w: %q is not %d characters", ErrBadKeyUsage, s, keyUsageBits)
	}
	var bs asn1.BitString
	bs.Bytes = make([]byte, (keyUsageBits+7)/8)
	for i := range keyUsageBits {
		switch s[i] {
		case '1':
			bs.Bytes[i/8] |= 0x80 >> (i % 8)
			bs.BitLength = i + 1
		case '0':
		default:
			return nil, fmt.Errorf("%w: %q has %q at %d", ErrBadKeyUsage, s, s[i], i)
		}
	}
	bs.Bytes = bs.Bytes[:(bs.BitLength+7)/8]
	der, err := asn1.Marshal(bs)
	if err != nil {
		return nil, fmt.Errorf("modemkey: key usage: %w", err)
	}
	return der, nil
}

// parseAttributes follows mbedtls_x509_string_to_names of later mbedTLS 2.x
// (x509_create.c, x509_dn_parse_tag/x509_dn_parse_value) [I]:
//   - "name=value" pairs separated by ','; spaces around names, '=' and
//     values are skipped, trailing spaces of a value dropped;
//   - a value may be "quoted"; '\,' is the only escape (elsewhere too);
//   - names are case-sensitive (table dnNames); empty values, a name without
//     '=' and values over 255 bytes are errors; a trailing ',' is accepted;
//   - a repeated name replaces the earlier value in its place.
//
// Deviation: a value whose bytes are not valid for its string type (UTF-8,
// PrintableString, IA5) is rejected instead of being written as invalid DER.
func parseAttributes(s string, legacy bool) ([]dnAttr, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %q: %s", ErrBadAttributes, s, fmt.Sprintf(format, a...))
	}
	var out []dnAttr
	n := len(s)
	for i := 0; i < n; {
		// Name.
		for i < n && s[i] == ' ' {
			i++
		}
		start := i
		for i < n && s[i] != '=' && s[i] != ' ' {
			if s[i] == ',' {
				return nil, bad("name without value at %d", i)
			}
			i++
		}
		if i == n {
			return nil, bad("name %q without '='", s[start:i])
		}
		name := s[start:i]
		d, ok := dnNames[name]
		if !ok {
			return nil, bad("unknown attribute %q", name)
		}
		for i < n && s[i] == ' ' {
			i++
		}
		if i == n || s[i] != '=' {
			return nil, bad("expected '=' after %q", name)
		}
		i++

		// Value.
		for i < n && s[i] == ' ' {
			i++
		}
		if i == n || s[i] == ',' {
			return nil, bad("empty value for %q", name)
		}
		inQuote := false
		if s[i] == '"' {
			inQuote = true
			i++
		}
		var val []byte
		valLen := 0
		for i < n {
			c := s[i]
			if inQuote && c == '"' {
				i++
				inQuote = false
				break
			}
			if !inQuote && c == ',' {
				break
			}
			if c == '\\' {
				i++
				if i == n || s[i] != ',' {
					return nil, bad("bad escape at %d", i-1)
				}
				c = ','
			}
			if len(val) == maxDNValue && c != ' ' {
				return nil, bad("value of %q longer than %d bytes", name, maxDNValue)
			}
			if len(val) < maxDNValue {
				val = append(val, c)
			}
			if c != ' ' {
				valLen = len(val)
			}
			i++
		}
		if valLen == 0 {
			return nil, bad("empty value for %q", name)
		}
		if inQuote {
			return nil, bad("unterminated quote in value of %q", name)
		}
		for i < n && s[i] == ' ' {
			i++
		}
		if i < n && s[i] != ',' {
			return nil, bad("text after quoted value of %q", name)
		}
		if i < n {
			i++
		}

		tag := d.tag
		if legacy {
			tag = tagUTF8String
			if d.oid.Equal(oidEmail) {
				tag = tagIA5String
			}
		}
		value := string(val[:valLen])
		if !validString(tag, value) {
			return nil, bad("value %q cannot be encoded as ASN.1 string type %d", value, tag)
		}
		a := dnAttr{oid: d.oid, tag: tag, value: value}
		replaced := false
		for j := range out {
			if out[j].oid.Equal(a.oid) {
				out[j], replaced = a, true
				break
			}
		}
		if !replaced {
			out = append(out, a)
		}
	}
	if len(out) == 0 {
		return nil, bad("no attributes")
	}
	return out, nil
}

// validString reports whether v may be encoded with the ASN.1 string tag.
func validString(tag int, v string) bool {
	switch tag {
	case tagUTF8String:
		return utf8.ValidString(v)
	case tagIA5String:
		for i := range len(v) {
			if v[i] >= utf8.RuneSelf {
				return false
			}
		}
		return true
	case tagPrintableString:
		for i := range len(v) {
			if !isPrintable(v[i]) {
				return false
			}
		}
		return true
	}
	return false
}

// isPrintable is the PrintableString alphabet of X.680 §41.4.
func isPrintable(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
		bytes.IndexByte([]byte(" '()+,-./:=?"), b) >= 0
}

// attributeTypeAndValue is RFC 5280's AttributeTypeAndValue with the value
// kept raw so its string tag is exactly ours.
type attributeTypeAndValue struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// marshalSubject encodes attrs as an RDNSequence with one attribute per RDN,
// in order (mbedTLS writes its name list that way).
func marshalSubject(attrs []dnAttr) ([]byte, error) {
	var seq []byte
	for _, a := range attrs {
		atv, err := asn1.Marshal(attributeTypeAndValue{
			Type:  a.oid,
			Value: asn1.RawValue{Class: asn1.ClassUniversal, Tag: a.tag, Bytes: []byte(a.value)},
		})
		if err != nil {
			return nil, fmt.Errorf("modemkey: encode subject: %w", err)
		}
		set, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: atv})
		if err != nil {
			return nil, fmt.Errorf("modemkey: encode subject: %w", err)
		}
		seq = append(seq, set...)
	}
	der, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: seq})
	if err != nil {
		return nil, fmt.Errorf("modemkey: encode subject: %w", err)
	}
	return der, nil
}
