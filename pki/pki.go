// Package pki holds the emulator's certificate authorities: stand-in roots
// that carry the names, key sizes, signature algorithms and validity dates of
// the real Azure roots (Baltimore CyberTrust Root, DigiCert Global Root G2,
// Microsoft RSA Root Certificate Authority 2017), the issuing CAs of each era
// below them, TLS server chains for the hub and DPS, and helpers that make
// device certificates, verification (proof-of-possession) certificates and
// sign CSRs.
//
// The stand-ins have their own keys and key ids, so they never verify as
// the real roots, and a trust store holding both builds paths through the
// stand-in. RealRoots and LookupRealRoot let the device side recognise the
// real public PEM of a root by its fingerprint and use the stand-in of the
// same name (DESIGN.md "Real roots vs stand-ins"); RealKeyID maps a served
// key id back to the real one.
//
// Generated material lives as PEM files in one state directory, is made once
// and reused by later runs.
package pki

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modemsim/modemsim/atomicfile"
)

// Validity windows of issued certificates, relative to the simulation clock.
// [I] Real Azure issuing CAs live 3–8 years and server leaves about a year
// or less; only "valid now, expired later" matters to devices.
const (
	issuingBackdate = 2 * 365 * 24 * time.Hour
	issuingLifetime = 3 * 365 * 24 * time.Hour
	leafBackdate    = 7 * 24 * time.Hour
	leafLifetime    = 180 * 24 * time.Hour
)

// Option configures a PKI.
type Option func(*options)

type options struct {
	log *slog.Logger
	now func() time.Time
}

// WithLogger sets the logger (default: discard).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l != nil {
			o.log = l
		}
	}
}

// WithClock sets the simulation clock. Issuing CAs and server leaves are
// valid around its time, and are re-issued when it moves outside their
// window; the stand-in roots keep the real roots' dates.
func WithClock(now func() time.Time) Option {
	return func(o *options) {
		if now != nil {
			o.now = now
		}
	}
}

// PKI is the set of stand-in authorities kept in one state directory. It is
// safe for concurrent use; independent items (different roots, different
// host sets) are generated in parallel.
type PKI struct {
	dir  string
	log  *slog.Logger
	now  func() time.Time
	rand io.Reader

	mu      sync.Mutex // guards the maps below; never held while generating
	locks   map[string]*sync.Mutex
	roots   map[RootName]*Authority
	issuing map[RootName]*Authority
	caKeys  map[string]crypto.Signer

	cacheMu sync.RWMutex // guards servers: the handshake fast path
	servers map[string]*serverEntry
}

// lock takes the mutex of one generated item (a root, an issuing CA, a key,
// a server certificate) and returns its unlock.
func (p *PKI) lock(kind, name string) func() {
	key := kind + "\x00" + name
	p.mu.Lock()
	m := p.locks[key]
	if m == nil {
		m = new(sync.Mutex)
		p.locks[key] = m
	}
	p.mu.Unlock()
	m.Lock()
	return m.Unlock
}

type serverEntry struct {
	cert    tls.Certificate
	issuing *x509.Certificate
}

func validAt(c *x509.Certificate, t time.Time) bool {
	return !t.Before(c.NotBefore) && !t.After(c.NotAfter)
}

func (e *serverEntry) validAt(t time.Time) bool {
	return validAt(e.cert.Leaf, t) && validAt(e.issuing, t)
}

// LoadOrCreate opens the PKI kept in dir, creating dir if needed. Roots,
// issuing CAs and server certificates are generated on first use, written to
// dir, and loaded from there afterwards; concurrent users of the same dir
// (goroutines or processes) end up with the same roots.
func LoadOrCreate(dir string, opts ...Option) (*PKI, error) {
	o := options{
		log: slog.New(slog.DiscardHandler),
		now: time.Now,
	}
	for _, f := range opts {
		f(&o)
	}
	if dir == "" {
		return nil, errors.New("pki: empty state directory")
	}
	if err := os.MkdirAll(dir, dirPerm); err != nil {
		return nil, fmt.Errorf("pki: state directory: %w", err)
	}
	// A crash mid-write leaves a temp file holding a CA or server key.
	// Running emulators may share the directory (--pki), so only files
	// older than any write in flight are leftovers.
	removed, err := atomicfile.RemoveTemps(dir, leftoverAge)
	if err != nil {
		return nil, fmt.Errorf("pki: state directory: %w", err)
	}
	if len(removed) > 0 {
		o.log.Info("pki: removed leftovers of interrupted writes", "dir", dir, "files", removed)
	}
	return &PKI{
		dir:     dir,
		log:     o.log,
		now:     o.now,
		rand:    rand.Reader,
		locks:   make(map[string]*sync.Mutex),
		roots:   make(map[RootName]*Authority),
		issuing: make(map[RootName]*Authority),
		caKeys:  make(map[string]crypto.Signer),
		servers: make(map[string]*serverEntry),
	}, nil
}

// Dir is the state directory.
func (p *PKI) Dir() string { return p.dir }

// Root returns the stand-in root of that name. The Authority is shared: do
// not modify it.
func (p *PKI) Root(name RootName) (*Authority, error) {
	if err := checkRoot(name); err != nil {
		return nil, err
	}
	defer p.lock("root", string(name))()
	p.mu.Lock()
	a := p.roots[name]
	p.mu.Unlock()
	if a != nil {
		return a, nil
	}
	a, err := p.loadOrCreateRoot(name)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.roots[name] = a
	p.mu.Unlock()
	return a, nil
}

// RootPool returns a pool holding the named stand-in roots (all when none
// are named): the trust store of a device that trusts those roots.
func (p *PKI) RootPool(names ...RootName) (*x509.CertPool, error) {
	if len(names) == 0 {
		names = RootNames()
	}
	pool := x509.NewCertPool()
	for _, n := range names {
		a, err := p.Root(n)
		if err != nil {
			return nil, err
		}
		pool.AddCert(a.Cert)
	}
	return pool, nil
}

// IssuingCA returns the issuing CA currently used below the stand-in root
// (re-issued when the clock left its window). Shared: do not modify.
func (p *PKI) IssuingCA(root RootName) (*Authority, error) {
	if err := checkRoot(root); err != nil {
		return nil, err
	}
	return p.issuingCA(root, p.now())
}

// checkRoot rejects unknown names before anything (a lock, a file name) is
// made for them.
func checkRoot(name RootName) error {
	if _, ok := rootSpecs(name); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownRoot, name)
	}
	if _, ok := realRoot(name); !ok {
		return fmt.Errorf("%w: %q", ErrUnknownRoot, name)
	}
	return nil
}

func slug(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '-'
	}, s)
}

func (p *PKI) rootPath(name RootName) string {
	return filepath.Join(p.dir, "root-"+slug(string(name))+".pem")
}

func (p *PKI) loadOrCreateRoot(name RootName) (*Authority, error) {
	spec, _ := rootSpecs(name)
	facts, _ := realRoot(name)
	path := p.rootPath(name)
	a, err := loadRoot(path, name)
	if errors.Is(err, fs.ErrNotExist) {
		start := time.Now()
		a, err = newStandInRoot(p.rand, name, spec, facts)
		if err != nil {
			return nil, err
		}
		data, err := encodeBundle(a)
		if err != nil {
			return nil, err
		}
		switch err := createExclusive(path, data); {
		case errors.Is(err, fs.ErrExist):
			// Someone else published first: theirs is the root of this dir.
			a, err = loadRoot(path, name)
			if err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			p.log.Info("pki: generated stand-in root", "root", name,
				"sha256", ThumbprintSHA256(a.Cert), "took", time.Since(start).Round(time.Millisecond))
		}
	} else if err != nil {
		return nil, err
	}
	if bytes.Equal(a.Cert.SubjectKeyId, mustHex(facts.SubjectKeyID)) {
		// A stand-in made before issue 12 copied the real key id; re-sign it
		// with the same key (and its own key id) so path building stops
		// picking the real root. The issuing CAs follow (loadIssuing checks
		// their Authority Key Identifier).
		if a, err = p.reissueRoot(path, name, spec, facts, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// reissueRoot re-signs a stored stand-in with its own key and key id and
// replaces the file.
func (p *PKI) reissueRoot(path string, name RootName, spec rootSpec, facts RealRoot, old *Authority) (*Authority, error) {
	a, err := signStandInRoot(p.rand, name, spec, facts, old.Key)
	if err != nil {
		return nil, err
	}
	data, err := encodeBundle(a)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(path, data); err != nil {
		return nil, err
	}
	p.log.Info("pki: re-issued stand-in root with its own key id (it carried the real root's)", "root", name,
		"sha256", ThumbprintSHA256(a.Cert))
	return a, nil
}

func loadRoot(path string, name RootName) (*Authority, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fs.ErrNotExist
		}
		return nil, fmt.Errorf("pki: read root: %w", err)
	}
	a, err := decodeBundle(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, path, err)
	}
	if a.Cert.Subject.CommonName != string(name) || !a.Cert.IsCA ||
		string(a.Cert.RawSubject) != string(a.Cert.RawIssuer) {
		return nil, fmt.Errorf("%w: %s does not hold the self-signed root %q", ErrCorrupt, path, name)
	}
	return a, nil
}

func newStandInRoot(r io.Reader, name RootName, spec rootSpec, facts RealRoot) (*Authority, error) {
	key, err := generateKey(r, rsaKeyType(spec.keyBits))
	if err != nil {
		return nil, err
	}
	return signStandInRoot(r, name, spec, facts, key)
}

func signStandInRoot(r io.Reader, name RootName, spec rootSpec, facts RealRoot, key crypto.Signer) (*Authority, error) {
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject,
		NotBefore:             facts.NotBefore,
		NotAfter:              facts.NotAfter,
		KeyUsage:              spec.keyUsage,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            spec.maxPathLen,
		// No SubjectKeyId: crypto/x509 derives it from the stand-in's own
		// key (RFC 5280 §4.2.1.2), never the real root's (see RealRoot.SubjectKeyID).
		SignatureAlgorithm: spec.sigAlg,
	}
	c, err := sign(r, tmpl, key.Public(), nil, key)
	if err != nil {
		return nil, fmt.Errorf("pki: stand-in %q: %w", name, err)
	}
	return &Authority{Cert: c, Key: key}, nil
}

func (p *PKI) issuingPath(root RootName) string {
	return filepath.Join(p.dir, "issuing-"+slug(string(root))+".pem")
}

// issuingCA returns the issuing CA below root that is valid at now, loading
// or (re-)signing it as needed. Its key lives in its own file, shared by every
// certificate of that CA name: re-issuing for a new date only re-signs, and
// "Microsoft Azure RSA TLS Issuing CA 03" under DigiCert G2 and under
// Microsoft RSA Root 2017 are cross-certificates of one key, as the real
// "xsign" certificates are.
func (p *PKI) issuingCA(root RootName, now time.Time) (*Authority, error) {
	defer p.lock("issuing", string(root))()
	p.mu.Lock()
	cached := p.issuing[root]
	p.mu.Unlock()
	if cached != nil && validAt(cached.Cert, now) {
		return cached, nil
	}
	spec, ok := rootSpecs(root)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownRoot, root)
	}
	ra, err := p.Root(root)
	if err != nil {
		return nil, err
	}
	key, err := p.caKey(spec.issuing)
	if err != nil {
		return nil, err
	}
	a, err := p.loadIssuing(root, spec.issuing, ra, key, now)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.issuing[root] = a
	p.mu.Unlock()
	return a, nil
}

func (p *PKI) loadIssuing(root RootName, spec issuingSpec, ra *Authority, key crypto.Signer, now time.Time) (*Authority, error) {
	path := p.issuingPath(root)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		a, err := decodeBundle(b)
		if err == nil && validAt(a.Cert, now) && a.Cert.CheckSignatureFrom(ra.Cert) == nil &&
			bytes.Equal(a.Cert.AuthorityKeyId, ra.Cert.SubjectKeyId) &&
			samePublicKey(a.Key, key) && a.Cert.Subject.CommonName == spec.subject.CommonName {
			return a, nil
		}
		p.log.Info("pki: stored issuing CA does not fit, re-issuing", "root", root, "file", path,
			"err", err, "now", now)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("pki: read issuing CA: %w", err)
	}
	a, err := newIssuingCA(p.rand, spec, ra, key, now)
	if err != nil {
		return nil, err
	}
	data, err := encodeBundle(a)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(path, data); err != nil {
		return nil, err
	}
	p.log.Info("pki: issued issuing CA", "root", root, "ca", a.Cert.Subject.CommonName,
		"notBefore", a.Cert.NotBefore, "notAfter", a.Cert.NotAfter)
	return a, nil
}

func samePublicKey(a, b crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	pa, ok := a.Public().(equaler)
	return ok && pa.Equal(b.Public())
}

// caKey loads or generates the private key of an issuing CA name.
func (p *PKI) caKey(spec issuingSpec) (crypto.Signer, error) {
	cn := spec.subject.CommonName
	defer p.lock("cakey", cn)()
	p.mu.Lock()
	k := p.caKeys[cn]
	p.mu.Unlock()
	if k != nil {
		return k, nil
	}
	path := filepath.Join(p.dir, "cakey-"+slug(cn)+".pem")
	k, err := readKeyFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		start := time.Now()
		k, err = generateKey(p.rand, rsaKeyType(spec.keyBits))
		if err != nil {
			return nil, err
		}
		data, err := encodeKeyPEM(k)
		if err != nil {
			return nil, err
		}
		switch err := createExclusive(path, data); {
		case errors.Is(err, fs.ErrExist):
			if k, err = readKeyFile(path); err != nil {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			p.log.Info("pki: generated issuing CA key", "ca", cn, "took", time.Since(start).Round(time.Millisecond))
		}
	} else if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.caKeys[cn] = k
	p.mu.Unlock()
	return k, nil
}

// CA/Browser Forum policy OIDs the real issuing CAs carry (domain- and
// organisation-validated), seen in Microsoft Azure RSA TLS Issuing CA 03.
var (
	oidPolicyDV = []uint64{2, 23, 140, 1, 2, 1}
	oidPolicyOV = []uint64{2, 23, 140, 1, 2, 2}
)

func policies(oids ...[]uint64) ([]x509.OID, error) {
	out := make([]x509.OID, 0, len(oids))
	for _, o := range oids {
		oid, err := x509.OIDFromInts(o)
		if err != nil {
			return nil, fmt.Errorf("pki: policy OID: %w", err)
		}
		out = append(out, oid)
	}
	return out, nil
}

func newIssuingCA(r io.Reader, spec issuingSpec, root *Authority, key crypto.Signer, now time.Time) (*Authority, error) {
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	pols, err := policies(oidPolicyDV, oidPolicyOV)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               spec.subject,
		NotBefore:             now.Add(-issuingBackdate).UTC().Truncate(time.Second),
		NotAfter:              now.Add(issuingLifetime).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLen:            0,
		MaxPathLenZero:        true,
		OCSPServer:            spec.ocsp,
		IssuingCertificateURL: spec.caIssuers,
		CRLDistributionPoints: spec.crl,
		Policies:              pols,
		SignatureAlgorithm:    spec.sigAlg,
	}
	c, err := sign(r, tmpl, key.Public(), root, nil)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: c, Key: key}, nil
}

// hostSet is a normalised, de-duplicated host list: order as given (for the
// SAN order), plus a sorted copy (for the cache key).
type hostSet struct {
	ordered []string
	sorted  []string
}

func normalizeHosts(hosts []string) (hostSet, error) {
	var hs hostSet
	seen := make(map[string]bool, len(hosts))
	for _, h := range hosts {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h == "" {
			continue
		}
		if ip, err := netip.ParseAddr(h); err == nil {
			h = ip.Unmap().String()
		}
		if seen[h] {
			continue
		}
		seen[h] = true
		hs.ordered = append(hs.ordered, h)
	}
	if len(hs.ordered) == 0 {
		return hs, ErrNoHosts
	}
	hs.sorted = slices.Sorted(slices.Values(hs.ordered))
	return hs, nil
}

// commonName is the first DNS name, or the first address if there is none.
func (hs hostSet) commonName() string {
	for _, h := range hs.ordered {
		if _, err := netip.ParseAddr(h); err != nil {
			return h
		}
	}
	return hs.ordered[0]
}

func (hs hostSet) key(root RootName) string {
	return string(root) + "\x00" + strings.Join(hs.sorted, ",")
}

func (hs hostSet) id() string {
	sum := sha256.Sum256([]byte(strings.Join(hs.sorted, ",")))
	return hex.EncodeToString(sum[:6])
}

// sans returns the host set a certificate covers, normalised like normalizeHosts.
func sans(c *x509.Certificate) []string {
	var out []string
	for _, d := range c.DNSNames {
		out = append(out, strings.ToLower(d))
	}
	for _, ip := range c.IPAddresses {
		if a, ok := netip.AddrFromSlice(ip); ok {
			out = append(out, a.Unmap().String())
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// ServerCertificate returns a TLS server certificate for hosts (DNS names,
// wildcards such as "*.azure-devices.net", or IP addresses) whose chain ends
// in the stand-in root `root`: the leaf and the issuing CA of the real era
// (not the root, as real servers send it). Under DigiCert Global Root G2 and
// Microsoft RSA Root 2017 the issuing CA is "Microsoft Azure RSA TLS Issuing
// CA 03", under Baltimore "Microsoft IT TLS CA 4". The leaf is RSA 2048 with
// serverAuth; chains have the key sizes and extensions of the real ones
// (FAILURE-CASES WS4). Results are cached and persisted per (root, host set)
// and re-issued when the clock leaves their validity window.
func (p *PKI) ServerCertificate(root RootName, hosts []string) (tls.Certificate, error) {
	if err := checkRoot(root); err != nil {
		return tls.Certificate{}, err
	}
	now := p.now()
	// Fast path keyed by the list exactly as given: callers pass the same
	// slice on every handshake, so this avoids normalising it each time.
	given := string(root) + "\x01" + strings.Join(hosts, "\x00")
	p.cacheMu.RLock()
	e := p.servers[given]
	p.cacheMu.RUnlock()
	if e != nil && e.validAt(now) {
		return e.cert, nil
	}
	hs, err := normalizeHosts(hosts)
	if err != nil {
		return tls.Certificate{}, err
	}
	key := hs.key(root)
	p.cacheMu.RLock()
	e = p.servers[key]
	p.cacheMu.RUnlock()
	if e != nil && e.validAt(now) {
		p.cacheMu.Lock()
		p.servers[given] = e
		p.cacheMu.Unlock()
		return e.cert, nil
	}

	defer p.lock("server", key)()
	p.cacheMu.RLock()
	e = p.servers[key]
	p.cacheMu.RUnlock()
	if e != nil && e.validAt(now) {
		return e.cert, nil
	}
	issuing, err := p.issuingCA(root, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	leaf, err := p.serverLeafLocked(root, issuing, hs, now)
	if err != nil {
		return tls.Certificate{}, err
	}
	e = &serverEntry{
		cert: tls.Certificate{
			Certificate: [][]byte{leaf.Cert.Raw, issuing.Cert.Raw},
			PrivateKey:  leaf.Key,
			Leaf:        leaf.Cert,
		},
		issuing: issuing.Cert,
	}
	p.cacheMu.Lock()
	p.servers[key] = e
	p.servers[given] = e
	p.cacheMu.Unlock()
	return e.cert, nil
}

func (p *PKI) serverPath(root RootName, hs hostSet) string {
	return filepath.Join(p.dir, "server-"+slug(string(root))+"-"+hs.id()+".pem")
}

func (p *PKI) serverLeafLocked(root RootName, issuing *Authority, hs hostSet, now time.Time) (*Authority, error) {
	path := p.serverPath(root, hs)
	if b, err := os.ReadFile(path); err == nil {
		a, err := decodeBundle(b)
		if err == nil && validAt(a.Cert, now) && slices.Equal(sans(a.Cert), hs.sorted) &&
			a.Cert.CheckSignatureFrom(issuing.Cert) == nil {
			return a, nil
		}
		p.log.Debug("pki: stored server certificate unusable, re-issuing", "root", root, "file", path, "err", err)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("pki: read server certificate: %w", err)
	}
	spec, _ := rootSpecs(root)
	a, err := newServerLeaf(p.rand, spec.issuing, issuing, hs, now)
	if err != nil {
		return nil, err
	}
	data, err := encodeBundle(a)
	if err != nil {
		return nil, err
	}
	if err := replaceFile(path, data); err != nil {
		return nil, err
	}
	p.log.Info("pki: issued server certificate", "root", root, "issuer", issuing.Cert.Subject.CommonName,
		"hosts", hs.ordered, "notAfter", a.Cert.NotAfter, "sha1", ThumbprintSHA1(a.Cert))
	return a, nil
}

func newServerLeaf(r io.Reader, spec issuingSpec, issuing *Authority, hs hostSet, now time.Time) (*Authority, error) {
	key, err := generateKey(r, RSA2048)
	if err != nil {
		return nil, err
	}
	serial, err := serialNumber(r)
	if err != nil {
		return nil, err
	}
	pols, err := policies(oidPolicyOV)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		// [I] Microsoft's server certificates name the organisation; the
		// CN is the first DNS name (the hub's name in real chains).
		Subject:               serverSubject(hs.commonName()),
		NotBefore:             now.Add(-leafBackdate).UTC().Truncate(time.Second),
		NotAfter:              now.Add(leafLifetime).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		OCSPServer:            spec.leafOCSP,
		IssuingCertificateURL: spec.leafCAIssuers,
		CRLDistributionPoints: spec.leafCRL,
		Policies:              pols,
		SignatureAlgorithm:    spec.leafSigAlg,
	}
	for _, h := range hs.ordered {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	c, err := sign(r, tmpl, key.Public(), issuing, nil)
	if err != nil {
		return nil, err
	}
	return &Authority{Cert: c, Key: key}, nil
}

func serverSubject(cn string) pkix.Name {
	return pkix.Name{
		Country:      []string{"US"},
		Province:     []string{"WA"},
		Locality:     []string{"Redmond"},
		Organization: []string{"Microsoft Corporation"},
		CommonName:   cn,
	}
}
