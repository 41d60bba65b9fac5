package scenarios

import (
	"bytes"
	"context"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modemsim/modemsim/firmware"
	"github.com/modemsim/modemsim/hosttool"
	"github.com/modemsim/modemsim/modemkey"
	"github.com/modemsim/modemsim/mqttcerts"
	"github.com/modemsim/modemsim/persona/azuresample"
	"github.com/modemsim/modemsim/pki"
	"github.com/modemsim/modemsim/sas"
)

// files are the certificates and sources the cases use: public roots as
// Debian ships them (copies of pki/testdata) and the forum threads' files,
// whose only copy is here (files/README.md). Embedded, so `modemsim demo`
// runs anywhere.
//
//go:embed files
var files embed.FS

// File returns one of the cases' files by name.
func File(name string) ([]byte, error) {
	b, err := files.ReadFile("files/" + name)
	if err != nil {
		return nil, fmt.Errorf("scenarios: no file %q: %w", name, err)
	}
	return b, nil
}

// RealRootFiles name the real public roots' files.
var realRootFiles = map[string]string{
	"Baltimore CyberTrust Root": "Baltimore_CyberTrust_Root.pem",
	"DigiCert Global Root G2":   "DigiCert_Global_Root_G2.pem",
}

// RealRootPEM returns a real public root (by its common name) as Debian ships it.
func RealRootPEM(name string) ([]byte, error) {
	f, ok := realRootFiles[name]
	if !ok {
		return nil, fmt.Errorf("scenarios: no real root %q", name)
	}
	return File(f)
}

// Action is what a step does. The set is closed: a new kind of step is a
// new type here, every case is data built from them.
type Action interface {
	// do performs the action on board b (nil for a hub-side action) and
	// returns what was sent or done, in words.
	do(ctx context.Context, r *run, b *boardRun) (string, error)
}

// content resolves a content source:
//
//	file:NAME       a file of the cases, as it is
//	file-trim:NAME  the same without its final line end
//	file-crlf:NAME  the same with CRLF line ends
//	der:NAME        the DER of its first PEM block
//	root:NAME       a real public root by common name ("DigiCert Global Root G2")
//	root-trim:NAME  the same without its final line end
//	ca:NAME         an own CA's certificate PEM
//	chain:CN        a device certificate followed by its CA (device_fullchain.pem)
//	key:CN          a device certificate's private key PEM
//	hex:HEX         bytes (spaces allowed)
//	text:TEXT       text, with \n and \r escapes
func (r *run) content(src string) ([]byte, error) {
	kind, arg, ok := strings.Cut(src, ":")
	if !ok {
		return nil, fmt.Errorf("content %q: no kind", src)
	}
	switch kind {
	case "file":
		return File(arg)
	case "file-trim":
		b, err := File(arg)
		return bytes.TrimRight(b, "\r\n"), err
	case "file-crlf":
		b, err := File(arg)
		return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")), err
	case "der":
		b, err := File(arg)
		if err != nil {
			return nil, err
		}
		blk, _ := pem.Decode(b)
		if blk == nil {
			return nil, fmt.Errorf("content %q: no PEM block", src)
		}
		return blk.Bytes, nil
	case "root":
		return RealRootPEM(arg)
	case "root-trim":
		b, err := RealRootPEM(arg)
		return bytes.TrimRight(b, "\r\n"), err
	case "ca":
		ca, ok := r.cas[arg]
		if !ok {
			return nil, fmt.Errorf("content %q: no CA", src)
		}
		return ca.CertPEM(), nil
	case "ca-key":
		ca, ok := r.cas[arg]
		if !ok {
			return nil, fmt.Errorf("content %q: no CA", src)
		}
		return ca.KeyPEM()
	case "leaf":
		leaf, ok := r.certs[arg]
		if !ok {
			return nil, fmt.Errorf("content %q: no device certificate", src)
		}
		return leaf.CertPEM(), nil
	case "chain":
		leaf, ok := r.certs[arg]
		if !ok {
			return nil, fmt.Errorf("content %q: no device certificate", src)
		}
		return append(append([]byte{}, leaf.CertPEM()...), r.cas[r.issuer[arg]].CertPEM()...), nil
	case "key":
		leaf, ok := r.certs[arg]
		if !ok {
			return nil, fmt.Errorf("content %q: no device certificate", src)
		}
		return leaf.KeyPEM()
	case "cstr":
		// cstr:<source>: the source as C string-literal lines (mqtt-certs.h's PEM files).
		b, err := r.content(arg)
		return mqttcerts.CStringLines(b), err
	case "hex":
		return hex.DecodeString(strings.ReplaceAll(arg, " ", ""))
	case "text":
		return []byte(strings.NewReplacer(`\r`, "\r", `\n`, "\n").Replace(arg)), nil
	}
	return nil, fmt.Errorf("content %q: unknown kind %q", src, kind)
}

var ansiSeq = regexp.MustCompile(`\x1b(\[[0-?]*[ -/]*[@-~]|[78])`)

var placeholder = regexp.MustCompile(`\{([A-Za-z_-]+)(?::([^{}]*))?\}`)

// expand replaces placeholders in a line the host types:
//
//	{HUB} the hub's host name, {ID_SCOPE} DPS's ID scope,
//	{HUB_MQTT} {HUB_WS} the hub's addresses, {PKI_DIR} its stand-in PKI,
//	{NOW_UNIX} the simulation time, {CSR_CN} / {DEVICE_ID} the subject of
//	the board's last %KEYGEN CSR,
//	{SAS:id} a token for device id valid an hour, {SAS:id:+24h} for a
//	duration, {SAS:id:@1521901101} expiring then,
//	{<content source>} the content (see content).
func (r *run) expand(s string, b *boardRun) (string, error) {
	var errs []error
	out := placeholder.ReplaceAllStringFunc(s, func(m string) string {
		sub := placeholder.FindStringSubmatch(m)
		v, err := r.value(sub[1], sub[2], b)
		if err != nil {
			errs = append(errs, err)
		}
		return v
	})
	return out, errors.Join(errs...)
}

func (r *run) value(name, arg string, b *boardRun) (string, error) {
	if b != nil {
		if v, ok := b.vars[name]; ok {
			return v, nil
		}
	}
	needHub := func() error {
		if r.emu == nil {
			return fmt.Errorf("{%s}: the case has no hub", name)
		}
		return nil
	}
	switch name {
	case "HUB", "ID_SCOPE", "HUB_MQTT", "HUB_WS", "PKI_DIR", "SAS":
		if err := needHub(); err != nil {
			return "", err
		}
	}
	switch name {
	case "HUB":
		return r.emu.HostName(), nil
	case "ID_SCOPE":
		return r.emu.DPS().IDScope(), nil
	case "HUB_MQTT":
		return r.emu.MQTTAddr(), nil
	case "HUB_WS":
		return r.emu.WebSocketAddr(), nil
	case "PKI_DIR":
		return r.pki.Dir(), nil
	case "NOW_UNIX":
		return strconv.FormatInt(r.now().Unix(), 10), nil
	case "SAS":
		return r.sasToken(arg)
	}
	if arg != "" {
		c, err := r.content(name + ":" + arg)
		return string(c), err
	}
	return "", fmt.Errorf("unknown placeholder {%s}", name)
}

// sasToken signs with the device's primary key over the resource string as
// the SDKs escape it ("%2F").
func (r *run) sasToken(arg string) (string, error) {
	id, when, _ := strings.Cut(arg, ":")
	d, err := r.emu.Device(id)
	if err != nil {
		return "", fmt.Errorf("{SAS:%s}: %w", arg, err)
	}
	key, err := base64.StdEncoding.DecodeString(d.PrimaryKey)
	if err != nil {
		return "", fmt.Errorf("{SAS:%s}: key: %w", arg, err)
	}
	expiry := r.now().Add(time.Hour)
	switch {
	case strings.HasPrefix(when, "+"):
		d, err := time.ParseDuration(when[1:])
		if err != nil {
			return "", fmt.Errorf("{SAS:%s}: %w", arg, err)
		}
		expiry = r.now().Add(d)
	case strings.HasPrefix(when, "@"):
		n, err := strconv.ParseInt(when[1:], 10, 64)
		if err != nil {
			return "", fmt.Errorf("{SAS:%s}: %w", arg, err)
		}
		expiry = time.Unix(n, 0)
	}
	return sas.Sign(url.QueryEscape(r.emu.HostName()+"/devices/"+id), key, expiry, ""), nil
}

// terminator is what ends a typed line on b.
func terminator(b *boardRun) string {
	if b.spec.Terminator == "" {
		return "\r\n"
	}
	return b.spec.Terminator
}

// ellipsis shortens long commands (a PEM inside AT%CMNG) for the step list.
func ellipsis(s string) string {
	if len(s) > 160 {
		s = s[:110] + " … " + s[len(s)-40:]
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}

// Type is a line the host types (placeholders expanded), then its
// terminator, then Payload's bytes if any (a content source: the SPWF04
// reads a certificate after its command line).
type Type struct {
	Line    string
	Payload string
}

func (t Type) do(_ context.Context, r *run, b *boardRun) (string, error) {
	line, err := r.expand(t.Line, b)
	if err != nil {
		return "", err
	}
	out := append([]byte(line), terminator(b)...)
	said := line
	if t.Payload != "" {
		p, err := r.content(t.Payload)
		if err != nil {
			return "", err
		}
		r.chains.addPEM("written to "+b.name+" ("+t.Payload+")", p)
		out = append(out, p...)
		said += fmt.Sprintf(" + %d bytes of %s", len(p), t.Payload)
	}
	for _, m := range placeholder.FindAllStringSubmatch(t.Line, -1) {
		if m[2] != "" && m[1] != "SAS" {
			if c, err := r.content(m[1] + ":" + m[2]); err == nil {
				r.chains.addPEM("written to "+b.name+" ("+m[1]+":"+m[2]+")", c)
			}
		}
	}
	return ellipsis(said), b.port.Write(out)
}

// Register is AT+CFUN=1 and the wait until the nRF91 modem has registered
// on the simulated LTE network.
type Register struct{}

func (Register) do(ctx context.Context, r *run, b *boardRun) (string, error) {
	n, ok := b.b.NRF91()
	if !ok {
		return "", fmt.Errorf("%s has no nRF91 modem", b.name)
	}
	if err := b.port.Write([]byte("AT+CFUN=1" + terminator(b))); err != nil {
		return "", err
	}
	if err := r.await(ctx, b, []string{"OK"}); err != nil {
		return "", err
	}
	deadline := time.Now().Add(r.opts.Wait)
	for !n.Registered() {
		if err := ctx.Err(); err != nil {
			return "AT+CFUN=1", err
		}
		if time.Now().After(deadline) {
			return "AT+CFUN=1", errors.New("the modem did not register")
		}
		b.port.ReadFor(10 * time.Millisecond)
	}
	return "AT+CFUN=1 (and wait for registration)", nil
}

// Flash flashes a persona (the board reboots, its store stays). PrjConf,
// when set, is the azure_iot_hub sample's prj.conf (placeholders expanded).
type Flash struct {
	Persona string
	PrjConf string
}

func (f Flash) do(_ context.Context, r *run, b *boardRun) (string, error) {
	var knobs firmware.Knobs
	said := "flash " + f.Persona
	if f.PrjConf != "" {
		conf, err := r.expand(f.PrjConf, b)
		if err != nil {
			return "", err
		}
		path := filepath.Join(r.dir, b.name+"-prj.conf")
		if err := os.WriteFile(path, []byte(conf+"\n"), 0o644); err != nil {
			return "", fmt.Errorf("prj.conf: %w", err)
		}
		knobs = firmware.Knobs{"prj_conf": []any{path}}
		said += " built from prj.conf:\n" + conf
	}
	return said, b.b.Flash(f.Persona, knobs)
}

// credTypes are nrfcredstore's type names [S nrf91.md §5].
var credTypes = map[string]int{"ROOT_CA_CERT": 0, "CLIENT_CERT": 1, "CLIENT_KEY": 2, "PSK": 3}

// Tool runs one nrfcredstore command (1.1.1 or 2.0.9) on the board's port,
// as the tool does it; what it concludes is noted as "nrfcredstore: …".
type Tool struct {
	Version string // "1.1.1", "2.0.9"
	Op      string // "list", "write", "delete", "imei"
	Tag     uint64
	Type    string // ROOT_CA_CERT, CLIENT_CERT, CLIENT_KEY, PSK
	File    string // write: a content source
}

func (t Tool) do(ctx context.Context, r *run, b *boardRun) (string, error) {
	said := fmt.Sprintf("nrfcredstore %s %s", t.Version, t.Op)
	if t.Op != "imei" && (t.Op != "list" || t.Tag != 0) {
		said += fmt.Sprintf(" %d", t.Tag)
	}
	if t.Type != "" {
		said += " " + t.Type
	}
	if t.File != "" {
		said += " " + t.File
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Wait)
	defer cancel()
	var text string
	if t.File != "" {
		c, err := r.content(t.File)
		if err != nil {
			return said, err
		}
		text = string(c)
		r.chains.addPEM("written by nrfcredstore to "+b.name+" ("+t.File+")", c)
	}
	type tool interface {
		List(filter ...int) ([]hosttool.Credential, error)
		Write(tag uint64, typ int, text string) error
		Delete(tag uint64, typ int) error
	}
	var tl tool
	var imei func() (string, error)
	if t.Version == "1.1.1" {
		v1 := &hosttool.CredStoreV1{S: b.port}
		if err := v1.Start(); err != nil {
			return said, err
		}
		tl = v1
	} else {
		v2 := &hosttool.CredStoreV2{S: b.port, Pause: 5 * time.Millisecond}
		if _, err := v2.Start(ctx); err != nil {
			return said, err
		}
		tl, imei = v2, v2.IMEI
	}
	var err error
	switch t.Op {
	case "list":
		var filter []int
		if t.Tag != 0 {
			filter = append(filter, int(t.Tag))
		}
		var creds []hosttool.Credential
		creds, err = tl.List(filter...)
		r.feed(b)
		for _, c := range creds {
			b.note(fmt.Sprintf("nrfcredstore: %d %d %s", c.Tag, c.Type, c.SHA))
		}
		if err == nil && len(creds) == 0 {
			b.note("nrfcredstore: no credentials")
		}
	case "write":
		err = tl.Write(t.Tag, credTypes[t.Type], text)
	case "delete":
		err = tl.Delete(t.Tag, credTypes[t.Type])
	case "imei":
		if imei == nil {
			return said, errors.New("imei needs nrfcredstore 2.0.9")
		}
		var v string
		v, err = imei()
		r.feed(b)
		b.note("nrfcredstore: " + v)
	default:
		return said, fmt.Errorf("unknown nrfcredstore op %q", t.Op)
	}
	r.feed(b)
	var ae *hosttool.ATError
	switch {
	case errors.As(err, &ae):
		// The tool's failure is the board's answer: the Outcome judges it.
		b.note("nrfcredstore: failed")
	case err != nil:
		return said, err
	default:
		b.note("nrfcredstore: done")
	}
	return said, nil
}

// keygenLine is the %KEYGEN answer: the CSR and its COSE_Sign1 [S nrf91.md §4].
var keygenLine = regexp.MustCompile(`^%KEYGEN: "([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)"$`)

// KeyGen is D4's provisioning: AT%KEYGEN makes the key in the modem, the
// CSR is signed by Signer and the certificate (followed by the CA when
// WithCA) written back as type 1 to the same tag. The CSR's subject becomes
// {CSR_CN} and {DEVICE_ID} on that board.
type KeyGen struct {
	Tag    uint32
	Signer string
	WithCA bool
}

func (k KeyGen) do(ctx context.Context, r *run, b *boardRun) (string, error) {
	ca, ok := r.cas[k.Signer]
	if !ok {
		return "", fmt.Errorf("no CA %q", k.Signer)
	}
	cmd := fmt.Sprintf("AT%%KEYGEN=%d,2,0", k.Tag)
	if err := b.port.Write([]byte(cmd + terminator(b))); err != nil {
		return cmd, err
	}
	if err := r.await(ctx, b, []string{"%KEYGEN: *", "OK"}); err != nil {
		return cmd, err
	}
	var m []string
	for i := b.seen - 1; i >= 0 && m == nil; i-- {
		m = keygenLine.FindStringSubmatch(b.lines[i])
	}
	if m == nil {
		return cmd, errors.New("no %KEYGEN line")
	}
	der, err := base64.RawURLEncoding.DecodeString(m[1])
	if err != nil {
		return cmd, fmt.Errorf("%%KEYGEN CSR: %w", err)
	}
	csr, err := modemkey.ParseCSR(der)
	if err != nil {
		return cmd, err
	}
	cert, err := pki.SignCSR(csr, ca, r.now().Add(-time.Hour), r.now().Add(24*time.Hour))
	if err != nil {
		return cmd, err
	}
	b.vars["CSR_CN"], b.vars["DEVICE_ID"] = csr.Subject.CommonName, csr.Subject.CommonName
	r.chains.add(fmt.Sprintf("%s: certificate for the %%KEYGEN key in tag %d, signed by %s", b.name, k.Tag, k.Signer), cert, ca.Cert)
	p := pki.EncodeCertsPEM(cert)
	if k.WithCA {
		p = append(p, ca.CertPEM()...)
	}
	write := fmt.Sprintf(`AT%%CMNG=0,%d,1,"%s"`, k.Tag, strings.TrimRight(string(p), "\n"))
	if err := b.port.Write([]byte(write + terminator(b))); err != nil {
		return cmd, err
	}
	if err := r.await(ctx, b, []string{"OK"}); err != nil {
		return cmd, err
	}
	return cmd + "; " + k.Signer + " signs the CSR (CN " + csr.Subject.CommonName + "); " + ellipsis(write), nil
}

// CredShell drives the nRF7002 DK's Zephyr shell as nrfcredstore's TLS
// shell interface does: "write" provisions a file to a sec tag; "check"
// asks for its digest and compares it with the one the tool expects.
type CredShell struct {
	Op   string // "write", "check"
	Tag  uint64
	Type string // CA, SERV, PK
	File string // a content source
}

// zshellTypes are the cred shell's type names [S zephyr-shell.md].
var zshellTypes = map[string]int{"CA": 0, "SERV": 1, "PK": 2}

func (c CredShell) do(_ context.Context, r *run, b *boardRun) (string, error) {
	said := fmt.Sprintf("nrfcredstore --cmd-type tls_cred_shell %s %d %s %s", c.Op, c.Tag, c.Type, c.File)
	typ, ok := zshellTypes[c.Type]
	if !ok {
		return said, fmt.Errorf("unknown cred type %q", c.Type)
	}
	content, err := r.content(c.File)
	if err != nil {
		return said, err
	}
	text := strings.TrimRight(string(content), "\n")
	sh := &hosttool.TLSCredShell{S: b.port}
	switch c.Op {
	case "write":
		r.chains.addPEM("written to "+b.name+" by the TLS shell ("+c.File+")", content)
		err = sh.Write(c.Tag, typ, text)
		r.feed(b)
		if err == nil {
			b.note("nrfcredstore: written")
		}
	case "check":
		var got string
		got, err = sh.Digest(c.Tag, typ)
		r.feed(b)
		if want := hosttool.ExpectedTLSDigest(text); err == nil {
			if got != want {
				return said, fmt.Errorf("digest %s, nrfcredstore expects %s", got, want)
			}
			b.note("nrfcredstore: digest " + got + " as expected")
		}
	default:
		return said, fmt.Errorf("unknown cred shell op %q", c.Op)
	}
	return said, err
}

// FlashSample builds the azure_iot_hub sample for the nRF7002 DK from an
// application folder — prj.conf, the board fragment, mqtt-certs.h and the
// PEM files it includes — and flashes it; the sample then boots, joins the
// board's access point and connects, printing its log on the port.
type FlashSample struct {
	PrjConf   string            // placeholders expanded
	BoardConf string            // boards/nrf7002dk_nrf5340_cpuapp.conf; "" the sample's own
	Files     map[string]string // application file → content source (see content)
	Settings  map[string]any    // the persona's settings (websocket_patch, …)
}

func (f FlashSample) do(_ context.Context, r *run, b *boardRun) (string, error) {
	said := "build and flash the azure_iot_hub sample for the nRF7002 DK"
	dir := filepath.Join(r.dir, b.name+"-app")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return said, fmt.Errorf("application folder: %w", err)
	}
	write := func(name string, data []byte) (string, error) {
		path := filepath.Join(dir, name)
		return path, os.WriteFile(path, data, 0o644)
	}
	conf, err := r.expand(f.PrjConf, b)
	if err != nil {
		return said, err
	}
	prj, err := write("prj.conf", []byte(conf+"\n"))
	if err != nil {
		return said, fmt.Errorf("prj.conf: %w", err)
	}
	knobs := firmware.Knobs{"prj_conf": []any{prj}}
	if f.BoardConf != "" {
		if knobs["board_conf"], err = write(dkBoardConfFile, []byte(f.BoardConf+"\n")); err != nil {
			return said, fmt.Errorf("board fragment: %w", err)
		}
	}
	names := slices.Sorted(maps.Keys(f.Files))
	for _, name := range names {
		data, err := r.content(f.Files[name])
		if err != nil {
			return said, fmt.Errorf("%s: %w", name, err)
		}
		if strings.HasSuffix(name, ".pem") {
			r.chains.addPEM("compiled into "+b.name+"'s sample as "+name+" ("+f.Files[name]+")", cStringsPEM(data))
		}
		if _, err := write(name, data); err != nil {
			return said, fmt.Errorf("%s: %w", name, err)
		}
	}
	for k, v := range f.Settings {
		knobs[k] = v
	}
	said += " built from prj.conf:\n" + conf
	if len(names) > 0 {
		said += "\nwith " + strings.Join(names, ", ")
		for _, name := range names {
			said += "\n  " + name + ": " + f.Files[name]
		}
	}
	if len(f.Settings) > 0 {
		js, err := json.Marshal(f.Settings) // sorted keys
		if err != nil {
			return said, fmt.Errorf("settings: %w", err)
		}
		said += "\nwith the settings " + string(js)
	}
	return said, b.b.Flash(azuresample.Name, knobs)
}

// dkBoardConfFile is the application's own board fragment (the forum
// user's), which replaces the sample's.
const dkBoardConfFile = "nrf7002dk_nrf5340_cpuapp.conf"

// cStringsPEM undoes mqttcerts.CStringLines for the chains a demo shows (a file that is
// not C string lines comes back as it is).
func cStringsPEM(data []byte) []byte {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, `"`) || !strings.HasSuffix(l, `\n"`) {
			return data
		}
		out = append(out, strings.TrimSuffix(strings.TrimPrefix(l, `"`), `\n"`))
	}
	return []byte(strings.Join(out, "\n") + "\n")
}

// VerifyDPSCA is the portal's proof of possession for a CA already uploaded.
type VerifyDPSCA struct{ CA string }

func (v VerifyDPSCA) do(_ context.Context, r *run, _ *boardRun) (string, error) {
	svc := r.emu.DPS()
	ca, ok := r.cas[v.CA]
	if !ok {
		return "", fmt.Errorf("no CA %q", v.CA)
	}
	code, err := svc.VerificationCode(v.CA)
	if err != nil {
		return "", err
	}
	proof, err := pki.NewVerificationCert(nil, code, ca, r.now())
	if err != nil {
		return "", err
	}
	r.chains.add("proof of possession for "+v.CA+" (CN = verification code)", proof, ca.Cert)
	if _, err := svc.VerifyCA(v.CA, pki.EncodeCertsPEM(proof)); err != nil {
		return "", err
	}
	return fmt.Sprintf("DPS: verification code %s, certificate signed by %s's key, verified", code, v.CA), nil
}

// AddGroup creates a DPS enrollment group.
type AddGroup struct{ Group Group }

func (a AddGroup) do(_ context.Context, r *run, _ *boardRun) (string, error) {
	return fmt.Sprintf("DPS: enrollment group %s with %s", a.Group.ID, a.Group.CA), r.addGroup(a.Group)
}

// AddDevice creates a registry entry; ID may name a board variable
// ({CSR_CN}) of the step's board.
type AddDevice struct{ Device Device }

func (a AddDevice) do(_ context.Context, r *run, b *boardRun) (string, error) {
	d := a.Device
	id, err := r.expand(d.ID, b)
	if err != nil {
		return "", err
	}
	d.ID = id
	return fmt.Sprintf("hub: device %s (%s)", d.ID, d.Auth), r.addDevice(d)
}

// SendC2D is a cloud-to-device message from the hub's service side.
type SendC2D struct{ Device, Payload string }

func (s SendC2D) do(_ context.Context, r *run, _ *boardRun) (string, error) {
	id, err := r.emu.SendC2D(s.Device, []byte(s.Payload), nil)
	return fmt.Sprintf("hub: cloud-to-device %q to %s (message %s)", s.Payload, s.Device, id), err
}
