// Package serviceapi serves the service-side REST API of the emulated IoT
// Hub and DPS, the one the official service SDKs use (Node `azure-iothub`,
// `azure-iot-provisioning-service`; az CLI and the other SDKs call the same
// routes): device identities (create, get, update, delete, list; SAS and
// X.509), twins (get, patch desired properties and tags), direct methods,
// and DPS individual enrollments, enrollment groups and registration
// states. Requests are authorized with `SharedAccessSignature` tokens of a
// shared access policy (the hub's `iothubowner`, `registryReadWrite`,
// `service`…, DPS's `provisioningserviceowner`), exactly as the SDKs sign
// them from a connection string.
//
// The API is served on the hub's HTTPS port (the WebSocket port, 443 on the
// real service) with the emulator's server certificate; the Host header (or
// the SNI) chooses hub or DPS. Paths, api-versions, headers and bodies are
// those the Node SDKs send (sources named next to each fact in facts.go).
//
// Deviations: modules, bulk operations, queries with a SQL filter, jobs and
// configurations are not emulated (404 with the hub's error body); DPS
// enrollments keep only what the emulator's DPS uses (attestation, device
// id, provisioning status); TPM attestation is refused (400).
package serviceapi
