package dps

import (
	"crypto/x509"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/modemsim/modemsim/sas"
)

// sasKeyName is the skn a DPS registration token carries (§2.1 [doc P-MQTT]).
const sasKeyName = "registration"

// attestation is a device that proved who it is, bound to the enrollment that admits it.
type attestation struct {
	Type           string
	RegistrationID string
	DeviceID       string
	Individual     *IndividualEnrollment // nil for a group
	Group          *GroupEnrollment      // nil for an individual enrollment
	Leaf           *x509.Certificate     // X.509 only
	Signer         *x509.Certificate     // X.509 group: the store CA that anchors the chain
	Key            []byte                // symmetric key that verified (derived for groups)
}

func (a *attestation) enabled() bool {
	if a.Individual != nil {
		return a.Individual.Enabled
	}
	return a.Group.Enabled
}

func (a *attestation) enrollmentName() string {
	if a.Individual != nil {
		return "individual enrollment " + a.Individual.RegistrationID
	}
	return "enrollment group " + a.Group.GroupID
}

// refusal is a failed attestation: the check and the explanation.
type refusal struct {
	Check  string
	Detail string
	Values map[string]string
}

func refused(check string, values map[string]string, format string, args ...any) *refusal {
	return &refusal{Check: check, Detail: fmt.Sprintf(format, args...), Values: values}
}

// attestX509 decides a certificate-authenticated registration (§2.3 [doc P-X509]).
// peer is the chain as presented, leaf first. s.mu must be held.
func (s *Service) attestX509(regID string, peer []*x509.Certificate) (*attestation, *refusal) {
	if len(peer) == 0 {
		return nil, refused(CheckX509NoCertificate, nil,
			"no SAS password and no client certificate in the TLS handshake")
	}
	leaf := peer[0]
	vals := map[string]string{
		"leafSubject":          leaf.Subject.String(),
		"leafIssuer":           leaf.Issuer.String(),
		"leafThumbprintSHA256": thumbSHA256(leaf),
		"presentedChain":       describeChain(peer),
	}
	// §2.1 [doc P-MQTT; obs iot-identity-service#111]: registration ID must equal the leaf CN.
	if !strings.EqualFold(leaf.Subject.CommonName, regID) {
		return nil, refused(CheckX509CNMismatch, vals,
			"certificate CN %q ≠ registration ID %q in the user name", leaf.Subject.CommonName, regID)
	}
	now := s.opts.clock()
	if now.Before(leaf.NotBefore) || now.After(leaf.NotAfter) {
		return nil, refused(CheckX509Validity, vals, "device certificate valid %s…%s, simulation time is %s",
			leaf.NotBefore.UTC().Format(timeFormat), leaf.NotAfter.UTC().Format(timeFormat), now.UTC().Format(timeFormat))
	}

	// An individual enrollment beats any group (§2.3 [doc P-X509]); when one
	// exists for this registration ID it alone decides, as for SAS [inf].
	thumb := thumbSHA256(leaf)
	if e, ok := s.st.Individuals[regKey(regID)]; ok && e.Attestation == AttestationX509 {
		if !slices.Contains(e.ThumbprintsSHA256, thumb) {
			vals["enrollmentThumbprints"] = strings.Join(e.ThumbprintsSHA256, ",")
			return nil, refused(CheckX509Thumbprint, vals,
				"individual enrollment %q holds thumbprint(s) %s, the device presented %s",
				e.RegistrationID, strings.Join(e.ThumbprintsSHA256, ", "), thumb)
		}
		return &attestation{Type: AttestationX509, RegistrationID: regID, DeviceID: deviceIDOr(e.DeviceID, regID),
			Individual: e, Leaf: leaf}, nil
	}

	// Groups: walk the presented chain from the first intermediate up to the
	// root, then the store CA that signed the last presented certificate (the
	// root need not be sent); the first certificate an X.509 group uses wins.
	candidates := slices.Clone(peer[1:])
	last := peer[len(peer)-1]
	for _, name := range slices.Sorted(maps.Keys(s.st.CAs)) {
		ca := s.st.CAs[name]
		if !ca.cert.Equal(last) && last.CheckSignatureFrom(ca.cert) == nil {
			candidates = append(candidates, ca.cert)
		}
	}
	for _, cand := range candidates {
		g, ca := s.groupForCert(cand)
		if g == nil {
			continue
		}
		vals["enrollmentGroupId"] = g.GroupID
		vals["caName"] = ca.Name
		vals["caSubject"] = ca.Subject
		if !ca.Verified {
			return nil, refused(CheckX509CANotVerified, vals,
				"enrollment group %q uses CA %q (%s), which is uploaded but not verified (no proof of possession)",
				g.GroupID, ca.Name, ca.Subject)
		}
		_, err := leaf.Verify(x509.VerifyOptions{
			Roots:         poolOf(ca.cert),
			Intermediates: poolOf(peer[1:]...),
			KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
			CurrentTime:   now,
		})
		if err != nil {
			check := CheckX509ChainIncomplete
			var inv x509.CertificateInvalidError
			if errors.As(err, &inv) {
				check = CheckX509Validity
			}
			return nil, refused(check, vals,
				"chain %s does not lead to verified CA %q (%s) of group %q: %v",
				describeChain(peer), ca.Name, ca.Subject, g.GroupID, err)
		}
		return &attestation{Type: AttestationX509, RegistrationID: regID, DeviceID: leaf.Subject.CommonName,
			Group: g, Leaf: leaf, Signer: ca.cert}, nil
	}

	// Nothing matched: say whether the chain was cut short or simply belongs to no group.
	if len(candidates) == len(peer)-1 && !isSelfSigned(last) && s.hasX509Group() {
		return nil, refused(CheckX509ChainIncomplete, vals,
			"chain %s stops at a certificate issued by %s, which is neither presented nor in the DPS certificate store: an intermediate is missing from the device's chain (or its CA was never uploaded); no enrollment applies%s",
			describeChain(peer), last.Issuer, s.describeGroups())
	}
	return nil, refused(CheckX509NoEnrollment, vals,
		"no enrollment for this certificate: not an individual enrollment, and no enrollment group uses any CA of chain %s%s",
		describeChain(peer), s.describeGroups())
}

// groupForCert finds the X.509 group whose store CA is c. s.mu must be held.
func (s *Service) groupForCert(c *x509.Certificate) (*GroupEnrollment, *CACertificate) {
	for _, id := range slices.Sorted(maps.Keys(s.st.Groups)) {
		g := s.st.Groups[id]
		if g.Attestation != AttestationX509 {
			continue
		}
		if ca, ok := s.st.CAs[g.CAName]; ok && ca.cert.Equal(c) {
			return g, ca
		}
	}
	return nil, nil
}

func (s *Service) hasX509Group() bool {
	for _, g := range s.st.Groups {
		if g.Attestation == AttestationX509 {
			return true
		}
	}
	return false
}

func (s *Service) describeGroups() string {
	var parts []string
	for _, id := range slices.Sorted(maps.Keys(s.st.Groups)) {
		g := s.st.Groups[id]
		if g.Attestation != AttestationX509 {
			continue
		}
		subj := "missing from the store"
		if ca, ok := s.st.CAs[g.CAName]; ok {
			subj = ca.Subject
		}
		parts = append(parts, fmt.Sprintf("%q → CA %q (%s)", g.GroupID, g.CAName, subj))
	}
	if len(parts) == 0 {
		return "; there are no X.509 enrollment groups"
	}
	return "; X.509 groups: " + strings.Join(parts, ", ")
}

// attestSAS decides a symmetric-key registration (§2.1, §2.3 [doc P-MQTT, P-SYM]). s.mu must be held.
func (s *Service) attestSAS(id identity, password string) (*attestation, *refusal) {
	regID := id.RegistrationID
	tok, err := sas.Parse(password)
	if err != nil {
		return nil, refused(CheckSASMalformed, nil, "password is not a SAS token: %v", err)
	}
	vals := map[string]string{"sr": tok.Resource, "skn": tok.KeyName, "se": fmt.Sprint(tok.Expiry.Unix())}
	if tok.KeyName != sasKeyName {
		return nil, refused(CheckSASKeyName, vals, "skn=%q, DPS registration tokens use skn=%s", tok.KeyName, sasKeyName)
	}
	res, err := tok.ResourceDecoded()
	if err != nil {
		return nil, refused(CheckSASMalformed, vals, "%v", err)
	}
	want := id.IDScope + "/registrations/" + regID
	if !sas.ResourceCovers(res, want) {
		return nil, refused(CheckSASResource, vals, "token resource %q does not cover %q", res, want)
	}
	if err := tok.CheckExpiry(s.opts.clock(), s.opts.skew); err != nil {
		return nil, refused(CheckSASExpired, vals, "%v", err)
	}

	// An individual enrollment beats any group.
	if e, ok := s.st.Individuals[regKey(regID)]; ok && e.Attestation == AttestationSymmetricKey {
		for _, k := range [][]byte{e.PrimaryKey, e.SecondaryKey} {
			if len(k) > 0 && tok.Verify(k) == nil {
				return &attestation{Type: AttestationSymmetricKey, RegistrationID: regID,
					DeviceID: deviceIDOr(e.DeviceID, regID), Individual: e, Key: k}, nil
			}
		}
		vals["enrollment"] = "individual " + e.RegistrationID
		return nil, refused(CheckSASSignature, vals, "%v; tried the primary and secondary keys of individual enrollment %q",
			tok.Verify(e.PrimaryKey), e.RegistrationID)
	}
	// Groups: the device's key is derived from a group key; the first group
	// whose derived key verifies admits it. Signing with the group key itself fails (§2.3).
	var tried []string
	for _, gid := range slices.Sorted(maps.Keys(s.st.Groups)) {
		g := s.st.Groups[gid]
		if g.Attestation != AttestationSymmetricKey {
			continue
		}
		tried = append(tried, g.GroupID)
		for _, gk := range [][]byte{g.PrimaryKey, g.SecondaryKey} {
			if len(gk) == 0 {
				continue
			}
			dk := sas.DeriveDeviceKey(gk, regID)
			if tok.Verify(dk) == nil {
				return &attestation{Type: AttestationSymmetricKey, RegistrationID: regID, DeviceID: regID, Group: g, Key: dk}, nil
			}
			if tok.Verify(gk) == nil {
				vals["enrollmentGroupId"] = g.GroupID
				return nil, refused(CheckSASSignature, vals,
					"token is signed with the group key of %q itself; devices must sign with the key derived for their registration ID (HMAC-SHA256(groupKey, %q))",
					g.GroupID, regID)
			}
		}
	}
	if len(tried) == 0 {
		return nil, refused(CheckEnrollmentNotFound, vals,
			"no individual symmetric-key enrollment %q and no symmetric-key enrollment group", regID)
	}
	vals["groupsTried"] = strings.Join(tried, ",")
	return nil, refused(CheckSASSignature, vals,
		"no individual enrollment %q, and the token verifies with no key derived from groups [%s]; verified HMAC-SHA256 over %q",
		regID, strings.Join(tried, ", "), tok.StringToSign())
}

func deviceIDOr(id, regID string) string {
	if id != "" {
		return id
	}
	return regID
}

func poolOf(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

func isSelfSigned(c *x509.Certificate) bool {
	return c.CheckSignatureFrom(c) == nil && c.Subject.String() == c.Issuer.String()
}

// describeChain lists subjects leaf first: "[CN=dev1 ← CN=Int ← CN=Root]".
func describeChain(peer []*x509.Certificate) string {
	parts := make([]string, len(peer))
	for i, c := range peer {
		parts[i] = c.Subject.String()
	}
	return "[" + strings.Join(parts, " ← ") + "]"
}
