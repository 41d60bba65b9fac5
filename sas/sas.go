// Package sas parses, signs and verifies Azure shared access signature tokens
// as used by IoT Hub and the Device Provisioning Service (DPS) over MQTT.
//
// The rules come from /work/shared/protocols/azure-iot-hub.md §1.3 and §2.3.
// The one that matters most: the signature is computed over the `sr` value
// exactly as the client sent it (still URL-encoded), so `%2F` and `%2f` give
// different signatures. Microsoft's own parser keeps `sr` undecoded "to
// preserve the casing of the escape characters" [src S-CS SharedAccessSignature.cs].
package sas

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Prefix starts every token (§1.3 [doc D-SAS]).
const Prefix = "SharedAccessSignature "

// DefaultSkew is the clock skew the service tolerates on expiry
// (§1.3 [src S-CS SharedAccessSignatureConstants.cs: 5 minutes]).
const DefaultSkew = 5 * time.Minute

// Field names in the token (§1.3 [doc D-SAS]).
const (
	fieldResource  = "sr"
	fieldSignature = "sig"
	fieldExpiry    = "se"
	fieldKeyName   = "skn"
)

// Sentinel errors; the returned errors wrap them with detail.
var (
	ErrMalformed    = errors.New("sas: malformed token")
	ErrBadSignature = errors.New("sas: signature mismatch")
	ErrExpired      = errors.New("sas: token expired")
)

// Token is a parsed SAS token.
type Token struct {
	// Resource is the `sr` value exactly as sent (still URL-encoded):
	// signatures are verified over this raw text.
	Resource string
	// Signature is the decoded `sig` (HMAC-SHA256 bytes).
	Signature []byte
	// Expiry is `se`.
	Expiry time.Time
	// KeyName is `skn`, "" if absent (absent = device/registration key).
	KeyName string
}

// Parse parses "SharedAccessSignature sr=…&sig=…&se=…[&skn=…]" with the
// fields in any order. Every failure wraps ErrMalformed.
func Parse(s string) (Token, error) {
	rest, ok := strings.CutPrefix(s, Prefix)
	if !ok {
		return Token{}, fmt.Errorf("%w: does not start with %q", ErrMalformed, Prefix)
	}
	var (
		t    Token
		seen = map[string]bool{}
		raw  = map[string]string{}
	)
	for _, part := range strings.Split(rest, "&") {
		name, value, ok := strings.Cut(part, "=")
		if !ok {
			return Token{}, fmt.Errorf("%w: field %q has no '='", ErrMalformed, part)
		}
		switch name {
		case fieldResource, fieldSignature, fieldExpiry, fieldKeyName:
		default:
			return Token{}, fmt.Errorf("%w: unknown field %q", ErrMalformed, name)
		}
		if seen[name] {
			return Token{}, fmt.Errorf("%w: duplicate field %q", ErrMalformed, name)
		}
		seen[name] = true
		raw[name] = value
	}
	for _, req := range []string{fieldResource, fieldSignature, fieldExpiry} {
		if !seen[req] {
			return Token{}, fmt.Errorf("%w: missing field %q", ErrMalformed, req)
		}
	}

	t.Resource = raw[fieldResource]
	if t.Resource == "" {
		return Token{}, fmt.Errorf("%w: empty %q", ErrMalformed, fieldResource)
	}
	if _, err := url.QueryUnescape(t.Resource); err != nil {
		return Token{}, fmt.Errorf("%w: %q is not URL-encoded text: %v", ErrMalformed, fieldResource, err)
	}

	sigText, err := url.QueryUnescape(raw[fieldSignature])
	if err != nil {
		return Token{}, fmt.Errorf("%w: %q is not URL-encoded text: %v", ErrMalformed, fieldSignature, err)
	}
	if sigText == "" {
		return Token{}, fmt.Errorf("%w: empty %q", ErrMalformed, fieldSignature)
	}
	t.Signature, err = base64.StdEncoding.DecodeString(sigText)
	if err != nil {
		hint := ""
		if strings.Contains(raw[fieldSignature], "+") {
			// URL decoding turns an unescaped '+' into a space, as the service's does.
			hint = " (an unescaped '+' decodes as a space: URL-encode sig)"
		}
		return Token{}, fmt.Errorf("%w: %q is not base64: %v%s", ErrMalformed, fieldSignature, err, hint)
	}
	if len(t.Signature) == 0 {
		// Base64 decoding skips CR and LF, so "sig=%0D" is text but no
		// signature; the service refuses such a token, so does the parser.
		return Token{}, fmt.Errorf("%w: %q=%q decodes to no signature bytes", ErrMalformed, fieldSignature, raw[fieldSignature])
	}

	se := raw[fieldExpiry]
	secs, err := strconv.ParseInt(se, 10, 64)
	if err != nil || secs < 0 || se[0] == '+' {
		return Token{}, fmt.Errorf("%w: %q=%q is not a non-negative integer of epoch seconds", ErrMalformed, fieldExpiry, se)
	}
	t.Expiry = time.Unix(secs, 0).UTC()

	if seen[fieldKeyName] {
		t.KeyName, err = url.QueryUnescape(raw[fieldKeyName])
		if err != nil {
			return Token{}, fmt.Errorf("%w: %q is not URL-encoded text: %v", ErrMalformed, fieldKeyName, err)
		}
	}
	return t, nil
}

// StringToSign is the text HMAC'd for a token: raw resource + "\n" + se (§1.3).
func StringToSign(resourceEncoded string, expiry time.Time) string {
	return resourceEncoded + "\n" + strconv.FormatInt(expiry.Unix(), 10)
}

func mac(key []byte, msg string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(msg))
	return h.Sum(nil)
}

// Sign builds a token, signing resourceEncoded as given (callers choose %2F
// vs %2f). key is the decoded (binary) key. keyName "" omits skn. Field order
// is the SDKs' sr, sig, se, skn [src S-HUB az_iot_hub_client_sas_get_password].
func Sign(resourceEncoded string, key []byte, expiry time.Time, keyName string) string {
	sig := base64.StdEncoding.EncodeToString(mac(key, StringToSign(resourceEncoded, expiry)))
	var b strings.Builder
	b.WriteString(Prefix)
	b.WriteString(fieldResource + "=" + resourceEncoded)
	b.WriteString("&" + fieldSignature + "=" + url.QueryEscape(sig))
	b.WriteString("&" + fieldExpiry + "=" + strconv.FormatInt(expiry.Unix(), 10))
	if keyName != "" {
		b.WriteString("&" + fieldKeyName + "=" + url.QueryEscape(keyName))
	}
	return b.String()
}

// StringToSign returns the exact text this token's signature must cover.
func (t Token) StringToSign() string { return StringToSign(t.Resource, t.Expiry) }

// Verify checks the signature with key (decoded bytes). On mismatch the error
// wraps ErrBadSignature and names the exact string-to-sign that was verified,
// so a %2F/%2f mix-up is visible (forum case H2).
func (t Token) Verify(key []byte) error {
	sts := t.StringToSign()
	if hmac.Equal(mac(key, sts), t.Signature) {
		return nil
	}
	return fmt.Errorf("%w: verified HMAC-SHA256 over %q (raw sr as sent + \"\\n\" + se)", ErrBadSignature, sts)
}

// CheckExpiry reports ErrExpired when now is past Expiry+skew.
func (t Token) CheckExpiry(now time.Time, skew time.Duration) error {
	if now.After(t.Expiry.Add(skew)) {
		return fmt.Errorf("%w: se=%d (%s) is before now %s (skew %s)",
			ErrExpired, t.Expiry.Unix(), t.Expiry.UTC().Format(time.RFC3339), now.UTC().Format(time.RFC3339), skew)
	}
	return nil
}

// ResourceDecoded returns the URL-decoded resource URI.
func (t Token) ResourceDecoded() (string, error) {
	r, err := url.QueryUnescape(t.Resource)
	if err != nil {
		return "", fmt.Errorf("%w: sr: %v", ErrMalformed, err)
	}
	return r, nil
}

// ResourceCovers reports whether a token for tokenResource (decoded) grants
// access to target (decoded): a case-insensitive prefix match by whole path
// segment, so "host/devices" covers "host/devices/dev1" but "host/devices/dev"
// does not cover "host/devices/dev1" (§1.3 [doc D-SAS; src S-CS]).
// A trailing slash on either side is ignored.
func ResourceCovers(tokenResource, target string) bool {
	tr := strings.ToLower(strings.TrimSuffix(tokenResource, "/"))
	tg := strings.ToLower(strings.TrimSuffix(target, "/"))
	if tr == "" {
		return false
	}
	if tr == tg {
		return true
	}
	return strings.HasPrefix(tg, tr+"/")
}

// DeriveDeviceKey derives a device key for a DPS symmetric-key enrollment
// group: HMAC-SHA256(key=groupKey, msg=registrationID UTF-8) (§2.3 [doc P-SYM]).
// Both keys are raw bytes (base64-decode the group key first).
func DeriveDeviceKey(groupKey []byte, registrationID string) []byte {
	return mac(groupKey, registrationID)
}
