package modemkey_test

import (
	"crypto/rand"
	"fmt"
	"log"

	"github.com/modemsim/modemsim/modemkey"
)

// What a board does for AT%KEYGEN=16842753,2,0: make a key, build the CSR,
// wrap it in the identity-signed COSE envelope.
func Example() {
	id, err := modemkey.NewIdentity(rand.Reader) // once per board, kept in its state dir
	if err != nil {
		log.Fatal(err)
	}
	uuid, _ := modemkey.ParseUUID("50363154-3931-44f0-8022-121b6401627d")

	key, err := modemkey.GenerateKey(rand.Reader) // stored at (16842753, 2)
	if err != nil {
		log.Fatal(err)
	}
	csr, err := modemkey.BuildCSR(rand.Reader, key, modemkey.FormatUUID(uuid), modemkey.CSROptions{NullParam: true})
	if err != nil {
		log.Fatal(err)
	}
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		log.Fatal(err)
	}
	resp, err := id.KeygenResponse(rand.Reader, csr, uuid, 16842753, nonce)
	if err != nil {
		log.Fatal(err)
	}
	// The AT line is: %KEYGEN: "<resp>"

	// A host tool's view of it.
	m, err := modemkey.ParseKeygenResponse(resp)
	if err != nil {
		log.Fatal(err)
	}
	req, err := modemkey.ParseCSR(m.Body)
	if err != nil {
		log.Fatal(err)
	}
	_, err = modemkey.VerifyCOSE(&id.Key.PublicKey, m.COSE, nil)
	fmt.Println(m.MsgID, m.SecTag, req.Subject.CommonName, req.CheckSignature() == nil, err == nil)
	// Output: 9 16842753 50363154-3931-44f0-8022-121b6401627d true true
}
