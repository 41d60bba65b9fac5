package pki

import (
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"strings"
	"time"
)

// RootName is the subject common name of a public root CA that Azure IoT Hub
// or DPS server chains end in. The emulator holds a stand-in root of each name.
type RootName string

// The roots of the Azure hub/DPS server chains (azure-iot-hub.md §3.3 [doc D-MIG, D-CA]).
const (
	// BaltimoreCyberTrustRoot anchored hub chains until the 2023 migration and
	// DPS chains until 15 Feb 2024; it expired on 12 May 2025.
	BaltimoreCyberTrustRoot RootName = "Baltimore CyberTrust Root"
	// DigiCertGlobalRootG2 anchors hub chains since 2023 and DPS since 15 Feb 2024.
	DigiCertGlobalRootG2 RootName = "DigiCert Global Root G2"
	// MicrosoftRSARoot2017 is the second root Microsoft recommends devices trust.
	MicrosoftRSARoot2017 RootName = "Microsoft RSA Root Certificate Authority 2017"
)

// RootNames lists the roots the PKI can stand in for, in migration order.
func RootNames() []RootName {
	return []RootName{BaltimoreCyberTrustRoot, DigiCertGlobalRootG2, MicrosoftRSARoot2017}
}

// RealRoot holds facts about a real public root certificate: enough to
// recognise its public PEM on a device and to give its stand-in the same
// shape. Fingerprints are uppercase hex of the DER, as Azure shows them.
type RealRoot struct {
	Name      RootName
	SHA256    string
	SHA1      string
	NotBefore time.Time
	NotAfter  time.Time
	// SubjectKeyID is the uppercase hex Subject Key Identifier of the real
	// root. The stand-in does NOT carry it: its own key id is derived from
	// its own key, so a client that trusts the system store (holding the real
	// root of the same name) next to the stand-ins builds the path through
	// the stand-in (OpenSSL and Node skip a candidate issuer whose key id
	// differs from the child's Authority Key Identifier). A module that looks
	// its anchor up by the real key id (FAILURE-CASES S2/S4) maps the served
	// key id back with PKI.RealKeyID.
	SubjectKeyID string
}

// RealRoots returns the facts about the real public roots.
//
// Source: the public certificates shipped in Debian ca-certificates
// (/usr/share/ca-certificates/mozilla/{Baltimore_CyberTrust_Root,
// DigiCert_Global_Root_G2,Microsoft_RSA_Root_Certificate_Authority_2017}.crt),
// copied to testdata/ where a test recomputes every value. The SHA-1 values of
// DigiCert G2 and Microsoft 2017 agree with azure-iot-hub.md §3.3 [doc D-MIG, D-TLS25].
func RealRoots() []RealRoot {
	return []RealRoot{
		{
			Name:         BaltimoreCyberTrustRoot,
			SHA256:       "16AF57A9F676B0AB126095AA5EBADEF22AB31119D644AC95CD4B93DBF3F26AEB",
			SHA1:         "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
			NotBefore:    time.Date(2000, time.May, 12, 18, 46, 0, 0, time.UTC),
			NotAfter:     time.Date(2025, time.May, 12, 23, 59, 0, 0, time.UTC),
			SubjectKeyID: "E59D5930824758CCACFA085436867B3AB5044DF0",
		},
		{
			Name:         DigiCertGlobalRootG2,
			SHA256:       "CB3CCBB76031E5E0138F8DD39A23F9DE47FFC35E43C1144CEA27D46A5AB1CB5F",
			SHA1:         "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
			NotBefore:    time.Date(2013, time.August, 1, 12, 0, 0, 0, time.UTC),
			NotAfter:     time.Date(2038, time.January, 15, 12, 0, 0, 0, time.UTC),
			SubjectKeyID: "4E2254201895E6E36EE60FFAFAB912ED06178F39",
		},
		{
			Name:         MicrosoftRSARoot2017,
			SHA256:       "C741F70F4B2A8D88BF2E71C14122EF53EF10EBA0CFA5E64CFA20F418853073E0",
			SHA1:         "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
			NotBefore:    time.Date(2019, time.December, 18, 22, 51, 22, 0, time.UTC),
			NotAfter:     time.Date(2042, time.July, 18, 23, 0, 23, 0, time.UTC),
			SubjectKeyID: "09CB597F86B2708F1AC339E3C0D9E9BFBB4DB223",
		},
	}
}

// LookupRealRoot reports which stand-in replaces c when c is one of the real
// public roots, matched by the SHA-256 fingerprint of its DER. A certificate
// that merely carries a real root's name (such as a stand-in) does not match.
func LookupRealRoot(c *x509.Certificate) (RootName, bool) {
	if c == nil {
		return "", false
	}
	fp := ThumbprintSHA256(c)
	for _, r := range RealRoots() {
		if r.SHA256 == fp {
			return r.Name, true
		}
	}
	return "", false
}

func realRoot(name RootName) (RealRoot, bool) {
	for _, r := range RealRoots() {
		if r.Name == name {
			return r, true
		}
	}
	return RealRoot{}, false
}

// rootSpec is the shape of a stand-in root and of the issuing CA the emulator
// puts below it.
type rootSpec struct {
	subject  pkix.Name
	keyBits  int
	sigAlg   x509.SignatureAlgorithm
	keyUsage x509.KeyUsage
	// maxPathLen < 0 means no path length constraint.
	maxPathLen int
	issuing    issuingSpec
}

// issuingSpec describes the intermediate that signs server leaves.
type issuingSpec struct {
	subject pkix.Name
	keyBits int
	// sigAlg is what the root signs the issuing CA with.
	sigAlg x509.SignatureAlgorithm
	// leafSigAlg is what the issuing CA signs server leaves with.
	leafSigAlg x509.SignatureAlgorithm
	// Extension contents that make the certificate the size of the real one
	// (FAILURE-CASES WS4: record-size limits depend on it).
	ocsp, caIssuers, crl []string
	leafOCSP             []string
	leafCAIssuers        []string
	leafCRL              []string
}

// azureRSAIssuingCA03 is the issuing CA name of the current hub chains.
// Facts from the public certificate (DigiCert G2 → Microsoft Azure RSA TLS
// Issuing CA 03, serial 0519652644...): C=US, O=Microsoft Corporation,
// RSA 4096, sha384WithRSA, pathlen 0, EKU serverAuth+clientAuth, AIA/CRL at
// DigiCert (azure-iot-hub.md §3.3 [obs]). Microsoft also publishes an "xsign"
// variant of the same CA under Microsoft RSA Root 2017 [I: same shape used].
const azureRSAIssuingCA03 = "Microsoft Azure RSA TLS Issuing CA 03"

// microsoftITTLSCA4 is the issuing CA name of the Baltimore-era chains.
// Facts (azure-CA-details.md [doc D-CA]): CN=Microsoft IT TLS CA 4,
// OU=Microsoft IT, O=Microsoft Corporation, L=Redmond, ST=Washington, C=US,
// RSA 4096, sha256RSA, valid 2016-05-20 – 2024-05-20; leaves it signed were
// sha256WithRSA [obs].
const microsoftITTLSCA4 = "Microsoft IT TLS CA 4"

// Leaf AIA/CRL locations of Microsoft-issued server certificates [I: the
// pkiops URL scheme Microsoft publishes its issuing CAs under; only their
// size matters here, nothing fetches them].
const (
	microsoftOCSP      = "http://oneocsp.microsoft.com/ocsp"
	microsoftPKIOpsURL = "http://www.microsoft.com/pkiops/"
)

func rootSpecs(name RootName) (rootSpec, bool) {
	azureIssuing := func(rootFile string, ocsp string) issuingSpec {
		escaped := strings.ReplaceAll(azureRSAIssuingCA03, " ", "%20")
		return issuingSpec{
			subject:       pkix.Name{Country: []string{"US"}, Organization: []string{"Microsoft Corporation"}, CommonName: azureRSAIssuingCA03},
			keyBits:       4096,
			sigAlg:        x509.SHA384WithRSA,
			leafSigAlg:    x509.SHA384WithRSA, // [I] same family as the CA's own signature
			ocsp:          []string{ocsp},
			caIssuers:     []string{rootFile + ".crt"},
			crl:           []string{rootFile + ".crl"},
			leafOCSP:      []string{microsoftOCSP},
			leafCAIssuers: []string{microsoftPKIOpsURL + "certs/" + escaped + "%20-%20xsign.crt"},
			leafCRL:       []string{microsoftPKIOpsURL + "crl/" + escaped + ".crl"},
		}
	}
	switch name {
	case BaltimoreCyberTrustRoot:
		escaped := strings.ReplaceAll(microsoftITTLSCA4, " ", "%20")
		return rootSpec{
			// Real: C=IE, O=Baltimore, OU=CyberTrust; RSA 2048; sha1WithRSA;
			// pathlen 3; keyCertSign+cRLSign (testdata/Baltimore_CyberTrust_Root.crt).
			subject:    pkix.Name{Country: []string{"IE"}, Organization: []string{"Baltimore"}, OrganizationalUnit: []string{"CyberTrust"}, CommonName: string(name)},
			keyBits:    2048,
			sigAlg:     x509.SHA1WithRSA,
			keyUsage:   x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			maxPathLen: 3,
			issuing: issuingSpec{
				subject: pkix.Name{
					Country: []string{"US"}, Province: []string{"Washington"}, Locality: []string{"Redmond"},
					Organization: []string{"Microsoft Corporation"}, OrganizationalUnit: []string{"Microsoft IT"},
					CommonName: microsoftITTLSCA4,
				},
				keyBits:       4096,
				sigAlg:        x509.SHA256WithRSA,
				leafSigAlg:    x509.SHA256WithRSA,
				ocsp:          []string{"http://ocsp.digicert.com"}, // [doc D-CA] Omniroot CRL/OCSP at DigiCert
				crl:           []string{"http://crl3.digicert.com/Omniroot2025.crl"},
				leafOCSP:      []string{"http://ocsp.msocsp.com"}, // [I]
				leafCAIssuers: []string{microsoftPKIOpsURL + "mscorp/" + escaped + ".crt"},
				leafCRL:       []string{microsoftPKIOpsURL + "mscorp/crl/" + escaped + ".crl"},
			},
		}, true
	case DigiCertGlobalRootG2:
		return rootSpec{
			// Real: C=US, O=DigiCert Inc, OU=www.digicert.com; RSA 2048;
			// sha256WithRSA; digitalSignature+keyCertSign+cRLSign.
			subject:    pkix.Name{Country: []string{"US"}, Organization: []string{"DigiCert Inc"}, OrganizationalUnit: []string{"www.digicert.com"}, CommonName: string(name)},
			keyBits:    2048,
			sigAlg:     x509.SHA256WithRSA,
			keyUsage:   x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			maxPathLen: -1,
			issuing:    azureIssuing("http://cacerts.digicert.com/DigiCertGlobalRootG2", "http://ocsp.digicert.com"),
		}, true
	case MicrosoftRSARoot2017:
		return rootSpec{
			// Real: C=US, O=Microsoft Corporation; RSA 4096; sha384WithRSA;
			// digitalSignature+keyCertSign+cRLSign.
			subject:    pkix.Name{Country: []string{"US"}, Organization: []string{"Microsoft Corporation"}, CommonName: string(name)},
			keyBits:    4096,
			sigAlg:     x509.SHA384WithRSA,
			keyUsage:   x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
			maxPathLen: -1,
			issuing: azureIssuing(microsoftPKIOpsURL+"certs/Microsoft%20RSA%20Root%20Certificate%20Authority%202017",
				microsoftOCSP),
		}, true
	}
	return rootSpec{}, false
}

// IssuingCAName is the common name of the issuing CA the emulator puts below
// the stand-in root (the real era's intermediate).
func IssuingCAName(root RootName) (string, bool) {
	s, ok := rootSpecs(root)
	if !ok {
		return "", false
	}
	return s.issuing.subject.CommonName, true
}

func mustHex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		// The table is a literal checked by tests; a bad entry is a programming error.
		panic("pki: bad hex in root table: " + s)
	}
	return b
}

func thumb256(der []byte) string {
	sum := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}
