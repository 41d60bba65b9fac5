package dps

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
)

// stateFile holds enrollments, the certificate store and registrations.
const stateFile = "dps.json"

// Attestation mechanisms (names as in the DPS REST API [doc P-REST]).
const (
	AttestationX509         = "x509"
	AttestationSymmetricKey = "symmetricKey"
)

// Sentinel errors of the admin operations.
var (
	ErrNotFound = errors.New("dps: not found")
	ErrExists   = errors.New("dps: already exists")
	ErrInvalid  = errors.New("dps: invalid argument")
	// ErrVerification wraps every reason a proof-of-possession certificate is refused.
	ErrVerification = errors.New("dps: CA verification failed")
)

// IndividualEnrollment is one device's enrollment.
type IndividualEnrollment struct {
	RegistrationID string `json:"registrationId"`
	// DeviceID is the hub device ID to create; "" means the registration ID.
	DeviceID string `json:"deviceId,omitempty"`
	// Attestation is AttestationX509 or AttestationSymmetricKey.
	Attestation string `json:"attestation"`
	// X.509: the device certificate (PEM) and/or its SHA-256 thumbprints
	// (hex, any case, colons allowed). A certificate adds its thumbprint.
	CertificatePEM    string   `json:"certificatePem,omitempty"`
	ThumbprintsSHA256 []string `json:"thumbprintsSha256,omitempty"`
	// Symmetric key: primary and secondary keys (raw bytes; JSON base64).
	PrimaryKey   []byte    `json:"primaryKey,omitempty"`
	SecondaryKey []byte    `json:"secondaryKey,omitempty"`
	Enabled      bool      `json:"enabled"`
	Created      time.Time `json:"created"`
}

// GroupEnrollment is an enrollment group.
type GroupEnrollment struct {
	GroupID     string `json:"enrollmentGroupId"`
	Attestation string `json:"attestation"`
	// X.509: the name of a CA in the DPS certificate store (root or intermediate).
	CAName string `json:"caName,omitempty"`
	// Symmetric key: the group keys; devices use keys derived from them (§2.3).
	PrimaryKey   []byte    `json:"primaryKey,omitempty"`
	SecondaryKey []byte    `json:"secondaryKey,omitempty"`
	Enabled      bool      `json:"enabled"`
	Created      time.Time `json:"created"`
}

// CACertificate is an entry of the DPS certificate store (separate from the hub's).
type CACertificate struct {
	Name             string    `json:"name"`
	CertificatePEM   string    `json:"certificatePem"`
	Subject          string    `json:"subject"`
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	Verified         bool      `json:"verified"`
	VerificationCode string    `json:"verificationCode,omitempty"`
	Created          time.Time `json:"created"`
	Updated          time.Time `json:"updated"`
	cert             *x509.Certificate
}

// Registration is the outcome of a device's registration (the DPS
// "registration records").
type Registration struct {
	RegistrationID    string          `json:"registrationId"`
	DeviceID          string          `json:"deviceId,omitempty"`
	AssignedHub       string          `json:"assignedHub,omitempty"`
	Status            string          `json:"status"`
	Substatus         string          `json:"substatus,omitempty"`
	Attestation       string          `json:"attestation"`
	EnrollmentGroupID string          `json:"enrollmentGroupId,omitempty"`
	ErrorCode         int             `json:"errorCode,omitempty"`
	ErrorMessage      string          `json:"errorMessage,omitempty"`
	ETag              string          `json:"etag,omitempty"`
	Created           time.Time       `json:"createdDateTimeUtc"`
	LastUpdated       time.Time       `json:"lastUpdatedDateTimeUtc"`
	Payload           json.RawMessage `json:"payload,omitempty"`
}

// state is what is persisted in dir/dps.json.
type state struct {
	Individuals   map[string]*IndividualEnrollment `json:"individualEnrollments"` // key: lower-case regId
	Groups        map[string]*GroupEnrollment      `json:"enrollmentGroups"`
	CAs           map[string]*CACertificate        `json:"certificates"`
	Registrations map[string]*Registration         `json:"registrations"` // key: lower-case regId
}

func newState() *state {
	return &state{
		Individuals:   map[string]*IndividualEnrollment{},
		Groups:        map[string]*GroupEnrollment{},
		CAs:           map[string]*CACertificate{},
		Registrations: map[string]*Registration{},
	}
}

func loadState(dir string) (*state, error) {
	st := newState()
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return nil, fmt.Errorf("dps: read state: %w", err)
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("dps: parse %s: %w", stateFile, err)
	}
	if st.Individuals == nil {
		st.Individuals = map[string]*IndividualEnrollment{}
	}
	if st.Groups == nil {
		st.Groups = map[string]*GroupEnrollment{}
	}
	if st.CAs == nil {
		st.CAs = map[string]*CACertificate{}
	}
	if st.Registrations == nil {
		st.Registrations = map[string]*Registration{}
	}
	for name, ca := range st.CAs {
		c, err := parseCertPEM([]byte(ca.CertificatePEM))
		if err != nil {
			return nil, fmt.Errorf("dps: certificate %q in %s: %w", name, stateFile, err)
		}
		ca.cert = c
	}
	return st, nil
}

// newSaver keeps dir/dps.json in step with st, written atomically (temp
// file + rename) so a crash never leaves a half-written file, and shared
// among concurrent registrations (atomicfile.Batch).
func newSaver(dir string, mu *sync.Mutex, st *state) *atomicfile.Batch {
	return atomicfile.NewBatch(filepath.Join(dir, stateFile), mu, func() ([]byte, error) {
		b, err := json.MarshalIndent(st, "", "  ")
		if err != nil {
			return nil, fmt.Errorf("dps: encode state: %w", err)
		}
		return b, nil
	})
}

// saveLocked writes the state now; s.mu must be held.
func (s *Service) saveLocked() error {
	if err := s.saver.SaveLocked(); err != nil {
		return fmt.Errorf("dps: save state: %w", err)
	}
	return nil
}

// save writes the state with every change made before it; s.mu must not
// be held.
func (s *Service) save() error {
	if err := s.saver.Save(); err != nil {
		return fmt.Errorf("dps: save state: %w", err)
	}
	return nil
}

// regKey normalises a registration ID: they are case-insensitive (§2.1 [doc P-X509]).
func regKey(id string) string { return strings.ToLower(id) }

func parseCertPEM(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: no PEM CERTIFICATE block", ErrInvalid)
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	return c, nil
}

func certPEM(c *x509.Certificate) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
}

// thumbSHA256 is the upper-case hex SHA-256 of the DER, as DPS shows it.
func thumbSHA256(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

func thumbSHA1(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// normThumb accepts hex in any case with optional colons or spaces.
func normThumb(t string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(t))
}
