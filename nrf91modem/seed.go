package nrf91modem

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"time"

	"github.com/modemsim/modemsim/credstore"
)

// Nordic's reserved entries that an nRF91x1 lists next to the user's: real
// devices list entries at 4294967292–4294967294 (nrfcredstore's deleteall
// skips exactly those tags [S]) and types 10/11 exist there [S]. Which type
// sits at which tag, and their content, is not public [U]: these are
// stand-ins with the documented meaning of each type.
var nordicReserved = []struct {
	Tag  uint32
	Type int
}{
	{4294967292, TypeNordicRootCA},
	{4294967293, TypeNordicBasePubKey},
	{4294967294, TypeIdentityPubKey},
}

// SeedNordicCredentials writes Nordic's reserved entries into a new board's
// store if its model has them. identityPub is the board identity public key
// (type 6). Existing entries are left alone.
func SeedNordicCredentials(r io.Reader, store *credstore.Store, model Model, identityPubPEM []byte) error {
	if !model.SeedsNordic {
		return nil
	}
	tags := make([]uint32, len(nordicReserved))
	for i, e := range nordicReserved {
		tags[i] = e.Tag
	}
	if err := store.MakeTagDirs(tags...); err != nil { // one directory sync for the three
		return fmt.Errorf("seed: %w", err)
	}
	for _, e := range nordicReserved {
		key := credstore.Key{Tag: e.Tag, Type: e.Type}
		if _, err := store.Get(key); err == nil {
			continue
		} else if !errors.Is(err, credstore.ErrNotFound) {
			return fmt.Errorf("seed %d/%d: %w", e.Tag, e.Type, err)
		}
		var content []byte
		var err error
		switch e.Type {
		case TypeIdentityPubKey:
			content = identityPubPEM
		case TypeNordicRootCA:
			content, err = standInNordicRoot(r)
		default:
			content, err = standInPublicKey(r)
		}
		if err != nil {
			return fmt.Errorf("seed %d/%d: %w", e.Tag, e.Type, err)
		}
		if err := store.Put(key, content); err != nil {
			return fmt.Errorf("seed %d/%d: %w", e.Tag, e.Type, err)
		}
	}
	return nil
}

func standInNordicRoot(r io.Reader) ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Nordic Identity Root CA (modemsim stand-in)", Organization: []string{"Nordic Semiconductor ASA"}},
		NotBefore:             time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2051, 1, 1, 0, 0, 0, 0, time.UTC),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(r, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}

func standInPublicKey(r io.Reader) ([]byte, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), r)
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}
