package azuresample

import (
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/modemsim/modemsim/credstore"
	"github.com/modemsim/modemsim/mqttcerts"
	"github.com/modemsim/modemsim/netstack"
	"github.com/modemsim/modemsim/netstack/errmap"
)

// mbedTLSInContentLenDefault is mbedTLS's own MBEDTLS_SSL_IN_CONTENT_LEN
// (MBEDTLS_SSL_MAX_CONTENT_LEN, 16384) [S mbedtls include/mbedtls/ssl.h];
// see Settings.MbedTLSDefaultContentLen.
const mbedTLSInContentLenDefault = 16384

// sockets is the table that turns the stack's errors into this board's
// numbers: the modem's offloaded sockets or Zephyr's native ones.
func (f *Firmware) sockets() errmap.Firmware {
	if f.deps.Native != nil {
		return errmap.ZephyrNative
	}
	return errmap.NRF91Modem
}

// tlsConfig is the socket's TLS setup: mqtt_helper's sec tags and, on a
// native stack, the mbedTLS build's renegotiation support and incoming
// record limit. (The nRF91 modem's TLS is the modem's own; its
// renegotiation support is not documented [U], so the stack is not told
// to refuse one.)
func (f *Firmware) tlsConfig() netstack.TLSConfig {
	tc := netstack.TLSConfig{SecTags: f.cfg.SecTags()}
	if f.deps.Native == nil {
		tc.Renegotiation = tls.RenegotiateOnceAsClient
		return tc
	}
	if f.cfg.MbedTLSRenegotiation {
		tc.Renegotiation = tls.RenegotiateOnceAsClient
	}
	tc.MaxIncomingRecord = f.cfg.MbedTLSMaxContentLen
	if tc.MaxIncomingRecord == 0 {
		tc.MaxIncomingRecord = f.set.MbedTLSDefaultContentLen
	}
	return tc
}

// powerOn is what a boot does to the volatile parts: a volatile TLS
// credentials backend starts empty, certificates_provision has not run.
func (f *Firmware) powerOn() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.certsAdded = false
	if f.deps.Native == nil {
		f.net = f.deps.Net
		return
	}
	if f.cfg.ProtectedStorage {
		f.creds = f.deps.Native.Store
		f.net = f.deps.Native.Stack(f.deps.Native.Store)
		return
	}
	v := &volatileStore{slots: map[credstore.Key][]byte{}}
	f.creds, f.net = v, f.deps.Native.Stack(v)
}

// network is this boot's stack.
func (f *Firmware) network() *netstack.Stack {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.net
}

// loadCertificates is the build's part of CONFIG_MQTT_HELPER_PROVISION_CERTIFICATES:
// the header and the PEM files it includes, compiled into the arrays. A
// header that does not compile fails the build.
func loadCertificates(cfg Config, set Settings) ([]mqttcerts.Array, error) {
	if cfg.CertificatesFolder != "" {
		return loadCertificatesFolder(cfg, set)
	}
	dir := set.CertificatesDir
	if dir == "" && cfg.CertificatesFileFrom != "" {
		dir = filepath.Dir(cfg.CertificatesFileFrom)
	}
	if dir == "" {
		dir = "."
	}
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, &BuildError{Reasons: []string{fmt.Sprintf("CONFIG_MQTT_HELPER_CERTIFICATES_FILE %q: %v", cfg.CertificatesFile, err)}}
	}
	for _, e := range entries {
		name := e.Name()
		// What #include and __has_include can name: headers and PEM files.
		if !e.Type().IsRegular() || !(strings.HasSuffix(name, ".h") || strings.HasSuffix(name, ".pem") || strings.HasSuffix(name, ".inc")) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("azure_iot_hub: %w", err)
		}
		files[name] = b
	}
	if _, ok := files[cfg.CertificatesFile]; !ok {
		return nil, &BuildError{Reasons: []string{fmt.Sprintf("mqtt_helper.c: fatal error: %s: No such file or directory (looked in %s)", cfg.CertificatesFile, dir)}}
	}
	arrays, err := mqttcerts.Parse(cfg.CertificatesFile, mqttcerts.Source{Files: files,
		Config: map[string]int64{mqttcerts.ConfigSecondaryTag: cfg.SecondarySecTag}})
	if err != nil {
		return nil, &BuildError{Reasons: []string{err.Error()}}
	}
	have := map[string]bool{}
	for _, a := range arrays {
		have[a.Name] = true
	}
	var missing []string
	for _, n := range mqttcerts.Arrays(cfg.SecondarySecTag) {
		if !have[n] {
			missing = append(missing, fmt.Sprintf("mqtt_helper.c: error: '%s' undeclared", n))
		}
	}
	if len(missing) > 0 {
		return nil, &BuildError{Reasons: missing}
	}
	return arrays, nil
}

// folderFiles are the files of the folder layout, by the array each fills
// [I: the names of the header layout's __has_include lines].
var folderFiles = map[string]string{
	mqttcerts.ArrayCA: "ca-cert.pem", mqttcerts.ArrayDeviceCert: "client-cert.pem", mqttcerts.ArrayPrivateKey: "private-key.pem",
	mqttcerts.ArrayCA2: "ca-cert-2.pem", mqttcerts.ArrayDeviceCert2: "client-cert-2.pem", mqttcerts.ArrayPrivateKey2: "private-key-2.pem",
}

// loadCertificatesFolder is the NCS ≥ 2.7 layout: each file's bytes and a
// NUL, a missing file an empty array (sizeof 1, skipped).
func loadCertificatesFolder(cfg Config, set Settings) ([]mqttcerts.Array, error) {
	dir := cfg.CertificatesFolder
	if !filepath.IsAbs(dir) {
		base := set.CertificatesDir
		if base == "" && cfg.CertificatesFolderFrom != "" {
			base = filepath.Dir(cfg.CertificatesFolderFrom)
		}
		dir = filepath.Join(base, dir)
	}
	var arrays []mqttcerts.Array
	for _, name := range mqttcerts.Arrays(cfg.SecondarySecTag) {
		b, err := os.ReadFile(filepath.Join(dir, folderFiles[name]))
		switch {
		case errors.Is(err, os.ErrNotExist):
			b = nil
		case err != nil:
			return nil, fmt.Errorf("azure_iot_hub: %w", err)
		}
		arrays = append(arrays, mqttcerts.Array{Name: name, Bytes: append(b, 0)})
	}
	return arrays, nil
}

// provision is certificates_provision, once per boot (its static
// certs_added), into the store the sockets read.
func (f *Firmware) provision() int {
	f.mu.Lock()
	done, store := f.certsAdded, f.creds
	f.mu.Unlock()
	if done || store == nil {
		return 0
	}
	types := netstack.ZephyrSlotTypes()
	ret := mqttcerts.Provision(store, types, f.certs, f.cfg.SecTag, f.cfg.SecondarySecTag, func(level, mod, fn, text string) {
		f.out.log(Msg{Mod: mod, Level: levelOf(level), Func: fn, Format: "%s"}, text)
	})
	if ret == 0 {
		f.mu.Lock()
		f.certsAdded = true
		f.mu.Unlock()
	}
	return ret
}

func levelOf(tag string) Level {
	for l, t := range levelTags {
		if t == tag {
			return l
		}
	}
	return LevelInf
}

// logTLSFailure prints what Zephyr's TLS socket and mbedTLS log for a
// failed connect (before mqtt_helper's own line).
func (f *Firmware) logTLSFailure(err error) {
	if f.deps.Native == nil {
		return
	}
	r := errmap.For(errmap.ZephyrNative, err)
	var re *netstack.RenegotiationRefusedError
	switch {
	case errors.As(err, &re):
		// The handshake went through; the HelloRequest came after the
		// WebSocket request (FAILURE-CASES WS1).
		f.mbedDebug(dbgHandshakeEnd)
		f.mbedDebug(dbgRefuseReneg)
		f.mbedDebug(dbgFetchInput, errmap.MbedTLSSSLConnEOF, -errmap.MbedTLSSSLConnEOF)
	case r.Class == netstack.ClassBadCredential:
		// Only the CA's parse failure is logged; a bad own certificate or
		// key returns -EINVAL silently [S sockets_tls.c tls_add_ca_certificate,
		// tls_set_own_cert, tls_set_private_key].
		var ce *netstack.CredentialError
		if errors.As(err, &ce) && ce.Type == netstack.ZephyrSlotTypes().CA {
			f.out.log(mTLSParseCA, -r.MbedTLS)
		}
	case r.Class == netstack.ClassRecordTooLarge:
		f.mbedDebug(dbgBadMsgLen)
		f.mbedDebug(dbgReadRecord, r.MbedTLS, -r.MbedTLS)
		f.out.log(mTLSHandshake, -r.MbedTLS)
	case r.MbedTLS != 0 && r.Errno == -errmap.ECONNABORTED:
		f.out.log(mTLSHandshake, -r.MbedTLS)
	}
}

// logTLSStart prints mbedTLS's first debug lines of a handshake.
func (f *Firmware) logTLSStart() {
	if f.deps.Native == nil {
		return
	}
	f.mbedDebug(dbgHandshakeStart)
	f.mbedDebug(dbgFlushStart)
	f.mbedDebug(dbgFlushEnd)
}

// mbedDebug prints an mbedTLS debug line as Zephyr's debug hook does: the
// level picks the log level (1 err, 2 wrn, 3 inf, 4 dbg), the text is
// `<file>:<line>: <message>` [S zephyr modules/mbedtls debug hook; T the
// WS thread's `<wrn> mbedtls: ssl_tls.c:3914: => handshake`].
func (f *Firmware) mbedDebug(d mbedDebugLine, args ...any) {
	if d.level > f.cfg.MbedTLSDebugLevel {
		return
	}
	lvl := []Level{LevelErr, LevelErr, LevelWrn, LevelInf, LevelDbg}[min(d.level, 4)]
	line := d.line
	if n, ok := f.set.MbedTLSLineNumbers[d.text]; ok {
		line = n
	}
	f.out.log(Msg{Mod: ModMbedTLS, Level: lvl, Format: "%s:%04d: %s"}, d.file, line, fmt.Sprintf(d.text, args...))
}

// mbedDebugLine is one MBEDTLS_SSL_DEBUG_* statement: level, file, line
// and text. The three lines of the WS thread are [T]; the texts of the
// others are mbedTLS's [S mbedtls 3.x library/ssl_msg.c, ssl_tls.c], their
// line numbers are not known and are placeholders [U]
// (Settings.MbedTLSLineNumbers replaces them).
type mbedDebugLine struct {
	level      int
	file       string
	line       int
	text       string
	lineSource string
}

var (
	dbgHandshakeStart = mbedDebugLine{2, "ssl_tls.c", 3914, "=> handshake", "T"}
	dbgFlushStart     = mbedDebugLine{2, "ssl_msg.c", 2358, "=> flush output", "T"}
	dbgFlushEnd       = mbedDebugLine{2, "ssl_msg.c", 2367, "<= flush output", "T"}
	dbgHandshakeEnd   = mbedDebugLine{2, "ssl_tls.c", 3934, "<= handshake", "U"}
	dbgRefuseReneg    = mbedDebugLine{3, "ssl_msg.c", 5536, "refusing renegotiation, sending alert", "U"}
	dbgFetchInput     = mbedDebugLine{1, "ssl_msg.c", 3827, "mbedtls_ssl_fetch_input() returned %d (-0x%04x)", "U"}
	dbgBadMsgLen      = mbedDebugLine{1, "ssl_msg.c", 3636, "bad message length", "U"}
	dbgReadRecord     = mbedDebugLine{1, "ssl_msg.c", 3782, "mbedtls_ssl_read_record() returned %d (-0x%04x)", "U"}
)

// volatileStore is Zephyr's volatile TLS credentials backend: RAM, empty
// at every boot, as tls_credential_add fills it.
type volatileStore struct {
	mu    sync.Mutex
	slots map[credstore.Key][]byte
}

func (v *volatileStore) Get(k credstore.Key) (credstore.Entry, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.slots[k]
	if !ok {
		return credstore.Entry{}, fmt.Errorf("volatile TLS credentials %v: %w", k, credstore.ErrNotFound)
	}
	return credstore.Entry{Key: k, Digest: sha256.Sum256(b), Size: len(b)}, nil
}

func (v *volatileStore) Use(k credstore.Key) ([]byte, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.slots[k]
	if !ok {
		return nil, fmt.Errorf("volatile TLS credentials %v: %w", k, credstore.ErrNotFound)
	}
	return append([]byte(nil), b...), nil
}

func (v *volatileStore) Put(k credstore.Key, b []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.slots[k] = append([]byte(nil), b...)
	return nil
}
