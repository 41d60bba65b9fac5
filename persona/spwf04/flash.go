package spwf04

import "errors"

// TLSItem is one entry of the module's TLS certificate store
// (`AT+S.TLSCERT=<item>,<len>`) [S spwf04.md §4].
type TLSItem string

// The store's entries.
const (
	TLSCA   TLSItem = "ca"   // trusted CA, PEM or DER
	TLSCert TLSItem = "cert" // the module's client certificate
	TLSKey  TLSItem = "key"  // the client private key
	TLSAuth TLSItem = "auth" // the CA's key identifier, raw bytes ("Peer CA Authority Key Id")
)

// TLSItems lists the entries in the order `TLSCERT=content,1` prints them.
func TLSItems() []TLSItem { return []TLSItem{TLSCA, TLSCert, TLSKey, TLSAuth} }

// FileInfo is one file of the module's user-flash volume.
type FileInfo struct {
	Name string
	Size int
}

// ErrNoFile is returned by a Flash for a file or entry that does not exist.
var ErrNoFile = errors.New("spwf04: no such file")

// Flash is the module's non-volatile memory as the firmware uses it: the
// saved configuration (WCFG), the TLS certificate store and the user-flash
// file system. The board keeps it (board.SPWF04) so it survives reboots and
// re-flashing; every write must be durable when it returns.
type Flash interface {
	// SavedConfig is the configuration WCFG saved, nil if none (factory).
	SavedConfig() (map[string]string, error)
	// SaveConfig stores the configuration; nil erases it (factory).
	SaveConfig(vars map[string]string) error

	TLS(item TLSItem) ([]byte, error) // ErrNoFile if empty
	PutTLS(item TLSItem, data []byte) error
	CleanTLS() error

	Files() ([]FileInfo, error) // sorted by name
	ReadFile(name string) ([]byte, error)
	WriteFile(name string, data []byte) error
	DeleteFile(name string) error
	RenameFile(from, to string) error
}
