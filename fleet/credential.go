package fleet

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/modemsim/modemsim/nrf91modem"
)

// Credential is one credential preloaded into a board's store before it
// first answers, as if written with AT%CMNG=0,<tag>,<type>,"<content>".
type Credential struct {
	Tag  uint32
	Type int // %CMNG type, 0–11 (nrf91.md §2)
	// File is the path the content was read from (relative paths are
	// relative to the fleet file's directory); "" for inline PEM.
	File string
	// PEM is the inline content as written in the fleet file; "" for a file.
	PEM string
	// Content is what the store gets: the file's bytes or the inline PEM,
	// verbatim. Boards that name the same file share one slice: do not
	// modify it.
	Content []byte
}

// credentialTypes are the %CMNG type names nrfcredstore uses (CredType in
// nrfcredstore's credstore.py [S]), plus the spelled-out aliases
// PSK_IDENTITY and PUBLIC_KEY.
var credentialTypes = []struct {
	names []string
	typ   int
}{
	{[]string{"ROOT_CA_CERT"}, nrf91modem.TypeRootCA},
	{[]string{"CLIENT_CERT"}, nrf91modem.TypeClientCert},
	{[]string{"CLIENT_KEY"}, nrf91modem.TypeClientKey},
	{[]string{"PSK"}, nrf91modem.TypePSK},
	{[]string{"PSK_ID", "PSK_IDENTITY"}, nrf91modem.TypePSKIdentity},
	{[]string{"PUB_KEY", "PUBLIC_KEY"}, nrf91modem.TypePublicKey},
	{[]string{"DEV_ID_PUB_KEY"}, nrf91modem.TypeIdentityPubKey},
	{[]string{"RESERVED"}, nrf91modem.TypeReserved},
	{[]string{"ENDORSEMENT_KEY"}, nrf91modem.TypeEndorsementKey},
	{[]string{"OWNERSHIP_KEY"}, nrf91modem.TypeOwnershipKey},
	{[]string{"NORDIC_ID_ROOT_CA"}, nrf91modem.TypeNordicRootCA},
	{[]string{"NORDIC_PUB_KEY"}, nrf91modem.TypeNordicBasePubKey},
}

// CredentialType parses a %CMNG credential type: a number 0–11 or a name
// such as ROOT_CA_CERT (case does not matter).
func CredentialType(s string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		for _, t := range credentialTypes {
			if t.typ == n {
				return n, nil
			}
		}
		return 0, fmt.Errorf("credential type %d is not a %%CMNG type (0–%d)", n, credentialTypes[len(credentialTypes)-1].typ)
	}
	upper := strings.ToUpper(strings.TrimSpace(s))
	for _, t := range credentialTypes {
		if slices.Contains(t.names, upper) {
			return t.typ, nil
		}
	}
	return 0, fmt.Errorf("unknown credential type %q (want 0–%d or one of %s)", s, credentialTypes[len(credentialTypes)-1].typ, strings.Join(CredentialTypeNames(), ", "))
}

// CredentialTypeName is the nrfcredstore name of a %CMNG type, or its
// number when it has none.
func CredentialTypeName(typ int) string {
	for _, t := range credentialTypes {
		if t.typ == typ {
			return t.names[0]
		}
	}
	return strconv.Itoa(typ)
}

// CredentialTypeNames lists the names CredentialType accepts, by type.
func CredentialTypeNames() []string {
	var names []string
	for _, t := range credentialTypes {
		names = append(names, t.names...)
	}
	return names
}
