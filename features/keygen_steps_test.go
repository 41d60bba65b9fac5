package features

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cucumber/godog"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/nrf91modem"
	"github.com/modemsim/modemsim/pki"
)

func (w *world) registerKeygen(sc *godog.ScenarioContext) {
	sc.Step(`^nrfcredstore (1\.1\.1|2\.0\.9) generates a key in tag (\d+) with attributes "([^"]*)"$`, w.toolGenerate)
	sc.Step(`^nrfcredstore 2\.0\.9 generated a key in tag (\d+)$`, func(tag string) error {
		if err := w.toolGenerate("2.0.9", tag, ""); err != nil {
			return err
		}
		return w.lastErr
	})
	sc.Step("^the board answered `([^`]*)` with one %KEYGEN line and \"OK\"$", w.answeredKeygen)
	sc.Step(`^the CSR file it wrote passes "openssl req -inform DER -in csr\.der -noout -verify"$`, w.opensslVerifies)
	sc.Step(`^the CSR's subject is the board's device UUID$`, func() error { return w.csrSubject(`"CN=` + w.nrf91().Identity().DeviceUUID + `"`) })
	sc.Step(`^the CSR's subject is ("[^"]*")$`, w.csrSubject)
	sc.Step(`^the group CA signs the CSR and nrfcredstore 2\.0\.9 writes the certificate to tag (\d+) as CLIENT_CERT$`, w.signAndWrite)
	sc.Step(`^it lists the client certificate and the key, types 1 and 2, with the certificate's digest$`, w.listsCertAndKey)
	sc.Step(`^the certificate written holds the public key of the key in tag (\d+)$`, w.certMatchesKey)
	sc.Step(`^the board answers one %CMNG line for tag (\d+) type (\d+), then "OK"$`, w.answersOneCMNG)
	sc.Step(`^nrfcredstore 2\.0\.9 reads the attestation token$`, w.toolAttest)
	sc.Step(`^the token's device UUID is the board's device UUID$`, w.tokenUUID)
	sc.Step(`^its signature verifies with the board's exported identity key$`, w.tokenSignature)
}

func (w *world) csrPath() string { return filepath.Join(w.dir, "csr.der") }

func (w *world) toolGenerate(version, tag, attrs string) error {
	n, _ := strconv.ParseUint(tag, 10, 64)
	return w.withTool(version, func(v1 *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		var der []byte
		var err error
		if v1 != nil {
			der, err = v1.Generate(n, attrs)
		} else {
			der, err = v2.Generate(n, attrs)
		}
		if err != nil {
			return err
		}
		// The tool writes the DER to a file, as `nrfcredstore generate` does.
		return os.WriteFile(w.csrPath(), der, 0o644)
	})
}

var keygenAnswer = regexp.MustCompile(`^%KEYGEN: "[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"\r\nOK\r\n$`)

func (w *world) answeredKeygen(sent string) error {
	got := w.answers(sent)
	if len(got) == 0 {
		return fmt.Errorf("%q was never sent", sent)
	}
	if a := got[len(got)-1]; !keygenAnswer.Match(a) {
		return fmt.Errorf("answer to %q: %q", sent, a)
	}
	return nil
}

func (w *world) opensslVerifies() error {
	if _, err := exec.LookPath("openssl"); err != nil {
		return godog.ErrSkip
	}
	out, err := exec.Command("openssl", "req", "-inform", "DER", "-in", w.csrPath(), "-noout", "-verify").CombinedOutput()
	if err != nil {
		return fmt.Errorf("openssl: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "verify OK") && !strings.Contains(string(out), "Certificate request self-signature verify OK") {
		return fmt.Errorf("openssl said %q", out)
	}
	return nil
}

func (w *world) readCSR() (*x509.CertificateRequest, error) {
	der, err := os.ReadFile(w.csrPath())
	if err != nil {
		return nil, err
	}
	return modemkey.ParseCSR(der)
}

func (w *world) csrSubject(quoted string) error {
	csr, err := w.readCSR()
	if err != nil {
		return err
	}
	if got := `"` + csr.Subject.String() + `"`; got != quoted {
		return fmt.Errorf("CSR subject %s, want %s", got, quoted)
	}
	return nil
}

func (w *world) signAndWrite(tag string) error {
	csr, err := w.readCSR()
	if err != nil {
		return err
	}
	now := time.Now()
	ca, err := pki.NewCA(rand.Reader, "modemsim group CA", nil, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return err
	}
	cert, err := pki.SignCSR(csr, ca, now.Add(-time.Hour), now.Add(24*time.Hour))
	if err != nil {
		return err
	}
	w.files["device.pem"] = string(pki.EncodeCertsPEM(cert))
	return w.toolWrite("2.0.9", "device.pem", tag, "CLIENT_CERT")
}

func (w *world) listsCertAndKey() error {
	if w.lastErr != nil {
		return w.lastErr
	}
	if len(w.creds) != 2 || w.creds[0].Type != 1 || w.creds[1].Type != 2 {
		return fmt.Errorf("listed %v", w.creds)
	}
	// nrfcredstore writes the file rstrip()ed: that is what the modem hashed.
	sum := sha256.Sum256([]byte(strings.TrimRight(w.files["device.pem"], "\n")))
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); w.creds[0].SHA != want {
		return fmt.Errorf("certificate digest %s, want %s", w.creds[0].SHA, want)
	}
	return nil
}

func (w *world) certMatchesKey(tag string) error {
	n, _ := strconv.ParseUint(tag, 10, 32)
	keyPEM, err := w.nrf91().Store().Use(credstore.Key{Tag: uint32(n), Type: nrf91modem.TypeClientKey})
	if err != nil {
		return err
	}
	key, err := modemkey.ParsePrivateKeyPEM(keyPEM)
	if err != nil {
		return err
	}
	certPEM, err := w.nrf91().Store().Read(credstore.Key{Tag: uint32(n), Type: nrf91modem.TypeClientCert})
	if err != nil {
		return err
	}
	certs, err := pki.ParseCertsPEM(certPEM)
	if err != nil {
		return err
	}
	if !key.Public().(*ecdsa.PublicKey).Equal(certs[0].PublicKey) {
		return errors.New("the certificate does not hold the modem's key")
	}
	return nil
}

func (w *world) answersOneCMNG(tag, typ string) error {
	if len(w.answer) != 2 || w.answer[1] != "OK" ||
		!regexp.MustCompile(`^%CMNG: `+tag+`,`+typ+`,"[0-9A-F]{64}"$`).MatchString(w.answer[0]) {
		return fmt.Errorf("board answered %q", w.answer)
	}
	return nil
}

func (w *world) toolAttest() error {
	return w.withTool("2.0.9", func(_ *hosttool.CredStoreV1, v2 *hosttool.CredStoreV2) error {
		tok, err := v2.AttestationToken()
		w.files["token"] = tok
		return err
	})
}

func (w *world) token() (*modemkey.AttestationMessage, error) {
	if w.lastErr != nil {
		return nil, w.lastErr
	}
	return modemkey.ParseAttestationToken(w.files["token"])
}

func (w *world) tokenUUID() error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	if got := modemkey.FormatUUID(tok.DeviceUUID); got != w.nrf91().Identity().DeviceUUID {
		return fmt.Errorf("token UUID %s, board %s", got, w.nrf91().Identity().DeviceUUID)
	}
	return nil
}

func (w *world) tokenSignature() error {
	tok, err := w.token()
	if err != nil {
		return err
	}
	pubPEM, err := os.ReadFile(filepath.Join(w.dir, "nrf91", "identity-key.pub.pem"))
	if err != nil {
		return err
	}
	pub, err := modemkey.ParsePublicKeyPEM(pubPEM)
	if err != nil {
		return err
	}
	_, err = modemkey.VerifyCOSE(pub, tok.COSE, tok.Body)
	return err
}
