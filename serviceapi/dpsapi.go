package serviceapi

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/modemsim/modemsim/dps"
	"github.com/modemsim/modemsim/pki"
)

// The DPS service API's enrollment shapes (azure-rest-api-specs
// deviceprovisioningservices/service "IndividualEnrollment",
// "EnrollmentGroup", "AttestationMechanism"; the Node SDK passes them as given).
type x509CertInfoJSON struct {
	SubjectName    string `json:"subjectName"`
	SHA1Thumbprint string `json:"sha1Thumbprint"`
	SHA256         string `json:"sha256Thumbprint"`
	IssuerName     string `json:"issuerName"`
	NotBeforeUtc   string `json:"notBeforeUtc"`
	NotAfterUtc    string `json:"notAfterUtc"`
	SerialNumber   string `json:"serialNumber"`
	Version        int    `json:"version"`
}

type x509CertJSON struct {
	Certificate string            `json:"certificate,omitempty"`
	Info        *x509CertInfoJSON `json:"info,omitempty"`
}

type x509CertsJSON struct {
	Primary   *x509CertJSON `json:"primary,omitempty"`
	Secondary *x509CertJSON `json:"secondary,omitempty"`
}

type caReferencesJSON struct {
	Primary   string `json:"primary,omitempty"`
	Secondary string `json:"secondary,omitempty"`
}

type x509AttestationJSON struct {
	ClientCertificates  *x509CertsJSON    `json:"clientCertificates,omitempty"`
	SigningCertificates *x509CertsJSON    `json:"signingCertificates,omitempty"`
	CAReferences        *caReferencesJSON `json:"caReferences,omitempty"`
}

type dpsSymmetricKeyJSON struct {
	PrimaryKey   string `json:"primaryKey,omitempty"`
	SecondaryKey string `json:"secondaryKey,omitempty"`
}

type attestationJSON struct {
	Type         string               `json:"type"`
	X509         *x509AttestationJSON `json:"x509,omitempty"`
	SymmetricKey *dpsSymmetricKeyJSON `json:"symmetricKey,omitempty"`
	TPM          json.RawMessage      `json:"tpm,omitempty"`
}

type groupJSON struct {
	EnrollmentGroupID  string          `json:"enrollmentGroupId"`
	Attestation        attestationJSON `json:"attestation"`
	ProvisioningStatus string          `json:"provisioningStatus,omitempty"`
	IotHubHostName     string          `json:"iotHubHostName,omitempty"`
	ETag               string          `json:"etag,omitempty"`
	Created            string          `json:"createdDateTimeUtc,omitempty"`
	LastUpdated        string          `json:"lastUpdatedDateTimeUtc,omitempty"`
	AllocationPolicy   string          `json:"allocationPolicy,omitempty"`
}

type individualJSON struct {
	RegistrationID     string          `json:"registrationId"`
	DeviceID           string          `json:"deviceId,omitempty"`
	Attestation        attestationJSON `json:"attestation"`
	ProvisioningStatus string          `json:"provisioningStatus,omitempty"`
	IotHubHostName     string          `json:"iotHubHostName,omitempty"`
	ETag               string          `json:"etag,omitempty"`
	Created            string          `json:"createdDateTimeUtc,omitempty"`
	LastUpdated        string          `json:"lastUpdatedDateTimeUtc,omitempty"`
	AllocationPolicy   string          `json:"allocationPolicy,omitempty"`
}

func enabledOf(status string) (bool, error) {
	switch strings.ToLower(status) {
	case "", "enabled":
		return true, nil
	case "disabled":
		return false, nil
	}
	return false, fmt.Errorf("provisioningStatus %q (want enabled or disabled)", status)
}

func provisioningStatus(enabled bool) string {
	if enabled {
		return "enabled"
	}
	return "disabled"
}

func decodeKey(name, s string) ([]byte, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("%s: not base64: %w", name, err)
	}
	return b, nil
}

func randomKey() []byte {
	b, _ := base64.StdEncoding.DecodeString(newKey())
	return b
}

// GroupRequest is a decoded enrollment group PUT: the group, and for X.509
// the inline signing certificate (PEM) or the referenced CA name.
type GroupRequest struct {
	Group      dps.GroupEnrollment
	SigningPEM string
	ETag       string
}

// DecodeGroup parses an enrollment group PUT body for id.
func DecodeGroup(id string, body []byte) (GroupRequest, error) {
	var in groupJSON
	if err := decodeStrict(body, &in); err != nil {
		return GroupRequest{}, err
	}
	if in.EnrollmentGroupID != "" && in.EnrollmentGroupID != id {
		return GroupRequest{}, fmt.Errorf("body enrollmentGroupId %q differs from the path's %q", in.EnrollmentGroupID, id)
	}
	en, err := enabledOf(in.ProvisioningStatus)
	if err != nil {
		return GroupRequest{}, err
	}
	req := GroupRequest{Group: dps.GroupEnrollment{GroupID: id, Enabled: en}, ETag: in.ETag}
	at := in.Attestation
	switch at.Type {
	case "x509":
		x := at.X509
		switch {
		case x != nil && x.SigningCertificates != nil && x.SigningCertificates.Primary != nil && x.SigningCertificates.Primary.Certificate != "":
			req.SigningPEM = x.SigningCertificates.Primary.Certificate
		case x != nil && x.CAReferences != nil && x.CAReferences.Primary != "":
			req.Group.CAName = x.CAReferences.Primary
		default:
			return GroupRequest{}, errors.New("x509 group needs signingCertificates.primary.certificate or caReferences.primary")
		}
		req.Group.Attestation = dps.AttestationX509
	case "symmetricKey":
		req.Group.Attestation = dps.AttestationSymmetricKey
		if at.SymmetricKey != nil {
			if req.Group.PrimaryKey, err = decodeKey("primaryKey", at.SymmetricKey.PrimaryKey); err != nil {
				return GroupRequest{}, err
			}
			if req.Group.SecondaryKey, err = decodeKey("secondaryKey", at.SymmetricKey.SecondaryKey); err != nil {
				return GroupRequest{}, err
			}
		}
	default:
		return GroupRequest{}, fmt.Errorf("attestation type %q is not emulated for groups (x509, symmetricKey)", at.Type)
	}
	return req, nil
}

// DecodeIndividual parses an individual enrollment PUT body for id.
func DecodeIndividual(id string, body []byte) (dps.IndividualEnrollment, string, error) {
	var in individualJSON
	if err := decodeStrict(body, &in); err != nil {
		return dps.IndividualEnrollment{}, "", err
	}
	if in.RegistrationID != "" && !strings.EqualFold(in.RegistrationID, id) {
		return dps.IndividualEnrollment{}, "", fmt.Errorf("body registrationId %q differs from the path's %q", in.RegistrationID, id)
	}
	en, err := enabledOf(in.ProvisioningStatus)
	if err != nil {
		return dps.IndividualEnrollment{}, "", err
	}
	e := dps.IndividualEnrollment{RegistrationID: id, DeviceID: in.DeviceID, Enabled: en}
	at := in.Attestation
	switch at.Type {
	case "x509":
		x := at.X509
		if x == nil || x.ClientCertificates == nil || x.ClientCertificates.Primary == nil || x.ClientCertificates.Primary.Certificate == "" {
			return dps.IndividualEnrollment{}, "", errors.New("x509 enrollment needs clientCertificates.primary.certificate")
		}
		e.Attestation, e.CertificatePEM = dps.AttestationX509, x.ClientCertificates.Primary.Certificate
	case "symmetricKey":
		e.Attestation = dps.AttestationSymmetricKey
		if at.SymmetricKey != nil {
			if e.PrimaryKey, err = decodeKey("primaryKey", at.SymmetricKey.PrimaryKey); err != nil {
				return dps.IndividualEnrollment{}, "", err
			}
			if e.SecondaryKey, err = decodeKey("secondaryKey", at.SymmetricKey.SecondaryKey); err != nil {
				return dps.IndividualEnrollment{}, "", err
			}
		}
	default:
		return dps.IndividualEnrollment{}, "", fmt.Errorf("attestation type %q is not emulated (x509, symmetricKey)", at.Type)
	}
	return e, in.ETag, nil
}

// signingCAName is the DPS certificate-store entry holding a group's inline
// signing certificate. Inline signing certificates need no proof of
// possession on the real service [doc P-X509], so the entry is verified.
func signingCAName(groupID string) string { return "enrollmentGroup/" + groupID }

func certInfo(pemText string) *x509CertInfoJSON {
	cs, err := pki.ParseCertsPEM([]byte(pemText))
	if err != nil || len(cs) == 0 {
		return nil
	}
	c := cs[0]
	return &x509CertInfoJSON{SubjectName: c.Subject.String(), SHA1Thumbprint: pki.ThumbprintSHA1(c), SHA256: pki.ThumbprintSHA256(c),
		IssuerName: c.Issuer.String(), NotBeforeUtc: c.NotBefore.UTC().Format(time.RFC3339), NotAfterUtc: c.NotAfter.UTC().Format(time.RFC3339),
		SerialNumber: strings.ToUpper(c.SerialNumber.Text(16)), Version: c.Version}
}

// etagOf is a content digest in the quoted form DPS returns [inf].
func etagOf(v any) string {
	b, _ := json.Marshal(v)
	sum := sha256.Sum256(b)
	return `"` + base64.RawURLEncoding.EncodeToString(sum[:12]) + `"`
}

func (a *API) groupOut(g dps.GroupEnrollment) groupJSON {
	out := groupJSON{EnrollmentGroupID: g.GroupID, ProvisioningStatus: provisioningStatus(g.Enabled),
		IotHubHostName: a.e.HostName(), Created: g.Created.UTC().Format(time.RFC3339Nano),
		LastUpdated: g.Created.UTC().Format(time.RFC3339Nano), AllocationPolicy: "hashed"}
	switch g.Attestation {
	case dps.AttestationX509:
		x := &x509AttestationJSON{}
		if g.CAName == signingCAName(g.GroupID) {
			pemText := ""
			for _, c := range a.e.DPS().ListCAs() {
				if c.Name == g.CAName {
					pemText = c.CertificatePEM
				}
			}
			x.SigningCertificates = &x509CertsJSON{Primary: &x509CertJSON{Info: certInfo(pemText)}}
		} else {
			x.CAReferences = &caReferencesJSON{Primary: g.CAName}
		}
		out.Attestation = attestationJSON{Type: "x509", X509: x}
	case dps.AttestationSymmetricKey:
		out.Attestation = attestationJSON{Type: "symmetricKey", SymmetricKey: &dpsSymmetricKeyJSON{
			PrimaryKey: base64.StdEncoding.EncodeToString(g.PrimaryKey), SecondaryKey: base64.StdEncoding.EncodeToString(g.SecondaryKey)}}
	}
	out.ETag = etagOf(out)
	return out
}

func (a *API) individualOut(e dps.IndividualEnrollment) individualJSON {
	out := individualJSON{RegistrationID: e.RegistrationID, DeviceID: e.DeviceID, ProvisioningStatus: provisioningStatus(e.Enabled),
		IotHubHostName: a.e.HostName(), Created: e.Created.UTC().Format(time.RFC3339Nano),
		LastUpdated: e.Created.UTC().Format(time.RFC3339Nano), AllocationPolicy: "hashed"}
	switch e.Attestation {
	case dps.AttestationX509:
		out.Attestation = attestationJSON{Type: "x509", X509: &x509AttestationJSON{
			ClientCertificates: &x509CertsJSON{Primary: &x509CertJSON{Info: certInfo(e.CertificatePEM)}}}}
	case dps.AttestationSymmetricKey:
		out.Attestation = attestationJSON{Type: "symmetricKey", SymmetricKey: &dpsSymmetricKeyJSON{
			PrimaryKey: base64.StdEncoding.EncodeToString(e.PrimaryKey), SecondaryKey: base64.StdEncoding.EncodeToString(e.SecondaryKey)}}
	}
	out.ETag = etagOf(out)
	return out
}

// dpsStatusError is a DPS error with its numeric errorCode.
type dpsStatusError struct {
	code int
	msg  string
}

func (e dpsStatusError) Error() string { return e.msg }

// dpsRoutes mounts DPS's service routes the Node SDK calls [src
// azure-iot-provisioning-service dist/provisioningserviceclient.js]. The
// SDK spells the group prefix both enrollmentGroups and enrollmentgroups.
func (a *API) dpsRoutes(mux *http.ServeMux) {
	read, write := []string{RightEnrollmentRead}, []string{RightEnrollmentWrite}
	regRead := []string{RightRegistrationStatusRead}
	for _, g := range []string{"enrollmentGroups", "enrollmentgroups"} {
		mux.HandleFunc("PUT /"+g+"/{id}", a.dpsCall(write, a.putGroup))
		mux.HandleFunc("GET /"+g+"/{id}", a.dpsCall(read, a.getGroup))
		mux.HandleFunc("DELETE /"+g+"/{id}", a.dpsCall(write, a.deleteGroup))
		mux.HandleFunc("POST /"+g+"/query", a.dpsCall(read, a.queryGroups))
	}
	mux.HandleFunc("PUT /enrollments/{id}", a.dpsCall(write, a.putIndividual))
	mux.HandleFunc("GET /enrollments/{id}", a.dpsCall(read, a.getIndividual))
	mux.HandleFunc("DELETE /enrollments/{id}", a.dpsCall(write, a.deleteIndividual))
	mux.HandleFunc("POST /enrollments/query", a.dpsCall(read, a.queryIndividuals))
	mux.HandleFunc("GET /registrations/{id}", a.dpsCall(regRead, a.getRegistration))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeDPSError(w, http.StatusNotFound, dpsNotImplemented, "the emulator does not serve "+r.Method+" "+r.URL.Path)
	})
}

func (a *API) dpsCall(rights []string, f func(r *http.Request, body []byte) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := a.dpsAuth.authorize(r, rights...); err != nil {
			a.refused("dps", r, err)
			writeDPSError(w, http.StatusUnauthorized, dpsUnauthorized, err.Error())
			return
		}
		body, err := readBody(w, r)
		if err != nil {
			writeDPSError(w, http.StatusRequestEntityTooLarge, dpsTooLarge, err.Error())
			return
		}
		out, err := f(r, body)
		if err != nil {
			code, msg := dpsErrorOf(err)
			writeDPSError(w, code/1000, code, msg)
			return
		}
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func dpsErrorOf(err error) (int, string) {
	var se dpsStatusError
	var br badRequest
	switch {
	case errors.As(err, &se):
		return se.code, se.msg
	case errors.As(err, &br), errors.Is(err, dps.ErrInvalid):
		return dpsBadRequest, err.Error()
	case errors.Is(err, dps.ErrNotFound):
		return dpsNotFound, err.Error()
	case errors.Is(err, dps.ErrExists):
		return dpsExists, err.Error()
	}
	return dpsInternal, err.Error()
}

// writeDPSError writes DPS's error body (§2.2 [src S-PROV, S-CS]).
func writeDPSError(w http.ResponseWriter, status, code int, msg string) {
	writeJSON(w, status, map[string]any{"errorCode": code, "trackingId": "modemsim", "message": msg,
		"timestampUtc": time.Now().UTC().Format(time.RFC3339Nano)})
}

func (a *API) findGroup(id string) (dps.GroupEnrollment, bool) {
	for _, g := range a.e.DPS().ListGroupEnrollments() {
		if g.GroupID == id {
			return g, true
		}
	}
	return dps.GroupEnrollment{}, false
}

func (a *API) findIndividual(id string) (dps.IndividualEnrollment, bool) {
	for _, e := range a.e.DPS().ListIndividualEnrollments() {
		if strings.EqualFold(e.RegistrationID, id) {
			return e, true
		}
	}
	return dps.IndividualEnrollment{}, false
}

func checkETag(ifMatch, current string) error {
	if ifMatch == "" || ifMatch == "*" || unquote(ifMatch) == unquote(current) {
		return nil
	}
	return dpsStatusError{dpsPrecondition, fmt.Sprintf("etag %s does not match the current %s", ifMatch, current)}
}

func (a *API) putGroup(r *http.Request, body []byte) (any, error) {
	id := r.PathValue("id")
	req, err := DecodeGroup(id, body)
	if err != nil {
		return nil, badRequest{err}
	}
	if old, ok := a.findGroup(id); ok {
		if err := checkETag(firstNonEmpty(r.Header.Get("If-Match"), req.ETag), a.groupOut(old).ETag); err != nil {
			return nil, err
		}
	}
	d := a.e.DPS()
	g := req.Group
	if g.Attestation == dps.AttestationSymmetricKey && len(g.PrimaryKey) == 0 {
		g.PrimaryKey, g.SecondaryKey = randomKey(), randomKey() // the service generates absent keys
	}
	if g.Attestation == dps.AttestationSymmetricKey && len(g.SecondaryKey) == 0 {
		g.SecondaryKey = randomKey()
	}
	if req.SigningPEM != "" {
		g.CAName = signingCAName(id)
		if err := d.DeleteCA(g.CAName); err != nil && !errors.Is(err, dps.ErrNotFound) {
			return nil, err
		}
		if _, err := d.UploadCA(g.CAName, []byte(req.SigningPEM), true); err != nil {
			return nil, err
		}
	}
	created, err := d.CreateGroupEnrollment(g)
	if err != nil {
		return nil, err
	}
	return a.groupOut(created), nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func (a *API) getGroup(r *http.Request, _ []byte) (any, error) {
	g, ok := a.findGroup(r.PathValue("id"))
	if !ok {
		return nil, fmt.Errorf("%w: enrollment group %q", dps.ErrNotFound, r.PathValue("id"))
	}
	return a.groupOut(g), nil
}

func (a *API) deleteGroup(r *http.Request, _ []byte) (any, error) {
	id := r.PathValue("id")
	g, ok := a.findGroup(id)
	if !ok {
		return nil, fmt.Errorf("%w: enrollment group %q", dps.ErrNotFound, id)
	}
	if err := checkETag(r.Header.Get("If-Match"), a.groupOut(g).ETag); err != nil {
		return nil, err
	}
	if err := a.e.DPS().DeleteGroupEnrollment(id); err != nil {
		return nil, err
	}
	if g.CAName == signingCAName(id) {
		_ = a.e.DPS().DeleteCA(g.CAName)
	}
	return nil, nil
}

func (a *API) queryGroups(*http.Request, []byte) (any, error) {
	gs := a.e.DPS().ListGroupEnrollments()
	out := make([]groupJSON, 0, len(gs))
	for _, g := range gs {
		out = append(out, a.groupOut(g))
	}
	return out, nil
}

func (a *API) putIndividual(r *http.Request, body []byte) (any, error) {
	id := r.PathValue("id")
	e, etag, err := DecodeIndividual(id, body)
	if err != nil {
		return nil, badRequest{err}
	}
	if old, ok := a.findIndividual(id); ok {
		if err := checkETag(firstNonEmpty(r.Header.Get("If-Match"), etag), a.individualOut(old).ETag); err != nil {
			return nil, err
		}
	}
	if e.Attestation == dps.AttestationSymmetricKey && len(e.PrimaryKey) == 0 {
		e.PrimaryKey, e.SecondaryKey = randomKey(), randomKey()
	}
	if e.Attestation == dps.AttestationSymmetricKey && len(e.SecondaryKey) == 0 {
		e.SecondaryKey = randomKey()
	}
	created, err := a.e.DPS().CreateIndividualEnrollment(e)
	if err != nil {
		return nil, err
	}
	return a.individualOut(created), nil
}

func (a *API) getIndividual(r *http.Request, _ []byte) (any, error) {
	e, ok := a.findIndividual(r.PathValue("id"))
	if !ok {
		return nil, fmt.Errorf("%w: enrollment %q", dps.ErrNotFound, r.PathValue("id"))
	}
	return a.individualOut(e), nil
}

func (a *API) deleteIndividual(r *http.Request, _ []byte) (any, error) {
	id := r.PathValue("id")
	e, ok := a.findIndividual(id)
	if !ok {
		return nil, fmt.Errorf("%w: enrollment %q", dps.ErrNotFound, id)
	}
	if err := checkETag(r.Header.Get("If-Match"), a.individualOut(e).ETag); err != nil {
		return nil, err
	}
	return nil, a.e.DPS().DeleteIndividualEnrollment(e.RegistrationID)
}

func (a *API) queryIndividuals(*http.Request, []byte) (any, error) {
	es := a.e.DPS().ListIndividualEnrollments()
	out := make([]individualJSON, 0, len(es))
	for _, e := range es {
		out = append(out, a.individualOut(e))
	}
	return out, nil
}

func (a *API) getRegistration(r *http.Request, _ []byte) (any, error) {
	id := r.PathValue("id")
	for _, reg := range a.e.DPS().Registrations() {
		if strings.EqualFold(reg.RegistrationID, id) {
			return reg, nil
		}
	}
	return nil, fmt.Errorf("%w: registration %q", dps.ErrNotFound, id)
}
