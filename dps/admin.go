package dps

import (
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

// Key sizes DPS accepts for symmetric keys: 16–64 bytes (§2.3 [doc P-SYM]).
const (
	minKeyBytes = 16
	maxKeyBytes = 64
)

// verificationCodeBytes gives a 48-hex-digit code like the portal shows [inf from P-VER screenshots].
const verificationCodeBytes = 24

// CreateIndividualEnrollment adds or replaces an individual enrollment.
// For X.509 give CertificatePEM and/or ThumbprintsSHA256; for a symmetric key
// give PrimaryKey (SecondaryKey optional).
func (s *Service) CreateIndividualEnrollment(e IndividualEnrollment) (IndividualEnrollment, error) {
	if e.RegistrationID == "" {
		return IndividualEnrollment{}, fmt.Errorf("%w: empty registration ID", ErrInvalid)
	}
	switch e.Attestation {
	case AttestationX509:
		thumbs := make([]string, 0, len(e.ThumbprintsSHA256)+1)
		for _, t := range e.ThumbprintsSHA256 {
			n := normThumb(t)
			if b, err := hex.DecodeString(n); err != nil || len(b) != 32 {
				return IndividualEnrollment{}, fmt.Errorf("%w: %q is not a SHA-256 thumbprint", ErrInvalid, t)
			}
			thumbs = append(thumbs, n)
		}
		if e.CertificatePEM != "" {
			c, err := parseCertPEM([]byte(e.CertificatePEM))
			if err != nil {
				return IndividualEnrollment{}, fmt.Errorf("enrollment %q certificate: %w", e.RegistrationID, err)
			}
			// DPS takes the registration ID of an X.509 individual enrollment from the CN [doc P-X509].
			if !strings.EqualFold(c.Subject.CommonName, e.RegistrationID) {
				return IndividualEnrollment{}, fmt.Errorf("%w: certificate CN %q ≠ registration ID %q", ErrInvalid, c.Subject.CommonName, e.RegistrationID)
			}
			thumbs = append(thumbs, thumbSHA256(c))
		}
		if len(thumbs) == 0 {
			return IndividualEnrollment{}, fmt.Errorf("%w: X.509 enrollment needs a certificate or thumbprint", ErrInvalid)
		}
		slices.Sort(thumbs)
		e.ThumbprintsSHA256 = slices.Compact(thumbs)
		e.PrimaryKey, e.SecondaryKey = nil, nil
	case AttestationSymmetricKey:
		if err := checkKeys(e.PrimaryKey, e.SecondaryKey); err != nil {
			return IndividualEnrollment{}, err
		}
		e.CertificatePEM, e.ThumbprintsSHA256 = "", nil
	default:
		return IndividualEnrollment{}, fmt.Errorf("%w: attestation %q", ErrInvalid, e.Attestation)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.st.Individuals[regKey(e.RegistrationID)]; ok {
		e.Created = old.Created
	} else {
		e.Created = s.opts.clock().UTC()
	}
	s.st.Individuals[regKey(e.RegistrationID)] = &e
	return e, s.saveLocked()
}

// CreateGroupEnrollment adds or replaces an enrollment group. For X.509 give
// CAName (a CA in the DPS certificate store; it may still be unverified, which
// fails registrations as the real service does); for a symmetric key give
// PrimaryKey (SecondaryKey optional).
func (s *Service) CreateGroupEnrollment(g GroupEnrollment) (GroupEnrollment, error) {
	if g.GroupID == "" {
		return GroupEnrollment{}, fmt.Errorf("%w: empty group ID", ErrInvalid)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch g.Attestation {
	case AttestationX509:
		if _, ok := s.st.CAs[g.CAName]; !ok {
			return GroupEnrollment{}, fmt.Errorf("%w: CA %q in the DPS certificate store", ErrNotFound, g.CAName)
		}
		g.PrimaryKey, g.SecondaryKey = nil, nil
	case AttestationSymmetricKey:
		if err := checkKeys(g.PrimaryKey, g.SecondaryKey); err != nil {
			return GroupEnrollment{}, err
		}
		g.CAName = ""
	default:
		return GroupEnrollment{}, fmt.Errorf("%w: attestation %q", ErrInvalid, g.Attestation)
	}
	if old, ok := s.st.Groups[g.GroupID]; ok {
		g.Created = old.Created
	} else {
		g.Created = s.opts.clock().UTC()
	}
	s.st.Groups[g.GroupID] = &g
	return g, s.saveLocked()
}

func checkKeys(keys ...[]byte) error {
	for i, k := range keys {
		if i > 0 && len(k) == 0 {
			continue // secondary is optional
		}
		if len(k) < minKeyBytes || len(k) > maxKeyBytes {
			return fmt.Errorf("%w: symmetric key of %d bytes (DPS takes %d–%d)", ErrInvalid, len(k), minKeyBytes, maxKeyBytes)
		}
	}
	return nil
}

// ListIndividualEnrollments returns the individual enrollments by registration ID.
func (s *Service) ListIndividualEnrollments() []IndividualEnrollment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]IndividualEnrollment, 0, len(s.st.Individuals))
	for _, k := range slices.Sorted(maps.Keys(s.st.Individuals)) {
		out = append(out, *s.st.Individuals[k])
	}
	return out
}

// ListGroupEnrollments returns the enrollment groups by ID.
func (s *Service) ListGroupEnrollments() []GroupEnrollment {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GroupEnrollment, 0, len(s.st.Groups))
	for _, k := range slices.Sorted(maps.Keys(s.st.Groups)) {
		out = append(out, *s.st.Groups[k])
	}
	return out
}

// DeleteIndividualEnrollment removes an individual enrollment.
func (s *Service) DeleteIndividualEnrollment(registrationID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Individuals[regKey(registrationID)]; !ok {
		return fmt.Errorf("%w: individual enrollment %q", ErrNotFound, registrationID)
	}
	delete(s.st.Individuals, regKey(registrationID))
	return s.saveLocked()
}

// DeleteGroupEnrollment removes an enrollment group.
func (s *Service) DeleteGroupEnrollment(groupID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.Groups[groupID]; !ok {
		return fmt.Errorf("%w: enrollment group %q", ErrNotFound, groupID)
	}
	delete(s.st.Groups, groupID)
	return s.saveLocked()
}

// EnrollmentKind selects individual enrollments or groups in SetEnabled.
type EnrollmentKind int

// Enrollment kinds.
const (
	Individual EnrollmentKind = iota + 1
	Group
)

// SetEnabled enables or disables an enrollment (individual: registration ID; group: group ID).
func (s *Service) SetEnabled(kind EnrollmentKind, id string, enabled bool) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch kind {
	case Individual:
		e, ok := s.st.Individuals[regKey(id)]
		if !ok {
			return fmt.Errorf("%w: individual enrollment %q", ErrNotFound, id)
		}
		e.Enabled = enabled
	case Group:
		g, ok := s.st.Groups[id]
		if !ok {
			return fmt.Errorf("%w: enrollment group %q", ErrNotFound, id)
		}
		g.Enabled = enabled
	default:
		return fmt.Errorf("%w: enrollment kind %d", ErrInvalid, kind)
	}
	return s.saveLocked()
}

// UploadCA adds a CA certificate (root or intermediate, PEM) to the DPS
// certificate store. verified=true models "set status to verified on upload"
// (§2.3 [doc P-VER]).
func (s *Service) UploadCA(name string, certificatePEM []byte, verified bool) (CACertificate, error) {
	if name == "" {
		return CACertificate{}, fmt.Errorf("%w: empty certificate name", ErrInvalid)
	}
	c, err := parseCertPEM(certificatePEM)
	if err != nil {
		return CACertificate{}, fmt.Errorf("upload CA %q: %w", name, err)
	}
	if !c.IsCA {
		return CACertificate{}, fmt.Errorf("%w: %q (%s) is not a CA certificate (basicConstraints CA:FALSE)", ErrInvalid, name, c.Subject)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.CAs[name]; ok {
		return CACertificate{}, fmt.Errorf("%w: certificate %q", ErrExists, name)
	}
	now := s.opts.clock().UTC()
	ca := &CACertificate{
		Name:             name,
		CertificatePEM:   certPEM(c),
		Subject:          c.Subject.String(),
		ThumbprintSHA256: thumbSHA256(c),
		Verified:         verified,
		Created:          now,
		Updated:          now,
		cert:             c,
	}
	s.st.CAs[name] = ca
	return *ca, s.saveLocked()
}

// DeleteCA removes a CA from the store. Groups that name it stay and fail
// registrations until fixed, as in the service.
func (s *Service) DeleteCA(name string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.CAs[name]; !ok {
		return fmt.Errorf("%w: certificate %q", ErrNotFound, name)
	}
	delete(s.st.CAs, name)
	return s.saveLocked()
}

// ListCAs returns the certificate store by name.
func (s *Service) ListCAs() []CACertificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]CACertificate, 0, len(s.st.CAs))
	for _, k := range slices.Sorted(maps.Keys(s.st.CAs)) {
		out = append(out, *s.st.CAs[k])
	}
	return out
}

// VerificationCode generates a new verification code for a CA; the proof of
// possession is a certificate with subject CN = code signed by the CA's key
// (§2.3 [doc P-VER]). A new code replaces the previous one.
func (s *Service) VerificationCode(name string) (string, error) {
	b := make([]byte, verificationCodeBytes)
	if _, err := io.ReadFull(s.opts.rand, b); err != nil {
		return "", fmt.Errorf("dps: verification code: %w", err)
	}
	code := strings.ToUpper(hex.EncodeToString(b))
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, ok := s.st.CAs[name]
	if !ok {
		return "", fmt.Errorf("%w: certificate %q", ErrNotFound, name)
	}
	ca.VerificationCode = code
	ca.Updated = s.opts.clock().UTC()
	return code, s.saveLocked()
}

// VerifyCA checks a proof-of-possession certificate (PEM) for the CA and marks
// the CA verified. Each refusal wraps ErrVerification and says why.
func (s *Service) VerifyCA(name string, proofPEM []byte) (CACertificate, error) {
	proof, err := parseCertPEM(proofPEM)
	if err != nil {
		return CACertificate{}, fmt.Errorf("%w: %q: proof certificate: %v", ErrVerification, name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ca, ok := s.st.CAs[name]
	if !ok {
		return CACertificate{}, fmt.Errorf("%w: certificate %q", ErrNotFound, name)
	}
	if err := s.checkProof(ca, proof); err != nil {
		return CACertificate{}, err
	}
	ca.Verified = true
	ca.VerificationCode = ""
	ca.Updated = s.opts.clock().UTC()
	return *ca, s.saveLocked()
}

func (s *Service) checkProof(ca *CACertificate, proof *x509.Certificate) error {
	if ca.VerificationCode == "" {
		return fmt.Errorf("%w: %q: no verification code was generated; generate one first", ErrVerification, ca.Name)
	}
	if proof.Subject.CommonName != ca.VerificationCode {
		return fmt.Errorf("%w: %q: proof subject CN %q ≠ verification code %q", ErrVerification, ca.Name, proof.Subject.CommonName, ca.VerificationCode)
	}
	if err := proof.CheckSignatureFrom(ca.cert); err != nil {
		return fmt.Errorf("%w: %q: proof is not signed by the CA key (%s): %v", ErrVerification, ca.Name, ca.Subject, err)
	}
	now := s.opts.clock()
	if now.Before(proof.NotBefore) || now.After(proof.NotAfter) {
		return fmt.Errorf("%w: %q: proof valid %s…%s, simulation time is %s", ErrVerification, ca.Name,
			proof.NotBefore.UTC().Format(timeFormat), proof.NotAfter.UTC().Format(timeFormat), now.UTC().Format(timeFormat))
	}
	return nil
}

// Registrations returns the registration records by registration ID.
func (s *Service) Registrations() []Registration {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Registration, 0, len(s.st.Registrations))
	for _, k := range slices.Sorted(maps.Keys(s.st.Registrations)) {
		out = append(out, *s.st.Registrations[k])
	}
	return out
}
